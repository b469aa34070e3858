package rules

// Rules about the Dapr side of publishing (the daprd sidecar, the Dapr
// subscriber) apply only to audits whose connection uses the dapr driver:
// with Gatekeeper v3.20+'s disk driver the audit writes files and needs no
// sidecar. onlyWithDapr wraps such a rule so that it sees only those
// audits. It is applied by the init functions of this file and of
// suggest.go, which Go runs after those of the files that register the
// rules (init functions run in file name order): audit_* before
// connection_*, subscriber_* before suggest.go. TestDaprRulesGated fails
// if a rule is not wrapped; test/lint's driver-disk fixtures show the effect.
func init() {
	onlyWithDapr("audit-dapr-disabled")
}

// daprOnlyNote is added to the documentation of the wrapped rules.
const daprOnlyNote = "\n\nChecked only for an audit whose connection uses the `dapr` driver (not Gatekeeper v3.20+'s `disk` driver, which needs no Dapr)."

func onlyWithDapr(ids ...string) {
	for _, id := range ids {
		r := registry[id]
		if r == nil || r.Check == nil {
			continue
		}
		check := r.Check
		r.Check = func(s *Setup, rep *Reporter) { check(s.daprAudits(), rep) }
		r.Doc += daprOnlyNote
	}
}

// daprAudits returns the setup with only the audits that publish through
// Dapr (UsesDapr); the setup itself when that is all of them.
func (s *Setup) daprAudits() *Setup {
	var keep []*Audit
	for _, a := range s.Audits {
		if s.UsesDapr(a) {
			keep = append(keep, a)
		}
	}
	if len(keep) == len(s.Audits) {
		return s
	}
	cp := *s
	cp.Audits = keep
	return &cp
}
