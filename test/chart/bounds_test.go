package chart_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// boundsValueSets are rendered by TestEveryPodIsBounded besides valueSets:
// every workload at once, and the sidecar's bounds set by value and
// overridden by one pod's annotations.
var boundsValueSets = []valueSet{
	{name: "every workload", set: []string{"audit.enablePubsub=true", "audit.deploy=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk",
		"subscriber.enabled=true", "consumer.enabled=true", "consumer.appId=violations"}},
	{name: "sidecar bounds set", set: []string{"audit.enablePubsub=true", "audit.deploy=true", "subscriber.enabled=true",
		"dapr.sidecar.resources.requests.cpu=1", "dapr.sidecar.resources.limits.cpu=2", "dapr.sidecar.resources.limits.memory=1Gi"}},
	{name: "sidecar bounds overridden by annotations", set: []string{"audit.enablePubsub=true", "audit.deploy=true", "consumer.enabled=true"},
		setString: []string{"consumer.podAnnotations.dapr\\.io/sidecar-memory-limit=2Gi", "auditPodAnnotations.dapr\\.io/sidecar-cpu-request=200m"}},
}

// podSpec is one pod the chart renders (a Pod, or a workload's template).
type podSpec struct {
	what        string // "Deployment ns/name" or "Pod ns/name"
	annotations map[string]string
	spec        corev1.PodSpec
}

func renderedPods(t *testing.T, objs []render.Object) []podSpec {
	t.Helper()
	var out []podSpec
	for _, o := range objs {
		var tmpl any
		switch o.Kind() {
		case "Pod":
			tmpl = o.Obj
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
			tmpl, _ = render.Lookup(o.Obj, "spec", "template")
		case "CronJob":
			tmpl, _ = render.Lookup(o.Obj, "spec", "jobTemplate", "spec", "template")
		default:
			continue
		}
		p := decode[corev1.PodTemplateSpec](t, tmpl)
		out = append(out, podSpec{what: fmt.Sprintf("%s %s/%s", o.Kind(), o.Namespace(), o.Name()), annotations: p.Annotations, spec: p.Spec})
	}
	return out
}

// boundsProblems lists what lacks bounds in a pod: a container (or init
// container) without a cpu and a memory request and a memory limit, or
// with a request above its limit; in a pod Dapr injects daprd into, the
// sidecar's request and limit annotations, which must parse as Dapr's
// injector parses them.
func boundsProblems(p podSpec) []string {
	var problems []string
	containers := append(append([]corev1.Container{}, p.spec.InitContainers...), p.spec.Containers...)
	for _, c := range containers {
		r := c.Resources
		for _, need := range []struct {
			list corev1.ResourceList
			kind string
			name corev1.ResourceName
		}{{r.Requests, "requests", corev1.ResourceCPU}, {r.Requests, "requests", corev1.ResourceMemory}, {r.Limits, "limits", corev1.ResourceMemory}} {
			if q, ok := need.list[need.name]; !ok || q.IsZero() {
				problems = append(problems, fmt.Sprintf("%s container %s: no resources.%s.%s", p.what, c.Name, need.kind, need.name))
			}
		}
		for name, req := range r.Requests {
			if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
				problems = append(problems, fmt.Sprintf("%s container %s: %s request %s above its limit %s", p.what, c.Name, name, req.String(), lim.String()))
			}
		}
	}
	if p.annotations["dapr.io/enabled"] == "true" {
		q := map[string]resource.Quantity{}
		for _, k := range []string{"cpu-request", "memory-request", "memory-limit", "cpu-limit"} {
			key := "dapr.io/sidecar-" + k
			v, ok := p.annotations[key]
			if !ok {
				if k != "cpu-limit" {
					problems = append(problems, fmt.Sprintf("%s: the daprd sidecar has no %s annotation", p.what, key))
				}
				continue
			}
			parsed, err := resource.ParseQuantity(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s %q is not a quantity Dapr's injector reads: %v", p.what, key, v, err))
				continue
			}
			q[k] = parsed
		}
		for _, res := range []string{"cpu", "memory"} {
			req, okr := q[res+"-request"]
			lim, okl := q[res+"-limit"]
			if okr && okl && req.Cmp(lim) > 0 {
				problems = append(problems, fmt.Sprintf("%s: the daprd sidecar's %s request %s is above its limit %s", p.what, res, req.String(), lim.String()))
			}
		}
	}
	return problems
}

