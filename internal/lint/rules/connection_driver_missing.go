package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "connection-driver-missing",
		Severity: Error,
		Category: CatConnection,
		Summary:  "A connection config has no data, or no driver.",
		Doc: "A connection ConfigMap needs `data.provider` (Gatekeeper up to v3.18; `data.driver` " +
			"in v3.19) naming the driver that publishes, and `data.config`. A Connection resource " +
			"(v3.20+) needs `spec.driver`. Without it the audit cannot open the connection.",
		Remediation: "Add `provider: \"dapr\"` under `data` (or `driver` for v3.19, `spec.driver` " +
			"for a Connection resource: `dapr` or `disk`).",
		Check: checkConnectionDriverMissing,
	})
}

func checkConnectionDriverMissing(s *model.Setup, r *Reporter) {
	for _, c := range s.Connections {
		valid := strings.Join(schemas.DriversFor(c.Form.SchemaForm()), ", ")
		if _, ok := c.Problem(connection.NoData); ok {
			if c.IsResource() {
				r.Report(c.Obj, nil, "Connection %q has no spec: it needs spec.driver (one of %s) and spec.config", c.Name, valid)
			} else {
				r.Report(c.Obj, nil, "connection ConfigMap %q has no data: it needs data.provider (one of %s) and data.config", c.Name, valid)
			}
			continue
		}
		if _, ok := c.Problem(connection.NoDriver); ok {
			field := c.DataPath() // the key is not there to point at
			if c.HasDriver {
				field = c.DriverPath()
			}
			r.Report(c.Obj, field, "connection config %q has no driver (%s): set it to one of %s", c.Name, c.DriverPath(), valid)
		}
	}
}
