package rules

import (
	"encoding/json"
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
		ID:       "connection-config-ignored",
		Severity: Warning,
		Category: CatConnection,
		Summary:  "A connection config key holds a value Gatekeeper ignores, using its default instead (closedConnectionTTL: 600).",
		Doc: "Gatekeeper's disk driver (v3.20+; read from v3.23.1's pkg/export/disk) reads " +
			"`closedConnectionTTL` only when it is a JSON string holding a Go duration (`\"5m\"`): any " +
			"other value, such as the number `600` that Gatekeeper's own export documentation shows " +
			"(\"TTL in seconds\"), is ignored without an error, and the default, 10m, applies. Gatekeeper " +
			"accepts the Connection, so this is a warning, not an error: the TTL is simply not what was " +
			"written. A string that is no Go duration (`\"600\"`) or is outside 1m to 10m makes Gatekeeper " +
			"reject the Connection, and is `connection-config-schema`'s error.",
		Remediation: "Write the duration as a string, for example `closedConnectionTTL: \"10m\"` (600 seconds), " +
			"or leave the key out for the default.",
		Check: checkConnectionConfigIgnored,
	})
}

func checkConnectionConfigIgnored(s *model.Setup, r *Reporter) {
	for _, c := range s.Connections {
		for _, ig := range c.Ignored {
			written, kind := describeJSON(ig.Value)
			r.Report(c.Obj, c.ConfigPath().Add(model.Pointer("/"+ig.Key)),
				"%s/%s of connection config %q is %s, %s: %s and ignores any other value, so the default %s applies%s",
				c.ConfigPath(), ig.Key, c.Name, written, Prose(kind), Prose(ig.Source), ig.Default, Prose(durationHint(c.Driver, ig.Key, ig.Value)))
		}
	}
}

// describeJSON renders a decoded config value as written and names its
// JSON type.
func describeJSON(v any) (written, kind string) {
	switch t := v.(type) {
	case nil:
		return "null", "no value"
	case bool:
		return strconv.FormatBool(t), "a boolean"
	case int64, float64, json.Number:
		return connection.Scalar(t), "a number"
	case map[string]any, []any:
		b, _ := json.Marshal(t)
		return string(b), "not a string"
	}
	return fmt.Sprint(v), "not a string"
}

// durationHint proposes the string for a number of seconds, when the
// driver bounds the key's duration and the number is within the bounds.
func durationHint(driver, key string, v any) string {
	d, err := schemas.Driver(driver)
	if err != nil {
		return ""
	}
	rng, ok := d.DurationRanges[key]
	if !ok {
		return ""
	}
	var secs float64
	switch t := v.(type) {
	case int64:
		secs = float64(t)
	case float64:
		secs = t
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return ""
		}
		secs = f
	default:
		return "; write a Go duration string such as \"5m\""
	}
	dur := time.Duration(secs * float64(time.Second))
	if dur < rng.Min || dur > rng.Max {
		return fmt.Sprintf("; write a Go duration string from %s to %s, such as \"5m\" (%s seconds would be %s, out of that range)",
			shortDur(rng.Min), shortDur(rng.Max), connection.Scalar(v), shortDur(dur))
	}
	return fmt.Sprintf("; if %s seconds were meant, write %s: %q", connection.Scalar(v), key, shortDur(dur))
}

// shortDur renders 10m0s as 10m and 1h0m0s as 1h.
func shortDur(d time.Duration) string {
	s := d.String()
	for _, z := range []string{"0s", "0m"} {
		if strings.HasSuffix(s, "m"+z) || strings.HasSuffix(s, "h"+z) {
			s = strings.TrimSuffix(s, z)
		}
	}
	return s
}
