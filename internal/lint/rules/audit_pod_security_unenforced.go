package rules

import (
	"fmt"
	"strings"

	"k8s.io/pod-security-admission/api"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "audit-pod-security-unenforced",
		Severity: Warning,
		Category: CatAudit,
		Summary:  "The audit pod fails PodSecurity restricted, which its Namespace (among the inputs) does not enforce.",
		Doc: "Gatekeeper's own manifest labels its namespace `pod-security.kubernetes.io/enforce: restricted`. " +
			"When the audit's Namespace is among the inputs with a lower enforce level (`baseline`, " +
			"`privileged`, or no label: privileged), PodSecurity admits the audit pod even though it " +
			"fails `restricted` (a missing `dapr.io/sidecar-seccomp-profile-type` on the Dapr-injected " +
			"sidecar, or what `audit-pod-security` checks), so these are warnings: the pod would be " +
			"rejected as soon as the namespace enforces `restricted`. The namespace's `warn` and " +
			"`audit` labels are reported as such: with `warn=restricted` the API server warns when the " +
			"Deployment is created or updated, with `audit=restricted` it records the violation in its " +
			"audit log. `restricted` is checked at the version of the `warn` or `audit` label that asks " +
			"for it, else of the `enforce-version` label, else the latest. What fails the enforced " +
			"level is `audit-pod-security`'s and `audit-sidecar-seccomp`'s.",
		Remediation: "Fix the pod as the message says (for the sidecar, annotate the pod template with " +
			"`dapr.io/sidecar-seccomp-profile-type: \"RuntimeDefault\"`), so that it runs under Gatekeeper's " +
			"`restricted` namespace.",
		Check:           checkAuditPodSecurityUnenforced,
		InputAuditsOnly: true,
	})
}

func checkAuditPodSecurityUnenforced(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		ps := s.PodSecurity(a.Namespace)
		enforce := ps.Policy.Enforce
		if ps.Assumed || enforce.Level == api.LevelRestricted && enforce.Version.Latest() {
			continue
		}
		restricted := api.LevelVersion{Level: api.LevelRestricted, Version: enforce.Version}
		if enforce.Level == api.LevelRestricted {
			restricted.Version = api.LatestVersion()
		}
		// A warn or audit label asking for restricted sets the version
		// (not warn's default, which is the enforce label's).
		for _, mode := range []struct {
			label string
			lv    api.LevelVersion
		}{{api.AuditLevelLabel, ps.Policy.Audit}, {api.WarnLevelLabel, ps.Policy.Warn}} {
			if ps.Labels[mode.label] != "" && mode.lv.Level == api.LevelRestricted {
				restricted.Version = mode.lv.Version
			}
		}
		fails, err := podSecurityFailures(s, a, restricted)
		if err != nil {
			continue // audit-pod-security reports it when the level needs the pod decoded
		}
		enforced := failureKeys(s, a, ps.Policy.Enforce)
		warned := failureKeys(s, a, ps.Policy.Warn)
		audited := failureKeys(s, a, ps.Policy.Audit)
		for _, f := range fails {
			if enforced[f.key()] {
				continue
			}
			var modes []string
			if warned[f.key()] {
				modes = append(modes, fmt.Sprintf("PodSecurity warn=%s: the API server will warn when the Deployment is created or updated", levelText(ps.Policy.Warn)))
			}
			if audited[f.key()] {
				modes = append(modes, fmt.Sprintf("PodSecurity audit=%s: the API server will record the violation in its audit log", levelText(ps.Policy.Audit)))
			}
			tail := fmt.Sprintf("Namespace %s does not enforce it (%s), so the pod is admitted, but it would be rejected under enforce=restricted, as Gatekeeper's own manifest labels the namespace", ps.Namespace, ps.Label(api.EnforceLevelLabel))
			if enforce.Level == api.LevelRestricted {
				tail = fmt.Sprintf("Namespace %s enforces %q (%s), which does not check it, so the pod is admitted, but it would be rejected under a later %s", ps.Namespace, enforce.String(), ps.Label(api.EnforceVersionLabel), api.EnforceVersionLabel)
			}
			if len(modes) > 0 {
				tail += "; " + strings.Join(modes, "; ")
			}
			if f.sidecarSeccomp(a) {
				r.Report(a.Obj, a.AnnotationPath(model.AnnSeccompProfile), "%s has Dapr enabled but no %s annotation: the injected daprd container gets no seccompProfile and fails PodSecurity %q; %s",
					a.Describe(), model.AnnSeccompProfile, restricted.String(), tail)
				continue
			}
			r.Report(a.Obj, f.field, "%s fails PodSecurity %q: %s; %s", f.what, restricted.String(), f.reason, tail)
		}
	}
}

// failureKeys returns the keys of the failures at lv (none for privileged
// or a pod that does not decode).
func failureKeys(s *model.Setup, a *model.Audit, lv api.LevelVersion) map[string]bool {
	out := map[string]bool{}
	if lv.Level == api.LevelPrivileged {
		return out
	}
	fails, _ := podSecurityFailures(s, a, lv)
	for _, f := range fails {
		out[f.key()] = true
	}
	return out
}

// levelText renders a level as a label value: "restricted", with
// ":v1.24" when the version is not the latest.
func levelText(lv api.LevelVersion) string {
	if lv.Version.Latest() {
		return string(lv.Level)
	}
	return lv.String()
}
