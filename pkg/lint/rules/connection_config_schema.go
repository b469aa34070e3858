package rules

import (
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/model"
)

func init() {
	register(&Rule{
		ID:       "connection-config-schema",
		Severity: Error,
		Category: CatConnection,
		Summary:  "The connection config fails its provider's schema.",
		Doc: "The config is validated against `schemas/connection-config.<provider>.schema.json`, " +
			"the schema the publisher uses. For `dapr` it is an object with exactly one key, " +
			"`component`, a non-empty string naming the Dapr pubsub Component. For `disk` " +
			"(Gatekeeper v3.20+, read from its pkg/export/disk) it takes `path`, a directory " +
			"without `..`, `maxAuditResults`, a number from 0 to 5, and optionally " +
			"`closedConnectionTTL`, a Go duration from 1m to 10m; Gatekeeper ignores other keys, " +
			"which are reported as likely misspellings.",
		Remediation: "Make the config match the schema, for example `{\"component\": \"pubsub\"}`.",
		Check:       checkConnectionConfigSchema,
	})
}

func checkConnectionConfigSchema(s *model.Setup, r *Reporter) {
	for _, c := range s.Connections {
		p, ok := c.Problem(connection.Schema)
		if !ok {
			continue
		}
		at := p.Pointer
		if at == "" {
			at = "/"
		}
		r.Report(c.Obj, c.ConfigPath().Add(model.Pointer(p.Pointer)), "%s of connection config %q fails the %s provider's schema at %s: %v",
			c.ConfigPath(), c.Name, c.Driver, at, p.Err)
	}
}
