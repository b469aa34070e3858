package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

func init() {
	register(&Rule{
		ID:       "connection-config-schema",
		Severity: Error,
		Category: CatConnection,
		Summary:  "The connection config fails its driver's schema.",
		Doc: "The config is validated against `schemas/connection-config.<driver>.schema.json`, " +
			"the schema the publisher uses. For `dapr` it is an object with exactly one key, " +
			"`component`, a non-empty string naming the Dapr pubsub Component. For `disk` " +
			"(Gatekeeper v3.20+, read from its pkg/export/disk) it takes `path`, a directory " +
			"without `..`, `maxAuditResults`, a number from 0 to 5, and optionally " +
			"`closedConnectionTTL`, a Go duration from 1m to 10m; Gatekeeper ignores other keys, " +
			"which are reported as likely misspellings. A `closedConnectionTTL` that is not a string " +
			"(`600`) is not an error: Gatekeeper ignores it and uses its default, which is " +
			"`connection-config-ignored`'s warning.",
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
		if msg, ok := durationProblem(c, p.Pointer); ok {
			r.Report(c.Obj, c.ConfigPath().Add(model.Pointer(p.Pointer)), "%s%s of connection config %q %s",
				c.ConfigPath(), p.Pointer, c.Name, Prose(msg))
			continue
		}
		r.Report(c.Obj, c.ConfigPath().Add(model.Pointer(p.Pointer)), "%s of connection config %q fails the %s driver's schema at %s: %v",
			c.ConfigPath(), c.Name, c.Driver, at, p.Err)
	}
}

// durationProblem explains a duration key (closedConnectionTTL) whose
// string Gatekeeper's time.ParseDuration rejects, as Gatekeeper does, rather
// than by the schema's pattern.
func durationProblem(c *model.Connection, pointer string) (string, bool) {
	key := strings.TrimPrefix(pointer, "/")
	d, err := schemas.Driver(c.Driver)
	if err != nil {
		return "", false
	}
	rng, ok := d.DurationRanges[key]
	v, isString := c.Config[key].(string)
	if !ok || !isString {
		return "", false
	}
	if _, err = time.ParseDuration(v); err == nil {
		return "", false
	}
	hint := `such as "5m"`
	if n, nerr := strconv.ParseFloat(v, 64); nerr == nil {
		if dur := time.Duration(n * float64(time.Second)); dur >= rng.Min && dur <= rng.Max {
			hint = fmt.Sprintf("(%s seconds: %q)", v, shortDur(dur))
		}
	}
	return fmt.Sprintf("is %q, which Gatekeeper parses with time.ParseDuration and rejects (%v), so the connection fails: write a Go duration from %s to %s %s",
		v, err, shortDur(rng.Min), shortDur(rng.Max), hint), true
}
