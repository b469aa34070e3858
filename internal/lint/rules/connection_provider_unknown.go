package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "connection-provider-unknown",
		Severity: Error,
		Category: CatConnection,
		Summary:  "A connection config names a provider (driver) that Gatekeeper does not know in that form.",
		Doc: "Gatekeeper v3.13 to v3.19 know one provider, `dapr`, named by a connection ConfigMap's " +
			"`data.provider` (`data.driver` in v3.19). v3.20 and later know the drivers `dapr` and " +
			"`disk` (which writes violations to files), named by a Connection resource's " +
			"`spec.driver`; `disk` exists only there. The audit refuses any other name, including " +
			"other spellings such as `Dapr`. Which form the audit's version reads is checked by " +
			"`gatekeeper-version-mismatch`; each driver's config by `connection-config-schema`.",
		Remediation: "Set the provider to `dapr` (or, in a Connection resource, `dapr` or `disk`).",
		Check:       checkConnectionProviderUnknown,
	})
}

func checkConnectionProviderUnknown(s *model.Setup, r *Reporter) {
	for _, c := range s.Connections {
		if _, ok := c.Problem(connection.UnknownDriver); !ok {
			continue
		}
		what := "provider"
		if c.DriverKey() == "driver" {
			what = "driver"
		}
		valid := schemas.DriversFor(c.Form.SchemaForm())
		if d, err := schemas.Driver(c.Driver); err == nil {
			where := "a Connection resource (connection.gatekeeper.sh/v1alpha1)"
			if d.HasForm(schemas.FormConfigMap) {
				where = "a ConfigMap"
			}
			r.Report(c.Obj, c.DriverPath(), "%s %q is not supported in %s: Gatekeeper %s and later read the %s driver from %s; valid %ss here are %s",
				what, c.Driver, c.Form.String(), d.Since, c.Driver, where, what, strings.Join(valid, ", "))
			continue
		}
		r.Report(c.Obj, c.DriverPath(), "%s %q is not supported: valid %ss are %s%s",
			what, c.Driver, what, strings.Join(valid, ", "), didYouMean(c.Driver, valid))
	}
}
