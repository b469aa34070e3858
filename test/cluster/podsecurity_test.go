package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

// TestPodSecurityAgreesWithLint installs the chart with values a user
// might give, next to the real Dapr injector, under PodSecurity restricted,
// and lints the same chart with the same values: the real admission and
// pubsub-lint agree, both ways.
func TestPodSecurityAgreesWithLint(t *testing.T) {
	const version = "v3.17.0"
	noSeccomp := map[string]any{
		// Neither the sidecar annotation nor a pod-level profile daprd
		// would inherit (null deletes a default key in Helm's merge).
		"auditPodAnnotations": map[string]any{"dapr.io/sidecar-seccomp-profile-type": ""},
		"audit":               map[string]any{"podSecurityContext": map[string]any{"seccompProfile": nil}},
	}
	tests := []struct {
		name string
		// dropAll is the injector's SIDECAR_DROP_ALL_CAPABILITIES.
		dropAll bool
		values  map[string]any
		// rejected is a part of the ReplicaSet's failure message; empty
		// means the pod is admitted.
		rejected []string
		// rules that pubsub-lint reports as errors.
		lintRules []string
	}{
		{name: "documented setup", dropAll: true},
		{name: "no seccomp profile for daprd", dropAll: true, values: noSeccomp,
			rejected: []string{`violates PodSecurity "restricted:latest"`, "seccompProfile", `"daprd"`}, lintRules: []string{"audit-sidecar-seccomp"}},
		{name: "injector keeps capabilities (Dapr chart default)", dropAll: false,
			rejected: []string{`violates PodSecurity "restricted:latest"`, "unrestricted capabilities", `"daprd"`}, lintRules: []string{"audit-pod-security"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startEnv(t, cluster.Options{DropAllCapabilities: tc.dropAll, GatekeeperVersions: []string{version}})
			prepare(t, e, version, nil)
			vals := chartValues(e, version)
			vals["subscriber"] = map[string]any{"enabled": false}
			cluster.MergeValues(vals, tc.values)
			ctx := context.Background()
			if _, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, vals, true); err != nil {
				t.Fatal(err)
			}

			// The real admission.
			failure := replicaFailure(t, e, cluster.GatekeeperNS, "gatekeeper-audit", len(tc.rejected) > 0)
			if len(tc.rejected) == 0 {
				sidecar(t, podOf(t, e, cluster.GatekeeperNS, "gatekeeper-audit"))
			}
			for _, want := range tc.rejected {
				if !strings.Contains(failure, want) {
					t.Errorf("ReplicaSet failure %q does not contain %q", failure, want)
				}
			}

			if failure != "" {
				t.Logf("the real admission: %s", failure)
			}

			// pubsub-lint on the same chart and values.
			valuesFile := filepath.Join(t.TempDir(), "values.yaml")
			b, err := yaml.Marshal(vals)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(valuesFile, b, 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := lint.Run(ctx, lint.Options{Paths: []string{repoPath(t, "charts", "gatekeeper-pubsub")}, ValueFiles: []string{valuesFile},
				Namespace: cluster.GatekeeperNS, Assume: lint.Assumptions{DaprDropAllCapabilities: ptr.To(tc.dropAll)}})
			if err != nil {
				t.Fatal(err)
			}
			var errs []string
			for _, f := range res.Findings {
				if f.Severity == "error" {
					errs = append(errs, f.Rule)
				}
			}
			for _, want := range tc.lintRules {
				if !contains(errs, want) {
					t.Errorf("pubsub-lint errors %v lack %s (the real admission rejected the pod: %q)", errs, want, failure)
				}
			}
			if len(tc.rejected) == 0 && len(errs) > 0 {
				t.Errorf("pubsub-lint reports errors %v for a setup the real cluster admits: %+v", errs, res.Findings)
			}
		})
	}
}

// replicaFailure returns the ReplicaFailure message of the Deployment's
// ReplicaSet; when want is false it waits until the pod exists instead and
// returns "".
func replicaFailure(t *testing.T, e *cluster.Env, ns, deployment string, want bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		rss, err := e.Kube.Client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, rs := range rss.Items {
				if !strings.HasPrefix(rs.Name, deployment+"-") {
					continue
				}
				for _, c := range rs.Status.Conditions {
					if c.Type == "ReplicaFailure" {
						if !want {
							t.Fatalf("ReplicaSet %s could not create its pod: %s", rs.Name, c.Message)
						}
						return c.Message
					}
				}
				if !want && rs.Status.Replicas > 0 {
					return ""
				}
			}
		}
		select {
		case <-ctx.Done():
			var seen []string
			if rss, err := e.Kube.Client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{}); err == nil {
				for _, rs := range rss.Items {
					seen = append(seen, fmt.Sprintf("ReplicaSet %s: replicas %d, conditions %+v", rs.Name, rs.Status.Replicas, rs.Status.Conditions))
				}
			}
			if pods, err := e.Kube.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{}); err == nil {
				for _, p := range pods.Items {
					seen = append(seen, "Pod "+p.Name+" containers "+strings.Join(containerNames(&p), ","))
				}
			}
			t.Fatalf("%s/%s: want failure %v; found: %s", ns, deployment, want, strings.Join(seen, "; "))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
