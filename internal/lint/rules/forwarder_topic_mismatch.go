package rules

import (
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

func init() {
	register(&Rule{
		ID:       "forwarder-topic-mismatch",
		Severity: Error,
		Category: CatForwarder,
		Summary:  "pubsub-forward's --topic is not the audit's --audit-channel.",
		Doc: "The disk driver writes each audit run under `<path>/<topic>/`, the topic being the audit's " +
			"`--audit-channel` (default `" + connection.DefaultChannel + "`). pubsub-forward reads " +
			"`<--path>/<--topic>/` and publishes to `--topic`: with another topic it finds no file and " +
			"sends nothing, without an error (and subscribers of the audit's channel would not get " +
			"what it sends anyway). Without `--topic` it exits at start.",
		Remediation:     "Set pubsub-forward's `--topic` to the audit's `--audit-channel`.",
		Check:           checkForwarderTopicMismatch,
		InputAuditsOnly: true,
	})
}

func checkForwarderTopicMismatch(s *model.Setup, r *Reporter) {
	for _, fa := range forwardedAudits(s) {
		a, c := fa.audit, fa.conn
		if c == nil || !c.IsDisk() || !c.KnownDriver() {
			continue // forwarder-path-mismatch, connection rules
		}
		where := a.Channel
		if p, ok := c.DiskPath(); ok {
			where = p + "/" + a.Channel
		}
		for _, f := range fa.forwarders {
			t, has := f.Flag("topic")
			if !has || t.Value == "" {
				r.Report(a.Obj, t.Field, "%s has no --topic: it exits at start (\"--topic is required\"); set --topic=%s, the audit's channel (%s)",
					Prose(describeForwarder(f)), a.Channel, flagSetting(a, model.FlagChannel, "default "+connection.DefaultChannel))
				continue
			}
			if t.Value != a.Channel {
				r.Report(a.Obj, t.Field, "%s reads topic %q (--topic), but the audit writes its runs under %s (%s): the forwarder reads nothing; set --topic=%s",
					Prose(describeForwarder(f)), t.Value, where, flagSetting(a, model.FlagChannel, "default "+connection.DefaultChannel), a.Channel)
			}
		}
	}
}
