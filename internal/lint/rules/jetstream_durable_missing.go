package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "jetstream-durable-missing",
		Severity: Warning,
		Category: CatComponent,
		Summary:  "A pubsub.jetstream Component a subscriber reads through has no durableName, so every daprd restart replays the whole stream to it.",
		Doc: "Dapr's NATS JetStream pubsub (components-contrib v1.14.0, `pubsub/jetstream`) subscribes with a " +
			"durable consumer only when the Component sets `durableName`; without it each subscription is an " +
			"ephemeral consumer with the deliver policy `all`, so every restart of the subscriber's daprd " +
			"(a rollout, an evicted pod) delivers every message the stream holds again: every audit's " +
			"violations since the stream began (`test/brokers` measured all of them coming back). " +
			"Dapr v1.14 also creates no stream: the stream must exist, holding the audit's channel as a " +
			"subject, before the audit's daprd publishes (`nats stream add`), else every publish fails " +
			"with `nats: no response from stream`; that is not visible in the manifests and not checked.",
		Remediation: "Add `{name: durableName, value: \"<the subscriber's app-id>\"}` to the Component in the " +
			"subscriber's namespace (and `streamName`, the stream that holds the audit's channel).",
		Check: checkJetStreamDurableMissing,
	})
}

func checkJetStreamDurableMissing(s *model.Setup, r *Reporter) {
	audits := map[*model.Workload]bool{}
	for _, a := range s.Audits {
		audits[a.Workload] = true
	}
	for _, c := range s.Components {
		if c.Type != "pubsub.jetstream" {
			continue
		}
		if it, ok := c.Item("durableName"); ok && (!it.HasValue || strings.TrimSpace(it.Value) != "") {
			continue
		}
		// A Dapr app beside it that is not an audit subscribes through it
		// (the audit only publishes).
		for _, w := range s.Workloads {
			if audits[w] || w.Obj.NS != c.Namespace || !w.DaprEnabled() {
				continue
			}
			durable := w.Annotations["dapr.io/app-id"]
			if durable == "" {
				durable = w.Obj.Name()
			}
			r.Report(c.Obj, model.P("spec", "metadata"), "pubsub.jetstream Component %q, which %s subscribes through, has no durableName: its consumer is ephemeral with deliver policy all, so every restart of that daprd replays the whole stream (every audit's violations since it began); add {name: durableName, value: %q}",
				c.Name, w.Obj, durable)
			break
		}
	}
}
