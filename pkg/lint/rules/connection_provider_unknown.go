package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "connection-provider-unknown",
		Severity: Error,
		Category: CatConnection,
		Summary:  "A connection config names a provider that is not supported.",
		Doc: "The only provider (driver) Gatekeeper supports is `dapr`; the audit refuses any " +
			"other name, including other spellings such as `Dapr`.",
		Remediation: "Set the provider to `dapr`.",
		Check:       checkConnectionProviderUnknown,
	})
}

func checkConnectionProviderUnknown(s *Setup, r *Reporter) {
	valid := schemas.Providers()
	for _, c := range s.Connections {
		if !c.HasProvider || strings.TrimSpace(c.Provider) == "" || c.KnownProvider() {
			continue
		}
		r.Report(c.Obj, c.ProviderPath(), "provider %q is not supported: valid providers are %s%s",
			c.Provider, strings.Join(valid, ", "), didYouMean(c.Provider, valid))
	}
}
