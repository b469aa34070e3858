package rules

// Rules about the Dapr side of publishing (the daprd sidecar, the Dapr
// subscriber) apply only to audits whose connection uses the dapr driver:
// with Gatekeeper v3.20+'s disk driver the audit writes files and needs no
// sidecar. Such rules set Rule.DaprOnly; Rule.Run gives them daprAudits.
// daprOnlyNote is added to the documentation of the wrapped rules.
const daprOnlyNote = "\n\nChecked only for an audit whose connection uses the `dapr` driver (not Gatekeeper v3.20+'s `disk` driver, which needs no Dapr)."

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
