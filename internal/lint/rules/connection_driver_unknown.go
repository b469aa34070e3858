package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "connection-driver-unknown",
		Severity: Error,
		Category: CatConnection,
		Summary:  "A connection config names a driver that Gatekeeper does not know in that form.",
		Doc: "Gatekeeper v3.13 to v3.19 know one driver, `dapr`, named by a connection ConfigMap's " +
			"`data.provider` (`data.driver` in v3.19). v3.20 and later know the drivers `dapr` and " +
			"`disk` (which writes violations to files), named by a Connection resource's " +
			"`spec.driver`; `disk` exists only there. The audit refuses any other name, including " +
			"other spellings such as `Dapr`. Which form the audit's version reads is checked by " +
			"`gatekeeper-version-mismatch`; each driver's config by `connection-config-schema`.",
		Remediation: "Set the driver to `dapr` (`data.provider` in a ConfigMap; in a Connection resource, " +
			"`spec.driver`: `dapr` or `disk`).",
		Check: checkConnectionDriverUnknown,
	})
}

func checkConnectionDriverUnknown(s *model.Setup, r *Reporter) {
	for _, c := range s.Connections {
		if _, ok := c.Problem(connection.UnknownDriver); !ok {
			continue
		}
		valid := schemas.DriversFor(c.Form.SchemaForm())
		if d, err := schemas.Driver(c.Driver); err == nil {
			where := "a Connection resource (connection.gatekeeper.sh/v1alpha1)"
			if d.HasForm(schemas.FormConfigMap) {
				where = "a ConfigMap"
			}
			r.Report(c.Obj, c.DriverPath(), "%s: driver %q is not supported in %s: Gatekeeper %s and later read the %s driver from %s; valid drivers here are %s",
				c.DriverPath(), c.Driver, c.Form.String(), d.Since, c.Driver, where, strings.Join(valid, ", "))
			continue
		}
		r.Report(c.Obj, c.DriverPath(), "%s: driver %q is not supported: valid drivers are %s%s",
			c.DriverPath(), c.Driver, strings.Join(valid, ", "), didYouMean(c.Driver, valid))
	}
}
