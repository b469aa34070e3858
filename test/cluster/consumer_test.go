package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// TestConsumerReconcilesGatekeeper installs our chart with the violations
// consumer (SQLite on its claim, its read-only ClusterRole) beside
// Gatekeeper's own chart, and lets Gatekeeper's real audit run: v3.17.0
// sends no run markers, so its runs complete from the constraint's status
// alone; v3.23.1 sends them, and the status is checked too. Two objects are
// fixed and their violations resolved at the next audit; the constraint is
// deleted and the rest resolved as constraint-deleted; the API and the CLI
// agree with the constraint's status all along.
func TestConsumerReconcilesGatekeeper(t *testing.T) {
	for _, version := range cluster.GatekeeperVersions {
		t.Run(version, func(t *testing.T) {
			const n = 6
			e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
			prepare(t, e, version, nil)
			ctx := context.Background()
			values := chartValues(e, version)
			values["subscriber"] = map[string]any{"enabled": false}
			// An alert route whose URL (with a token in its query) is in a
			// Secret: the chart mounts it in a projected volume.
			hook := newAlertHook(t)
			if _, err := e.Kube.Client.CoreV1().Secrets(cluster.SubscriberNS).Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "alert-hook"},
				StringData: map[string]string{"url": hook.url + "?token=in-the-secret"},
			}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			values["consumer"] = map[string]any{"enabled": true, "namespace": cluster.SubscriberNS, "createNamespace": false, "runGrace": "2s",
				"reports": map[string]any{"enabled": true},
				"alerts": map[string]any{"routes": []any{map[string]any{"name": "cluster-test",
					"webhook": map[string]any{"urlSecret": map[string]any{"name": "alert-hook", "key": "url"}}}}}}
			if err := e.InstallOpenReportsCRDs(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, values, false); err != nil {
				t.Fatal(err)
			}
			sidecar(t, podOf(t, e, cluster.SubscriberNS, "violations"))
			applyPolicy(t, e, version, n)

			server := consumerAPI(t, e)
			// All n open, from a complete run that the status agrees with.
			open := waitViolations(t, e, server, "open", n, "")
			for _, v := range open {
				if v.Constraint.Name != cluster.Constraint || v.Resource.Kind != "ConfigMap" || v.Resource.Namespace != cluster.Playground {
					t.Fatalf("violation %+v is not of the constraint's ConfigMaps", v)
				}
			}

			// The consumer's OpenReport of the namespace lists them.
			waitReport(t, e, n)
			// Written by the holder of the reports Lease, the consumer's pod
			// (the chart's Role allows it that Lease, POD_NAME names it).
			lease, err := e.Kube.Client.CoordinationV1().Leases(cluster.SubscriberNS).Get(ctx, "violations-reports-default", metav1.GetOptions{})
			if err != nil {
				t.Fatalf("the reports Lease: %v", err)
			}
			if pod := podOf(t, e, cluster.SubscriberNS, "violations"); lease.Spec.HolderIdentity == nil || !strings.HasPrefix(*lease.Spec.HolderIdentity, pod.Name+"_") {
				t.Fatalf("the reports Lease is held by %v, want the pod %s", lease.Spec.HolderIdentity, pod.Name)
			}

			// The route heard of the first complete run: all n new.
			if a := hook.wait(t, func(a alerts.Alert) bool { return a.New.Count > 0 }); a.New.Count != n || a.Resolved.Count != 0 {
				t.Fatalf("the first alert: %d new, %d resolved; want %d new", a.New.Count, a.Resolved.Count, n)
			}

			// Fix two objects: the next complete run resolves exactly them.
			if err := e.FixViolators(ctx, "violator-00000", "violator-00001"); err != nil {
				t.Fatal(err)
			}
			resolved := waitViolations(t, e, server, "resolved", 2, "")
			for _, v := range resolved {
				if v.Resource.Name != "violator-00000" && v.Resource.Name != "violator-00001" {
					t.Fatalf("resolved %s, not a fixed object", v.Resource.Name)
				}
				if v.ResolvedAt == nil || v.Reason != store.ReasonAbsent || v.ResolvedAt.Before(v.FirstSeen) {
					t.Fatalf("resolved %+v: want a resolution time after first seen, reason absent", v)
				}
			}
			// ... and the route hears of exactly those two, once.
			a := hook.wait(t, func(a alerts.Alert) bool { return a.Resolved.Count > 0 })
			if a.Resolved.Count != 2 || a.New.Count != 0 {
				t.Fatalf("the alert of the fixing run: %d new, %d resolved; want 2 resolved", a.New.Count, a.Resolved.Count)
			}
			for _, it := range a.Resolved.Items {
				if it.Resource.Name != "violator-00000" && it.Resource.Name != "violator-00001" {
					t.Fatalf("the alert resolves %s, not a fixed object", it.Resource.Name)
				}
			}
			total, err := e.TotalViolations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(waitViolations(t, e, server, "open", int(total), "")); int64(got) != total {
				t.Fatalf("%d open, the constraint's status says %d", got, total)
			}
			waitReport(t, e, int(total))

			// The CLI against the same API.
			out := runCLI(t, e, "list", "--server", server, "--state", "all")
			if strings.Count(out, "\n") != n+1 || strings.Count(out, " resolved ") != 2 {
				t.Fatalf("violations list:\n%s", out)
			}
			runs := runCLI(t, e, "runs", "--server", server)
			if !strings.Contains(runs, "finalized") {
				t.Fatalf("violations runs:\n%s", runs)
			}
			t.Logf("violations list --state all:\n%s\nviolations runs:\n%s", out, runs)

			// Gatekeeper loses the right to list ConfigMaps for one audit:
			// the audit skips the kind silently and reports the constraint's
			// violations gone (totalViolations 0, v3.23 still sends its
			// completed marker). The consumer holds that run instead of
			// resolving them all; with the right back, the next audit
			// disagrees and nothing was resolved.
			stillOpen := int64(n - 2)
			restore, err := e.RevokeGatekeeperRead(ctx, "", "configmaps")
			if err != nil {
				t.Fatal(err)
			}
			waitTotal(t, e, 0)
			if err := restore(ctx); err != nil {
				t.Fatal(err)
			}
			held := waitRun(t, e, server, store.RunHeld)
			t.Logf("with ConfigMaps unlistable: run %s held: %s", held.ID.Format(time.RFC3339), held.Reason)
			waitTotal(t, e, stillOpen)
			waitRun(t, e, server, store.RunFinalized) // a run after the held one
			if got := waitViolations(t, e, server, "open", int(stillOpen), ""); len(got) != int(stillOpen) {
				t.Fatalf("%d open after the held run, want %d", len(got), stillOpen)
			}
			if got := waitViolations(t, e, server, "resolved", 2, ""); len(got) != 2 {
				t.Fatalf("%d resolved after the held run, want the 2 fixed", len(got))
			}
			if m := consumerMetrics(t, server); !strings.Contains(m, "violations_runs_held_total{cluster=") {
				t.Fatalf("no held run counted in the metrics:\n%s", m)
			}

			// Delete the constraint: its open violations are resolved so.
			dyn, err := dynamic.NewForConfig(e.Kube.Config)
			if err != nil {
				t.Fatal(err)
			}
			gvr := schema.GroupVersionResource{Group: "constraints.gatekeeper.sh", Version: "v1beta1", Resource: "k8srequiredlabels"}
			if err := dyn.Resource(gvr).Delete(ctx, cluster.Constraint, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			// The two fixed stay resolved as absent; the other four are
			// resolved as constraint-deleted.
			waitViolations(t, e, server, "resolved", n-2, store.ReasonConstraintDeleted)
			if got := waitViolations(t, e, server, "open", 0, ""); len(got) != 0 {
				t.Fatalf("%d open after the constraint's deletion", len(got))
			}
			waitReport(t, e, 0) // an empty report is deleted
		})
	}
}