// TestEveryPodIsBounded walks every pod each value set renders (the helm
// test pod included) and fails on a container without requests and a
// memory limit, or a Dapr pod whose sidecar has none.
func TestEveryPodIsBounded(t *testing.T) {
	for _, vs := range append(append([]valueSet{}, valueSets...), boundsValueSets...) {
		t.Run(vs.name, func(t *testing.T) {
			pods := renderedPods(t, renderSet(t, vs, true).Objects)
			for _, p := range pods {
				for _, problem := range boundsProblems(p) {
					t.Errorf("value set %s: %s", vs.name, problem)
				}
				// Long-running pods are probed: the kubelet restarts a hung one.
				if strings.HasPrefix(p.what, "Deployment ") {
					for _, c := range p.spec.Containers {
						if c.LivenessProbe == nil {
							t.Errorf("value set %s: %s container %s has no liveness probe", vs.name, p.what, c.Name)
						}
					}
				}
			}
		})
	}
}

// TestSidecarBounds: the daprd annotations follow dapr.sidecar.resources in
// every Dapr pod, and one pod's annotations override them.
func TestSidecarBounds(t *testing.T) {
	defaults := map[string]string{"dapr.io/sidecar-cpu-request": "50m", "dapr.io/sidecar-memory-request": "128Mi", "dapr.io/sidecar-memory-limit": "512Mi"}
	with := func(over map[string]string) map[string]string {
		m := map[string]string{"dapr.io/sidecar-cpu-limit": ""}
		for k, v := range defaults {
			m[k] = v
		}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		vs   valueSet
		want map[string]map[string]string // pod -> annotation -> value ("" absent)
	}{
		{valueSet{name: "subscriber", set: []string{"audit.enablePubsub=true", "audit.deploy=true", "subscriber.enabled=true"}}, map[string]map[string]string{
			"Deployment gatekeeper-system/gatekeeper-audit":        with(nil),
			"Deployment fake-subscriber/sub":                       with(nil),
			"Pod gatekeeper-system/gatekeeper-pubsub-test-publish": with(nil),
		}},
		{boundsValueSets[1], map[string]map[string]string{
			"Deployment gatekeeper-system/gatekeeper-audit": with(map[string]string{"dapr.io/sidecar-cpu-request": "1", "dapr.io/sidecar-cpu-limit": "2", "dapr.io/sidecar-memory-limit": "1Gi"}),
			"Deployment fake-subscriber/sub":                with(map[string]string{"dapr.io/sidecar-cpu-request": "1", "dapr.io/sidecar-cpu-limit": "2", "dapr.io/sidecar-memory-limit": "1Gi"}),
		}},
		{boundsValueSets[2], map[string]map[string]string{
			"Deployment gatekeeper-system/gatekeeper-audit":        with(map[string]string{"dapr.io/sidecar-cpu-request": "200m"}),
			"Deployment gatekeeper-violations/violations":          with(map[string]string{"dapr.io/sidecar-memory-limit": "2Gi"}),
			"Pod gatekeeper-system/gatekeeper-pubsub-test-publish": with(nil),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.vs.name, func(t *testing.T) {
			pods := map[string]podSpec{}
			for _, p := range renderedPods(t, renderSet(t, tc.vs, true).Objects) {
				pods[p.what] = p
			}
			for what, want := range tc.want {
				p, ok := pods[what]
				if !ok {
					t.Fatalf("no %s rendered (have %v)", what, keys(pods))
				}
				for k, v := range want {
					if got := p.annotations[k]; got != v {
						t.Errorf("%s: %s = %q, want %q", what, k, got, v)
					}
				}
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
