package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"

func init() {
	register(&Rule{
		ID:       "audit-flag-value",
		Severity: Error,
		Category: CatAudit,
		Summary:  "A pubsub flag of the audit is malformed: a non-boolean enable flag, an empty connection or channel.",
		Doc: "Gatekeeper parses its flags with Go's flag package: `--enable-pub-sub` takes " +
			"`true`/`false` (also 1/0, t/f), `--audit-connection` and `--audit-channel` a non-empty " +
			"name. A value such as `--enable-pub-sub=yes` stops the manager at start-up; an empty " +
			"channel makes every publish fail.",
		Remediation:     "Write `--enable-pub-sub=true`, `--audit-connection=<name>`, `--audit-channel=<name>`.",
		Check:           checkAuditFlagValue,
		InputAuditsOnly: true,
	})
}

func checkAuditFlagValue(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		for _, n := range []string{model.FlagEnablePubsub, model.FlagEnableExport} {
			for _, f := range a.Flags[n] {
				if _, ok := model.FlagBool(f); !ok {
					r.Report(a.Obj, f.Field, "--%s=%s is not a boolean: use true or false", n, f.Value)
				}
			}
		}
		for _, n := range []string{model.FlagConnection, model.FlagChannel} {
			for _, f := range a.Flags[n] {
				if !f.HasValue || f.Value == "" {
					r.Report(a.Obj, f.Field, "--%s is empty: give the %s name", n, n[len("audit-"):])
				}
			}
		}
	}
}
