package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "redis-no-tls",
		Severity: Warning,
		Category: CatComponent,
		Summary:  "A pubsub.redis Component talks to Redis without TLS (no enableTLS, or enableTLS false).",
		Doc: "Dapr's Redis pubsub connects in plain text unless the Component's metadata sets `enableTLS` " +
			"to true. Without it the Redis password (`redisPassword`) and every violation the audit publishes " +
			"(the violating objects' names, namespaces and messages) cross the network readable by " +
			"anyone on the path, and can be altered on the way. The quick start in Gatekeeper's pubsub " +
			"documentation uses such a Redis; a warning, since a NetworkPolicy or a service mesh may " +
			"protect the connection instead.\n\n" +
			"An `enableTLS` read from a secretKeyRef or an envRef is not known here and is not reported; " +
			"a value that is not a boolean is `component-metadata-type`'s.",
		Remediation: "Serve Redis over TLS and add `{name: enableTLS, value: \"true\"}` to the Component's " +
			"metadata (the chart: `component.metadata`; kustomize: the `redis-tls` component). Where " +
			"the connection is protected otherwise, say so with the annotation " +
			"`pubsub-lint.gatekeeper-pubsub.io/ignore: redis-no-tls` on the Component.",
		Check: checkRedisNoTLS,
	})
}

// falseWords are what Dapr reads as false (dapr/kit's IsTruthy reads them
// so); an empty value is Dapr's default, false.
var falseWords = []string{"", "false", "no", "off", "n", "f", "0"}

func checkRedisNoTLS(s *model.Setup, r *Reporter) {
	for _, c := range s.Components {
		if c.Type != "pubsub.redis" {
			continue
		}
		it, ok := c.Item("enableTLS")
		switch {
		case !ok:
			r.Report(c.Obj, model.P("spec", "metadata"), "pubsub.redis Component %q has no enableTLS metadata, so daprd talks to Redis in plain text: the Redis password and every violation cross the network readable; add {name: enableTLS, value: \"true\"}",
				c.Name)
		case it.HasValue && isFalse(it.Value):
			r.Report(c.Obj, c.ItemPath(it.Index, "value"), "pubsub.redis Component %q sets enableTLS to %q, so daprd talks to Redis in plain text: the Redis password and every violation cross the network readable; set it to \"true\"",
				c.Name, it.Value)
		}
	}
}

func isFalse(v string) bool {
	for _, w := range falseWords {
		if strings.EqualFold(strings.TrimSpace(v), w) {
			return true
		}
	}
	return false
}
