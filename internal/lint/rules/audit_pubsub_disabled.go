package rules

import "github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"

func init() {
	register(&Rule{
		ID:       "audit-pubsub-disabled",
		Severity: Warning,
		Category: CatAudit,
		Summary:  "A connection config exists, but the audit does not enable publishing.",
		Doc: "Publishing is off unless the audit runs with `--enable-pub-sub=true` (Gatekeeper up " +
			"to v3.18) or `--enable-violation-export=true` (v3.19+). A connection config next to an " +
			"audit without the flag usually means the flag was forgotten.",
		Remediation: "Add `--enable-pub-sub=true` (or `--enable-violation-export=true`) to the audit's " +
			"manager container, for example with the Gatekeeper chart's `audit.enablePubsub=true`.",
		Check:           checkAuditPubsubDisabled,
		InputAuditsOnly: true,
	})
}

func checkAuditPubsubDisabled(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if a.Publishes {
			continue
		}
		conns := s.ConnectionsIn(a.Namespace)
		if len(conns) == 0 {
			continue
		}
		flag := model.FlagEnablePubsub
		if a.Version != nil && a.Version.AtLeast(3, 19) {
			flag = model.FlagEnableExport
		}
		malformed := false
		for _, n := range []string{model.FlagEnablePubsub, model.FlagEnableExport} {
			if f, ok := a.Last(n); ok {
				flag = n
				if _, ok := model.FlagBool(f); !ok {
					malformed = true
				}
			}
		}
		if malformed {
			continue // audit-flag-value
		}
		r.Report(a.Obj, a.FlagPath(flag), "connection config %s exists, but %s does not publish: set --%s=true",
			conns[0].Obj.String(), a.Describe(), flag)
	}
}
