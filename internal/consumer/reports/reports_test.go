package reports_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
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
		reports.Options{Cluster: "prod", MaxResults: 2}, reports.Facts{})
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
		len(r.Subjects) != 1 || r.Subjects[0].Name != "x" || r.Subjects[0].APIVersion != "v1" || r.Subjects[0].UID != "" {
		t.Errorf("result %+v", r)
	}
}

// TestBuildFacts: a constraint's severity from the facts replaces the
// default for its results only; a resource's UID goes into its subject.
func TestBuildFacts(t *testing.T) {
	other := viol("a", "y", "deny")
	other.Constraint.Name = "other"
	x := viol("a", "x", "deny")
	facts := reports.Facts{
		Severity: map[store.Constraint]string{x.Constraint: "critical"},
		UID:      map[store.Resource]types.UID{x.Resource: "uid-of-x"},
	}
	for _, tc := range []struct {
		name     string
		opts     reports.Options
		facts    reports.Facts
		severity map[string]string // by resource name
		uid      map[string]types.UID
	}{
		{"no facts: the default", reports.Options{}, reports.Facts{}, map[string]string{"x": "medium", "y": "medium"}, map[string]types.UID{"x": "", "y": ""}},
		{"no facts, another default", reports.Options{Severity: "low"}, reports.Facts{}, map[string]string{"x": "low", "y": "low"}, map[string]types.UID{"x": "", "y": ""}},
		{"the constraint's severity and the UID", reports.Options{Severity: "low"}, facts, map[string]string{"x": "critical", "y": "low"}, map[string]types.UID{"x": "uid-of-x", "y": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := reports.Build([]store.Violation{x, other}, tc.opts, tc.facts)
			if len(objs) != 1 || len(objs[0].Report.Results) != 2 {
				t.Fatalf("reports %+v", objs)
			}
			for _, r := range objs[0].Report.Results {
				name := r.Subjects[0].Name
				if string(r.Severity) != tc.severity[name] || r.Subjects[0].UID != tc.uid[name] {
					t.Errorf("%s: severity %q uid %q, want %q and %q", name, r.Severity, r.Subjects[0].UID, tc.severity[name], tc.uid[name])
				}
			}
		})
	}
}