func consumerAPI(t *testing.T, e *cluster.Env) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server, err := e.ConsumerAPI(ctx, cluster.SubscriberNS)
	if err != nil {
		t.Fatalf("%v; stand-in events:\n%s", err, e.Kubelet.Events())
	}
	return server
}

// waitViolations waits until the API lists want violations in state (with
// reason, when given) and returns them.
func waitViolations(t *testing.T, e *cluster.Env, server, state string, want int, reason string) []store.Violation {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var got []store.Violation
	for {
		got = nil
		resp, err := http.Get(server + "/api/v1/violations?state=" + state)
		if err == nil {
			var l api.ViolationList
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if json.Unmarshal(b, &l) == nil {
				for _, v := range l.Items {
					if reason == "" || v.Reason == reason {
						got = append(got, v)
					}
				}
			}
		}
		if len(got) == want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s violations (reason %q) after 3 minutes, want %d; consumer log:\n%s", len(got), state, reason, want,
				e.Kubelet.Logs(cluster.SubscriberNS, "violations-", "violations"))
		}
		time.Sleep(time.Second)
	}
}

func runCLI(t *testing.T, e *cluster.Env, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(e.Bin, "violations"), args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("violations %v: %v\n%s", args, err, stderr.String())
	}
	return out.String()
}

// waitTotal waits until the constraint's status.totalViolations is want.
func waitTotal(t *testing.T, e *cluster.Env, want int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := e.TotalViolations(context.Background())
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the constraint's totalViolations is %d (%v) after 2 minutes, want %d; audit log:\n%s", got, err, want, e.AuditLog())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitRun waits until the consumer's newest judged run is in state.
func waitRun(t *testing.T, e *cluster.Env, server, state string) store.Run {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var last []store.Run
	for {
		resp, err := http.Get(server + "/api/v1/runs")
		if err == nil {
			var l api.RunList
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if json.Unmarshal(b, &l) == nil {
				last = l.Items
				for _, r := range l.Items {
					if r.State == store.RunPending || r.State == store.RunIncomplete {
						continue
					}
					if r.State == state {
						return r
					}
					break // the newest judged run is another
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run %s after 3 minutes; runs %+v; consumer log:\n%s", state, last,
				e.Kubelet.Logs(cluster.SubscriberNS, "violations-", "violations"))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func consumerMetrics(t *testing.T, server string) string {
	t.Helper()
	resp, err := http.Get(server + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitReport waits until the consumer's OpenReport of the playground
// namespace lists want results (0: no report), each failing the
// constraint, from source gatekeeper.
func waitReport(t *testing.T, e *cluster.Env, want int) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(e.Kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, detail := 0, "absent"
		u, err := dyn.Resource(gvr).Namespace(cluster.Playground).Get(context.Background(), "gatekeeper", metav1.GetOptions{})
		if err == nil {
			results, _, _ := unstructured.NestedSlice(u.Object, "results")
			got, detail = len(results), fmt.Sprint(u.Object["summary"])
			for _, r := range results {
				m, _ := r.(map[string]any)
				if m["source"] != "gatekeeper" || (m["result"] != "fail" && m["result"] != "warn") || m["policy"] != "K8sRequiredLabels/"+cluster.Constraint {
					t.Fatalf("report result %v", m)
				}
			}
		}
		if got == want && (want > 0) == (err == nil) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Report %s/gatekeeper has %d results (%s, %v), want %d; consumer log:\n%s", cluster.Playground, got, detail, err, want,
				e.Kubelet.Logs(cluster.SubscriberNS, "violations-", "violations"))
		}
		time.Sleep(time.Second)
	}
}
