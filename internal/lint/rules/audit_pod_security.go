package rules

import (
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "audit-pod-security",
		Severity: Error,
		Category: CatAudit,
		Summary:  "The audit pod, with the daprd sidecar Dapr would inject, fails the PodSecurity level its namespace enforces.",
		Doc: "Gatekeeper's namespace runs PodSecurity `restricted` (Gatekeeper's manifest labels it " +
			"`pod-security.kubernetes.io/enforce: restricted`), and PodSecurity rejects the audit's pods " +
			"when they fail it. The audit pod template, with the daprd container that Dapr v1.14's " +
			"injector would add for its annotations, is checked with `k8s.io/pod-security-admission`'s " +
			"own policy code at the level and version the namespace enforces: its " +
			"`pod-security.kubernetes.io/enforce` and `enforce-version` labels when the Namespace is " +
			"among the inputs (no label: privileged, nothing is checked), else `restricted` at the " +
			"latest version, as Gatekeeper's manifest has it. Each failing check is reported with the " +
			"container it concerns. Failures of `restricted` that the namespace does not enforce are " +
			"`audit-pod-security-unenforced`'s. The sidecar " +
			"is predicted from the injector's code: it drops all capabilities only when the " +
			"injector runs with `SIDECAR_DROP_ALL_CAPABILITIES=true`, which Gatekeeper's pubsub documentation requires and " +
			"pubsub-lint assumes unless the injector's Deployment is among the inputs or " +
			"`--dapr-drop-all-capabilities=false` is given. A missing seccomp annotation is " +
			"reported by `audit-sidecar-seccomp` and not repeated here.",
		Remediation: "Fix the container's `securityContext` as the message says; for daprd, set " +
			"`SIDECAR_DROP_ALL_CAPABILITIES=true` on the injector (Dapr chart: " +
			"`dapr_sidecar_injector.sidecarDropALLCapabilities=true`) and annotate the pod with " +
			"`dapr.io/sidecar-seccomp-profile-type: \"RuntimeDefault\"`.",
		Check:           checkAuditPodSecurity,
		InputAuditsOnly: true,
	})
}

var (
	evalOnce  sync.Once
	evaluator policy.Evaluator
	evalErr   error
)

func podEvaluator() (policy.Evaluator, error) {
	evalOnce.Do(func() { evaluator, evalErr = policy.NewEvaluator(policy.DefaultChecks(), nil) })
	return evaluator, evalErr
}

func checkAuditPodSecurity(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		ps := s.PodSecurity(a.Namespace)
		lv := ps.Policy.Enforce
		if lv.Level == api.LevelPrivileged {
			continue // audit-pod-security-unenforced
		}
		fails, err := podSecurityFailures(s, a, lv)
		if err != nil {
			if !err.metadataTypes {
				r.Report(a.Obj, err.field, "cannot check PodSecurity: %s", err.msg)
			}
			continue
		}
		for _, f := range fails {
			if f.sidecarSeccomp(a) {
				continue // audit-sidecar-seccomp
			}
			r.Report(a.Obj, f.field, "%s violates %s: %s", f.what, ps.Enforces(), f.reason)
		}
	}
}

// psFailure is one PodSecurity check the audit pod fails.
type psFailure struct {
	field model.Path
	// what: "audit pod" or `container "x" of the audit pod`.
	what     string
	injected bool
	// check is the check's ForbiddenReason; reason adds its detail.
	check, reason string
}

func (f psFailure) key() string { return f.field.String() + "\x00" + f.check }

// sidecarSeccomp: the failure is the daprd sidecar's missing seccomp
// profile that audit-sidecar-seccomp reports.
func (f psFailure) sidecarSeccomp(a *model.Audit) bool {
	return f.injected && f.check == "seccompProfile" && sidecarSeccompMissing(a.Workload)
}

type psDecodeError struct {
	field model.Path
	msg   string
	// metadataTypes: the metadata has a non-string annotation or label,
	// which metadata-not-string reports.
	metadataTypes bool
}

// hasNonString says whether meta's annotations or labels hold a value that
// is not a string.
func hasNonString(meta map[string]any) bool {
	for _, f := range []string{"annotations", "labels"} {
		m, _ := meta[f].(map[string]any)
		for _, v := range m {
			if _, ok := v.(string); !ok && v != nil {
				return true
			}
		}
	}
	return false
}

// podSecurityFailures evaluates the audit pod template, with the daprd
// container Dapr would inject, at a PodSecurity level and version, with
// k8s.io/pod-security-admission's own checks: pod-level failures once, on
// the pod without containers, then each container's on its own.
func podSecurityFailures(s *model.Setup, a *model.Audit, lv api.LevelVersion) ([]psFailure, *psDecodeError) {
	ev, err := podEvaluator()
	if err != nil {
		return nil, &psDecodeError{field: a.TemplatePath(), msg: err.Error()}
	}
	var meta metav1.ObjectMeta
	var spec corev1.PodSpec
	if err := convert(a.Meta, &meta); err != nil {
		// A non-string annotation or label is metadata-not-string's.
		return nil, &psDecodeError{field: a.TemplatePath("metadata"), msg: fmt.Sprintf("the pod template's metadata does not decode: %v", err), metadataTypes: hasNonString(a.Meta)}
	}
	if err := convert(a.Spec, &spec); err != nil {
		return nil, &psDecodeError{field: a.TemplatePath("spec"), msg: fmt.Sprintf("the pod template's spec does not decode: %v", err)}
	}
	type target struct {
		c        corev1.Container
		init     bool
		injected bool
		field    model.Path
	}
	var targets []target
	for i, c := range spec.InitContainers {
		targets = append(targets, target{c, true, false, a.TemplatePath("spec", "initContainers", i)})
	}
	for i, c := range spec.Containers {
		targets = append(targets, target{c, false, false, a.TemplatePath("spec", "containers", i)})
	}
	if a.DaprEnabled() {
		targets = append(targets, target{s.PredictSidecar(a.Annotations), false, true, a.AnnotationPath("dapr.io/enabled")})
	}
	var out []psFailure
	// Pod-level problems: the pod without containers.
	bare := spec
	bare.Containers, bare.InitContainers, bare.EphemeralContainers = nil, nil, nil
	podFails := map[string]bool{}
	for _, res := range ev.EvaluatePod(lv, &meta, &bare) {
		if !res.Allowed {
			podFails[res.ForbiddenReason] = true
			out = append(out, psFailure{field: a.TemplatePath("spec"), what: "audit pod", check: res.ForbiddenReason, reason: reason(res)})
		}
	}
	for _, t := range targets {
		one := bare
		if t.init {
			one.InitContainers = []corev1.Container{t.c}
		} else {
			one.Containers = []corev1.Container{t.c}
		}
		for _, res := range ev.EvaluatePod(lv, &meta, &one) {
			if res.Allowed || podFails[res.ForbiddenReason] {
				continue
			}
			what := fmt.Sprintf("container %q of the audit pod", t.c.Name)
			if t.injected {
				what = fmt.Sprintf("container %q (injected by Dapr) of the audit pod", model.SidecarName)
			}
			out = append(out, psFailure{field: t.field, what: what, injected: t.injected, check: res.ForbiddenReason, reason: reason(res)})
		}
	}
	return out, nil
}

func reason(res policy.CheckResult) string {
	if res.ForbiddenDetail == "" {
		return res.ForbiddenReason
	}
	return res.ForbiddenReason + " (" + res.ForbiddenDetail + ")"
}

func convert(in any, out any) error {
	if in == nil {
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
