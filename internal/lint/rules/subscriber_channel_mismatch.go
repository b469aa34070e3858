package rules

import (
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "subscriber-channel-mismatch",
		Severity: Warning,
		Category: CatSubscriber,
		Summary:  "A subscriber's AUDIT_CHANNEL, or the violations consumer's --topic, differs from the channel the audit publishes to.",
		Doc: "The audit publishes to the topic named by `--audit-channel` (default " +
			"`audit-channel`). A subscriber (a container with an `AUDIT_CHANNEL` environment " +
			"variable, like the project's fake-subscriber, or `violations serve` with its " +
			"`--topic`) that listens on another topic receives nothing.",
		Remediation: "Set the subscriber's `AUDIT_CHANNEL`, or the consumer's `--topic`, to the audit's `--audit-channel`.",
		Check:       checkSubscriberChannelMismatch,
		DaprOnly:    true,
	})
}

func checkSubscriberChannelMismatch(s *model.Setup, r *Reporter) {
	var channels []string
	audits := map[*model.Workload]bool{}
	for _, a := range s.Audits {
		audits[a.Workload] = true
		if a.Publishes && a.Channel != "" && !slices.Contains(channels, a.Channel) {
			channels = append(channels, a.Channel)
		}
	}
	if len(channels) == 0 {
		return
	}
	for _, w := range s.Workloads {
		if audits[w] {
			continue
		}
		for _, c := range w.Containers {
			if t, ok := model.ConsumerTopic(c); ok && !slices.Contains(channels, t.Value) {
				r.Report(w.Obj, t.Field, "violations consumer container %q subscribes to topic %q (--topic), but the audit publishes to %q",
					c.Name, t.Value, strings.Join(channels, `", "`))
			}
			e, ok := c.Env["AUDIT_CHANNEL"]
			if !ok || slices.Contains(channels, e.Value) {
				continue
			}
			r.Report(w.Obj, e.Field, "subscriber container %q listens on channel %q, but the audit publishes to %q",
				c.Name, e.Value, strings.Join(channels, `", "`))
		}
	}
}
