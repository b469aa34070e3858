package rules

import (
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestAssumedAudit: with no audit Deployment among the inputs, the setup
// has an assumed audit that is a value (an empty workload and command
// line, the options' connection and channel): every rule's check can read
// it without guarding against nil, even called directly, and the rules
// about the Deployment itself report nothing on it through Run.
func TestAssumedAudit(t *testing.T) {
	cm := render.Object{Source: "cm.yaml", Line: 1, Obj: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "audit-connection", "namespace": "gatekeeper-system"},
		"data":     map[string]any{"provider": "dapr", "config": `{"component": "pubsub"}`},
	}}
	s := model.NewSetup(model.DefaultOptions(), []render.Object{cm})
	if len(s.Audits) != 1 || !s.Audits[0].Assumed || s.Audits[0].Workload == nil || s.Audits[0].Parse == nil {
		t.Fatalf("audits %+v, want one assumed audit with a workload and a command line", s.Audits)
	}
	if a := s.Audits[0]; a.Connection != "audit-connection" || a.Channel != "audit-channel" || !a.Publishes {
		t.Fatalf("assumed audit %+v, want the default connection and channel, publishing", a)
	}
	for _, r := range All() {
		if r.Check == nil {
			continue
		}
		t.Run(r.ID, func(t *testing.T) {
			direct := NewReporter(r)
			r.Check(s, direct) // must not panic on the assumed audit
			rep := NewReporter(r)
			r.Run(s, rep)
			if r.InputAuditsOnly && len(rep.Findings()) > 0 {
				t.Errorf("%s reports on the assumed audit: %+v", r.ID, rep.Findings())
			}
		})
	}
}
