package rules

import (
	"encoding/json"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

func init() {
	register(&Rule{
		ID:       "audit-pod-security",
		Severity: Error,
		Category: CatAudit,
		Summary:  "The audit pod, with the daprd sidecar Dapr would inject, fails PodSecurity restricted.",
		Doc: "Gatekeeper's namespace runs PodSecurity `restricted`. The audit pod template, with " +
			"the daprd container that Dapr v1.14's injector would add for its annotations, is " +
			"checked with `k8s.io/pod-security-admission`'s own policy code at the latest level " +
			"version; each failing check is reported with the container it concerns. The sidecar " +
			"is predicted from the injector's code: it drops all capabilities only when the " +
			"injector runs with `SIDECAR_DROP_ALL_CAPABILITIES=true`, which the seed requires and " +
			"pubsub-lint assumes unless the injector's Deployment is among the inputs or " +
			"`--dapr-drop-all-capabilities=false` is given. A missing seccomp annotation is " +
			"reported by `audit-sidecar-seccomp` and not repeated here.",
		Remediation: "Fix the container's `securityContext` as the message says; for daprd, set " +
			"`SIDECAR_DROP_ALL_CAPABILITIES=true` on the injector (Dapr chart: " +
			"`dapr_sidecar_injector.sidecarDropALLCapabilities=true`) and annotate the pod with " +
			"`dapr.io/sidecar-seccomp-profile-type: \"RuntimeDefault\"`.",
		Check: checkAuditPodSecurity,
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

func checkAuditPodSecurity(s *Setup, r *Reporter) {
	ev, err := podEvaluator()
	if err != nil {
		return
	}
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	for _, a := range s.Audits {
		if a.Assumed {
			continue
		}
		var meta metav1.ObjectMeta
		var spec corev1.PodSpec
		if err := convert(a.Meta, &meta); err != nil {
			r.Report(a.Obj, a.TemplatePath("metadata"), "cannot check PodSecurity: the pod template's metadata does not decode: %v", err)
			continue
		}
		if err := convert(a.Spec, &spec); err != nil {
			r.Report(a.Obj, a.TemplatePath("spec"), "cannot check PodSecurity: the pod template's spec does not decode: %v", err)
			continue
		}
		type target struct {
			c        corev1.Container
			init     bool
			injected bool
			field    Path
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
		// Pod-level problems: the pod without containers.
		bare := spec
		bare.Containers, bare.InitContainers, bare.EphemeralContainers = nil, nil, nil
		podFails := map[string]bool{}
		for _, res := range ev.EvaluatePod(lv, &meta, &bare) {
			if !res.Allowed {
				podFails[res.ForbiddenReason] = true
				r.Report(a.Obj, a.TemplatePath("spec"), "audit pod violates PodSecurity \"restricted\": %s", reason(res))
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
				if t.injected && res.ForbiddenReason == "seccompProfile" && sidecarSeccompMissing(a.Workload) {
					continue // audit-sidecar-seccomp
				}
				what := fmt.Sprintf("container %q", t.c.Name)
				if t.injected {
					what = fmt.Sprintf("container %q (injected by Dapr)", SidecarName)
				}
				r.Report(a.Obj, t.field, "%s of the audit pod violates PodSecurity \"restricted\": %s", what, reason(res))
			}
		}
	}
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
