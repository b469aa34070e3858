package rules

import (
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

func init() {
	register(&Rule{
		ID:       "connection-config-json",
		Severity: Error,
		Category: CatConnection,
		Summary:  "data.config of a connection ConfigMap is missing or not valid JSON.",
		Doc: "`data.config` is a string holding a JSON object, for the dapr driver " +
			"`{\"component\": \"pubsub\"}`. The check decodes it with the publisher's own code " +
			"(`pkg/connection`, which `pkg/pubsub` uses), so the linter and the publisher agree; the finding points at the line " +
			"and column of the syntax error inside the block.",
		Remediation: "Fix the JSON (a common mistake is a trailing comma or single quotes); " +
			"a YAML block scalar (`config: |`) keeps it readable.",
		Check: checkConnectionConfigJSON,
	})
}

func checkConnectionConfigJSON(s *model.Setup, r *Reporter) {
	for _, c := range s.Connections {
		if p, ok := c.Problem(connection.NoConfig); ok {
			r.Report(c.Obj, c.DataPath(), "connection config %q has no %s: %v", c.Name, c.ConfigPath(), p.Err)
			continue
		}
		p, ok := c.Problem(connection.Syntax)
		if !ok {
			continue
		}
		field := c.ConfigPath()
		if p.Line > 0 {
			field = field.Add(model.Inner{Line: p.Line, Column: p.Column})
		}
		r.Report(c.Obj, field, "%s of connection config %q is not valid JSON: %v", c.ConfigPath(), c.Name, p.Err)
	}
}
