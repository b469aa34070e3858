package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

func init() {
	register(&Rule{
		ID:       "audit-sidecar-not-injected",
		Severity: Error,
		Category: CatAudit,
		Summary:  "Live: a running audit pod asks for Dapr but has no daprd container.",
		Doc: "In live mode (`--live`, `--kubeconfig`) pubsub-lint also reads the running Pods of each audit " +
			"Deployment that has `dapr.io/enabled: \"true\"`: a Pod without a `daprd` container was admitted " +
			"without the sidecar, so the audit cannot publish (Gatekeeper's dapr driver finds no sidecar). " +
			"Dapr's injector silently skips a pod when its webhook is not called (the MutatingWebhookConfiguration " +
			"`dapr-sidecar-injector` missing, or `failurePolicy: Ignore` while the injector is down) and when the " +
			"request does not come from a controller's service account or `system:masters`.",
		Remediation: "Check that Dapr's sidecar injector runs and its webhook is registered, then delete the pod so " +
			"that its ReplicaSet creates it again.",
		Check:           checkAuditSidecarNotInjected,
		InputAuditsOnly: true,
		DaprOnly:        true,
	})
}

func checkAuditSidecarNotInjected(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.DaprEnabled() {
			continue
		}
		for _, p := range s.Options.RunningPods {
			if p.Namespace() != a.Namespace || !ownedBy(p, a.Obj.Name()) {
				continue
			}
			if !hasContainer(p, "daprd") {
				r.Report(a.Obj, a.TemplatePath("metadata", "annotations", "dapr.io/enabled"),
					"pod %s/%s runs without a daprd container although the pod template asks for one: Dapr's sidecar "+
						"injector did not inject it (is it running, is its webhook registered?), so the audit cannot publish",
					p.Namespace(), p.Name())
			}
		}
	}
}

// ownedBy says whether the Pod belongs to the Deployment (through its
// ReplicaSet, named after the Deployment).
func ownedBy(p render.Object, deployment string) bool {
	md, _ := p.Obj["metadata"].(map[string]any)
	refs, _ := md["ownerReferences"].([]any)
	for _, ref := range refs {
		m, _ := ref.(map[string]any)
		if kind, _ := m["kind"].(string); kind != "ReplicaSet" {
			continue
		}
		if name, _ := m["name"].(string); strings.HasPrefix(name, deployment+"-") {
			return true
		}
	}
	return false
}

func hasContainer(p render.Object, name string) bool {
	v, _ := render.Lookup(p.Obj, "spec", "containers")
	list, _ := v.([]any)
	for _, c := range list {
		m, _ := c.(map[string]any)
		if n, _ := m["name"].(string); n == name {
			return true
		}
	}
	return false
}
