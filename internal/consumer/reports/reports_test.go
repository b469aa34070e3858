package reports_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/reports"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
)

var seen = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func viol(ns, name, action string) store.Violation {
	kind := "ConfigMap"
	if ns == "" {
		kind = "Namespace"
	}
	return store.Violation{Key: "k-" + ns + "-" + name, Cluster: "prod", State: store.StateOpen, FirstSeen: seen,
		Constraint: store.Constraint{Group: "constraints.gatekeeper.sh", Kind: "K8sRequiredLabels", Name: "must-have-owner"},
		Resource:   store.Resource{Version: "v1", Kind: kind, Namespace: ns, Name: name},
		Message:    "you must provide labels: {\"owner\"}", EnforcementAction: action}
}

func TestBuild(t *testing.T) {
	resolved := viol("a", "gone", "deny")
	resolved.State = store.StateResolved
	got := reports.Build([]store.Violation{viol("a", "x", "deny"), viol("a", "y", "warn"), viol("a", "z", "dryrun"), viol("", "ns1", "deny"), resolved},
		reports.Options{Cluster: "prod", MaxResults: 2})
	want := []struct {
		kind, ns, name string
		results        int
		fail, warn     int
	}{
		{"ClusterReport", "", "gatekeeper", 1, 1, 0},
		{"Report", "a", "gatekeeper", 2, 1, 1},
		{"Report", "a", "gatekeeper-2", 1, 0, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d reports, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind() != w.kind || g.Namespace != w.ns || g.Name != w.name || len(g.Report.Results) != w.results || g.Report.Summary.Fail != w.fail || g.Report.Summary.Warn != w.warn {
			t.Errorf("report %d: %s %s/%s with %d results (%+v), want %+v", i, g.Kind(), g.Namespace, g.Name, len(g.Report.Results), g.Report.Summary, w)
		}
	}
	r := got[1].Report.Results[0]
	if r.Source != "gatekeeper" || r.Policy != "K8sRequiredLabels/must-have-owner" || r.Rule != "K8sRequiredLabels" || r.Severity != "medium" ||
		r.Timestamp.Seconds != seen.Unix() || r.Properties["resultID"] != "k-a-x" || r.Properties["template"] != "k8srequiredlabels" ||
		len(r.Subjects) != 1 || r.Subjects[0].Name != "x" || r.Subjects[0].APIVersion != "v1" {
		t.Errorf("result %+v", r)
	}
}

// TestSyncInTheAPIServer writes the reports into a real kube-apiserver
// with OpenReports' own CRDs (from the reports-api module): the server's
// schema validation accepts them, an unchanged run leaves them untouched,
// changes update them, a split follows the limit, empty ones go.
func TestSyncInTheAPIServer(t *testing.T) {
	ctx := context.Background()
	kube, err := procs.StartKube(ctx, procs.KubeOptions{NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kube.Stop)
	mod, err := gomod.Download(ctx, "github.com/openreports/reports-api", "v0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(kube.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(mod.Dir, "config", "crd")}, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"a", "b"} {
		if _, err := kube.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dyn, err := dynamic.NewForConfig(kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	opts := reports.Options{Cluster: "prod", MaxResults: 2}
	sync := func(vs []store.Violation) reports.SyncResult {
		t.Helper()
		res, err := reports.Sync(ctx, dyn, reports.Build(vs, opts), opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	vs := []store.Violation{viol("a", "x", "deny"), viol("a", "y", "deny"), viol("a", "z", "warn"), viol("b", "p", "deny"), viol("", "ns1", "deny")}
	if got := sync(vs); got.Created != 4 {
		t.Fatalf("first sync: %s, want 4 created (a: 2 reports, b, the cluster's)", got)
	}
	before := snapshot(t, dyn)
	if got := sync(vs); got.Unchanged != 4 || got.Created+got.Updated+got.Deleted != 0 {
		t.Fatalf("unchanged run: %s", got)
	}
	if after := snapshot(t, dyn); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("an unchanged run changed reports:\nbefore %v\nafter  %v", before, after)
	}
	// b's violation resolved, one more in a: b's report goes, a's change.
	vs[3].State = store.StateResolved
	vs = append(vs, viol("a", "w", "deny"))
	if got := sync(vs); got.Deleted != 1 || got.Updated != 2 || got.Unchanged != 1 {
		t.Fatalf("after changes: %s, want b's deleted, a's two updated, the cluster's unchanged", got)
	}
	after := snapshot(t, dyn)
	want := map[string]int{"reports:a/gatekeeper": 2, "reports:a/gatekeeper-2": 2, "clusterreports:/gatekeeper": 1}
	if len(after) != len(want) {
		t.Fatalf("reports %v, want %v", after, want)
	}
	for k, n := range want {
		if after[k].results != n {
			t.Errorf("%s has %d results, want %d", k, after[k].results, n)
		}
	}
}

type report struct {
	results int
	rv      string
}

// snapshot is every report written: its results and resourceVersion.
func snapshot(t *testing.T, dyn dynamic.Interface) map[string]report {
	t.Helper()
	out := map[string]report{}
	for _, gvr := range []schema.GroupVersionResource{reports.ReportGVR, reports.ClusterReportGVR} {
		l, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range l.Items {
			results, _, _ := unstructured.NestedSlice(u.Object, "results")
			if src, _, _ := unstructured.NestedString(u.Object, "source"); src != reports.Source {
				t.Errorf("%s %s/%s: source %q", gvr.Resource, u.GetNamespace(), u.GetName(), src)
			}
			out[gvr.Resource+":"+u.GetNamespace()+"/"+u.GetName()] = report{results: len(results), rv: u.GetResourceVersion()}
		}
	}
	return out
}