// TestSyncInTheAPIServer writes the reports into a real kube-apiserver
// with OpenReports' own CRDs (from the reports-api module): the server's
// schema validation accepts them, an unchanged run leaves them untouched,
// changes update them, a split follows the limit, empty ones go.
func TestSyncInTheAPIServer(t *testing.T) {
	ctx := context.Background()
	kube := apiServer(t)
	namespaces(t, kube, "a", "b")
	dyn := dynamicFor(t, kube)
	cleanup(t, dyn, "prod")
	opts := reports.Options{Cluster: "prod", MaxResults: 2}
	sync := func(vs []store.Violation) reports.SyncResult {
		t.Helper()
		res, err := reports.Sync(ctx, dyn, reports.Build(vs, opts, reports.Facts{}), opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	vs := []store.Violation{viol("a", "x", "deny"), viol("a", "y", "deny"), viol("a", "z", "warn"), viol("b", "p", "deny"), viol("", "ns1", "deny")}
	if got := sync(vs); got.Created != 4 {
		t.Fatalf("first sync: %s, want 4 created (a: 2 reports, b, the cluster's)", got)
	}
	before := snapshot(t, dyn, "prod")
	if got := sync(vs); got.Unchanged != 4 || got.Created+got.Updated+got.Deleted != 0 {
		t.Fatalf("unchanged run: %s", got)
	}
	if after := snapshot(t, dyn, "prod"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("an unchanged run changed reports:\nbefore %v\nafter  %v", before, after)
	}
	// b's violation resolved, one more in a: b's report goes, a's change.
	vs[3].State = store.StateResolved
	vs = append(vs, viol("a", "w", "deny"))
	if got := sync(vs); got.Deleted != 1 || got.Updated != 2 || got.Unchanged != 1 {
		t.Fatalf("after changes: %s, want b's deleted, a's two updated, the cluster's unchanged", got)
	}
	after := snapshot(t, dyn, "prod")
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

// The API server and its CRDs, shared by the package's tests (each uses
// its own cluster label and namespaces).
var shared struct {
	once sync.Once
	kube *procs.Kube
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.kube != nil {
		shared.kube.Stop()
	}
	os.Exit(code)
}

// apiServer starts (once) a real kube-apiserver with OpenReports' CRDs and
// the CRD of the constraint kind K8sRequiredLabels. A missing
// kube-apiserver or etcd fails the test naming `make tools`.
func apiServer(t *testing.T) *procs.Kube {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		kube, err := procs.StartKube(ctx, procs.KubeOptions{NoControllerManager: true})
		if err != nil {
			shared.err = fmt.Errorf("starting kube-apiserver: %w", err)
			return
		}
		shared.kube = kube
		mod, err := gomod.Download(ctx, "github.com/openreports/reports-api", "v0.2.1")
		if err != nil {
			shared.err = err
			return
		}
		if _, err := envtest.InstallCRDs(kube.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(mod.Dir, "config", "crd")}, ErrorIfPathMissing: true}); err != nil {
			shared.err = fmt.Errorf("installing OpenReports' CRDs: %w", err)
			return
		}
		shared.err = constraintCRD(ctx, kube, "K8sRequiredLabels")
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.kube
}

// constraintCRD makes the CRD Gatekeeper makes for a ConstraintTemplate
// (cluster-scoped, constraints.gatekeeper.sh/v1beta1; its schema reduced
// to any object) and waits until it is served.
func constraintCRD(ctx context.Context, kube *procs.Kube, kind string) error {
	dyn, err := dynamic.NewForConfig(kube.Config)
	if err != nil {
		return err
	}
	plural := lower(kind)
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": plural + "." + reports.ConstraintsGroup},
		"spec": map[string]any{
			"group": reports.ConstraintsGroup, "scope": "Cluster",
			"names": map[string]any{"kind": kind, "listKind": kind + "List", "plural": plural, "singular": plural, "categories": []any{"constraint", "constraints"}},
			"versions": []any{map[string]any{"name": "v1beta1", "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema":       map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the CRD of %s: %w", kind, err)
	}
	gvr := constraintGVR(kind)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the CRD of %s is not served: %w", kind, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func constraintGVR(kind string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: reports.ConstraintsGroup, Version: "v1beta1", Resource: lower(kind)}
}

func dynamicFor(t *testing.T, kube *procs.Kube) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}

// cleanup deletes the cluster's reports when t ends: the ClusterReport's
// name (gatekeeper) is the same for every cluster.
func cleanup(t *testing.T, dyn dynamic.Interface, cluster string) {
	t.Cleanup(func() {
		sel := labels.Set{reports.LabelCluster: cluster}.AsSelector().String()
		for _, gvr := range []schema.GroupVersionResource{reports.ReportGVR, reports.ClusterReportGVR} {
			l, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				t.Errorf("listing %s to delete: %v", gvr.Resource, err)
				continue
			}
			for _, u := range l.Items {
				if err := dyn.Resource(gvr).Namespace(u.GetNamespace()).Delete(context.Background(), u.GetName(), metav1.DeleteOptions{}); err != nil {
					t.Errorf("deleting %s %s/%s: %v", gvr.Resource, u.GetNamespace(), u.GetName(), err)
				}
			}
		}
	})
}

func namespaces(t *testing.T, kube *procs.Kube, names ...string) {
	t.Helper()
	for _, ns := range names {
		_, err := kube.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating namespace %s: %v", ns, err)
		}
	}
}

type report struct {
	results int
	rv      string
}

// snapshot is every report written for the cluster: its results and
// resourceVersion.
func snapshot(t *testing.T, dyn dynamic.Interface, cluster string) map[string]report {
	t.Helper()
	out := map[string]report{}
	sel := labels.Set{reports.LabelCluster: cluster}.AsSelector().String()
	for _, gvr := range []schema.GroupVersionResource{reports.ReportGVR, reports.ClusterReportGVR} {
		l, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{LabelSelector: sel})
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

// waitFor polls cond every 50ms until it holds or d passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s: %v", d, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var errNotYet = errors.New("not yet")
