package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/reports"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

var run0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// openStore opens an SQLite store in a file of the test.
func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// seed records one complete run of the cluster holding vs and finalises
// it, as the reconciler does.
func seed(t *testing.T, st store.Store, cluster string, run time.Time, vs ...violation.Violation) {
	t.Helper()
	ctx := context.Background()
	msgs := []store.Message{{Kind: store.KindStarted, Run: run}}
	for _, v := range vs {
		v.ID, v.EventType = run.Format(time.RFC3339), violation.EventType
		msgs = append(msgs, store.Message{Kind: store.KindViolation, Run: run, Violation: v})
	}
	msgs = append(msgs, store.Message{Kind: store.KindCompleted, Run: run})
	if _, err := st.Record(ctx, cluster, msgs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Finalize(ctx, cluster, run, store.FinalizeOptions{ResolveAfter: 1, MaxResolveShare: 1, Now: run.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
}

// gv is a violation of the constraint kind/name by the resource
// (group, version, kind, namespace, name).
func gv(constraintKind, constraint, group, version, kind, ns, name string) violation.Violation {
	return violation.Violation{Group: reports.ConstraintsGroup, Version: "v1beta1", Kind: constraintKind, Name: constraint,
		Message: "you must provide labels", EnforcementAction: "deny",
		ResourceGroup: group, ResourceAPIVersion: version, ResourceKind: kind, ResourceNamespace: ns, ResourceName: name}
}

// writerFor makes a writer over st with the clients of cfg.
func writerFor(t *testing.T, cfg *rest.Config, st store.Store, opts reports.Options, log *slog.Logger) *reports.Writer {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &reports.Writer{Store: st, Client: dyn, Metadata: md, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
		Options: opts, Logger: log, Resync: time.Nanosecond}
}

// once syncs (Resync is a nanosecond: every call syncs) and fails t on an
// error.
func once(t *testing.T, w *reports.Writer) reports.Outcome {
	t.Helper()
	out, err := w.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Synced {
		t.Fatal("the writer did not sync")
	}
	return out
}

// results reads the results of the cluster's reports by subject
// (Kind ns/name) and constraint name.
type resultKey struct{ subject, constraint string }

type resultInfo struct {
	severity string
	uid      string
}

func results(t *testing.T, dyn dynamic.Interface, cluster string) map[resultKey]resultInfo {
	t.Helper()
	out := map[resultKey]resultInfo{}
	sel := reports.LabelCluster + "=" + cluster
	for _, gvr := range []schema.GroupVersionResource{reports.ReportGVR, reports.ClusterReportGVR} {
		l, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range l.Items {
			rs, _, _ := unstructured.NestedSlice(u.Object, "results")
			for _, r := range rs {
				m := r.(map[string]any)
				subjects, _ := m["resources"].([]any)
				if len(subjects) != 1 {
					t.Fatalf("result %v: want one subject", m)
				}
				s := subjects[0].(map[string]any)
				props, _ := m["properties"].(map[string]any)
				c := fmt.Sprint(props["constraint"])
				k := resultKey{subject: fmt.Sprintf("%v %v/%v", s["kind"], nz(s["namespace"]), s["name"]), constraint: c[strings.Index(c, "/")+1:]}
				out[k] = resultInfo{severity: fmt.Sprint(m["severity"]), uid: nz(s["uid"])}
			}
		}
	}
	return out
}

func nz(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// constraint creates (or updates) a K8sRequiredLabels constraint with the
// labels and annotations.
func constraint(t *testing.T, dyn dynamic.Interface, name string, labels, annotations map[string]string) {
	t.Helper()
	ctx := context.Background()
	client := dyn.Resource(constraintGVR("K8sRequiredLabels"))
	u, err := client.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		u = &unstructured.Unstructured{Object: map[string]any{"apiVersion": reports.ConstraintsGroup + "/v1beta1", "kind": "K8sRequiredLabels",
			"metadata": map[string]any{"name": name}, "spec": map[string]any{}}}
		u.SetLabels(labels)
		u.SetAnnotations(annotations)
		if _, err := client.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	u.SetLabels(labels)
	u.SetAnnotations(annotations)
	if _, err := client.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestSeverityFromConstraints: the writer reads each constraint's
// severity label, else annotation; a value it does not know is logged
// once (naming the constraint, key and value) and the default used; a
// changed label shows at the next sync; a constraint kind made after the
// writer read discovery is found.
func TestSeverityFromConstraints(t *testing.T) {
	kube := apiServer(t)
	dyn := dynamicFor(t, kube)
	const cluster, ns = "severity", "sev"
	cleanup(t, dyn, cluster)
	namespaces(t, kube, ns)
	key := reports.DefaultSeverityKey
	for _, c := range []struct {
		name                string
		labels, annotations map[string]string
	}{
		{"by-label", map[string]string{key: "high"}, nil},
		{"by-annotation", nil, map[string]string{key: "critical"}},
		{"label-wins", map[string]string{key: "low"}, map[string]string{key: "critical"}},
		{"invalid", map[string]string{key: "urgent"}, nil},
		{"other-key", map[string]string{"severity": "high"}, nil},
		{"none", nil, nil},
	} {
		constraint(t, dyn, c.name, c.labels, c.annotations)
	}
	st := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	var vs []violation.Violation
	for _, c := range []string{"by-label", "by-annotation", "label-wins", "invalid", "other-key", "none", "deleted"} {
		vs = append(vs, gv("K8sRequiredLabels", c, "", "v1", "ConfigMap", ns, "cm"))
	}
	seed(t, st, cluster, run0, vs...)
	var logs syncBuffer
	w := writerFor(t, kube.Config, st, reports.Options{Cluster: cluster, Severity: "medium", SeverityKey: key},
		slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if out := once(t, w); out.Sync.Created != 1 {
		t.Fatalf("first sync: %s, want the namespace's report created", out.Sync)
	}
	want := map[string]string{"by-label": "high", "by-annotation": "critical", "label-wins": "low", "invalid": "medium", "other-key": "medium", "none": "medium", "deleted": "medium"}
	check := func() {
		t.Helper()
		got := results(t, dyn, cluster)
		if len(got) != len(want) {
			t.Fatalf("results %v, want one per constraint of %v", got, want)
		}
		for c, sev := range want {
			if g := got[resultKey{"ConfigMap " + ns + "/cm", c}].severity; g != sev {
				t.Errorf("constraint %s: severity %q, want %q", c, g, sev)
			}
		}
	}
	check()
	if out := once(t, w); out.Sync.Unchanged != 1 || out.Sync.Updated != 0 {
		t.Fatalf("second sync: %s, want the report unchanged", out.Sync)
	}
	// The invalid value: logged once over the two syncs, naming all.
	warnings := logs.lines(func(m map[string]any) bool { return strings.Contains(fmt.Sprint(m["msg"]), "constraint severity") })
	if len(warnings) != 1 {
		t.Fatalf("%d warnings about the invalid severity, want 1:\n%s", len(warnings), logs.String())
	}
	if m := warnings[0]; m["constraint"] != "K8sRequiredLabels/invalid" || m["label"] != key || m["value"] != "urgent" || m["level"] != "WARN" {
		t.Errorf("warning %v: want the constraint, the label key and the value", m)
	}

	// A changed severity shows at the next sync.
	constraint(t, dyn, "by-label", map[string]string{key: "info"}, nil)
	want["by-label"] = "info"
	if out := once(t, w); out.Sync.Updated != 1 {
		t.Fatalf("after the label changed: %s, want the report updated", out.Sync)
	}
	check()

	// A constraint kind made after the writer read discovery (a new
	// ConstraintTemplate) is found at the next sync.
	if err := constraintCRD(context.Background(), kube, "K8sAllowedRepos"); err != nil {
		t.Fatal(err)
	}
	repos := &unstructured.Unstructured{Object: map[string]any{"apiVersion": reports.ConstraintsGroup + "/v1beta1", "kind": "K8sAllowedRepos",
		"metadata": map[string]any{"name": "repos", "labels": map[string]any{key: "critical"}}, "spec": map[string]any{}}}
	if _, err := dyn.Resource(constraintGVR("K8sAllowedRepos")).Create(context.Background(), repos, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	seed(t, st, cluster, run0.Add(time.Hour), append(vs, gv("K8sAllowedRepos", "repos", "", "v1", "ConfigMap", ns, "cm"))...)
	want["repos"] = "critical"
	once(t, w)
	check()
}

// rbacUser binds the rules to a user the tests impersonate, and returns
// that user's configuration once the API server applies them.
func rbacUser(t *testing.T, kube *procs.Kube, user string, rules []rbacv1.PolicyRule, roleNS string, nsRules []rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	ctx := context.Background()
	rb := kube.Client.RbacV1()
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	if _, err := rb.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rb.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if nsRules != nil {
		if _, err := rb.Roles(roleNS).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: nsRules}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := rb.RoleBindings(roleNS).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(kube.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	// RBAC reaches the authorizer through an informer: wait until the
	// user may list reports.
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, user+" may list reports", func() error {
		_, err := dyn.Resource(reports.ReportGVR).List(ctx, metav1.ListOptions{Limit: 1})
		return err
	})
	return cfg
}

var reportRules = []rbacv1.PolicyRule{{APIGroups: []string{"openreports.io"}, Resources: []string{"reports", "clusterreports"}, Verbs: []string{"get", "list", "create", "update", "delete"}}}

// requests counts the requests a configuration sends, by method and path.
type requests struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *requests) wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	r.n = map[string]int{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(req *http.Request) (*http.Response, error) {
			r.mu.Lock()
			r.n[req.Method+" "+req.URL.Path]++
			r.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	return cfg
}

func (r *requests) take() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.n
	r.n = map[string]int{}
	return n
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestResourceUIDs: with ResourceUIDs the writer puts each resource's UID
// into its subject, reading each at most once (a GET each, or one List of
// a kind in a namespace with more than four), metadata only; a resource
// that is gone, forbidden or of an unknown kind has no UID and is
// counted, and the report is written all the same. An unchanged sync
// leaves the report alone; a recreated object's new UID is written.
func TestResourceUIDs(t *testing.T) {
	ctx := context.Background()
	kube := apiServer(t)
	dyn := dynamicFor(t, kube)
	const cluster = "uids"
	cleanup(t, dyn, cluster)
	namespaces(t, kube, "uids-a", "uids-b")
	cms := kube.Client.CoreV1().ConfigMaps
	mk := func(ns, name string) {
		t.Helper()
		if _, err := cms(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("uids-a", "x")
	mk("uids-a", "y")
	mk("uids-a", "z")
	var bNames []string
	for i := range 6 {
		bNames = append(bNames, fmt.Sprintf("b%d", i))
		mk("uids-b", bNames[i])
	}
	// Unrelated objects the List of uids-b pages over.
	mk("uids-b", "unrelated")
	if _, err := kube.Client.CoreV1().Secrets("uids-a").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The writer may read ConfigMaps and Namespaces, not Secrets.
	cfg := rbacUser(t, kube, "uids-writer", append([]rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps", "namespaces"}, Verbs: []string{"get", "list"}},
	}, reportRules...), "", nil)
	var reqs requests
	cfg = reqs.wrap(cfg)

	st := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	vs := []violation.Violation{
		gv("K8sRequiredLabels", "c1", "", "v1", "ConfigMap", "uids-a", "x"),
		gv("K8sRequiredLabels", "c2", "", "v1", "ConfigMap", "uids-a", "x"), // the same object: one GET
		gv("K8sRequiredLabels", "c1", "", "v1", "ConfigMap", "uids-a", "y"),
		gv("K8sRequiredLabels", "c1", "", "v1", "ConfigMap", "uids-a", "gone"),
		gv("K8sRequiredLabels", "c1", "", "v9", "ConfigMap", "uids-a", "z"), // a version not served: found in v1
		gv("K8sRequiredLabels", "c1", "", "v1", "Secret", "uids-a", "s"),
		gv("K8sRequiredLabels", "c1", "", "v1", "Namespace", "", "uids-a"),
		gv("K8sRequiredLabels", "c1", "example.com", "v1", "Widget", "uids-a", "w"),
		gv("K8sRequiredLabels", "c1", "", "v1", "ConfigMap", "uids-b", "b-gone"),
	}
	for _, n := range bNames {
		vs = append(vs, gv("K8sRequiredLabels", "c1", "", "v1", "ConfigMap", "uids-b", n))
	}
	seed(t, st, cluster, run0, vs...)
	var logs syncBuffer
	w := writerFor(t, cfg, st, reports.Options{Cluster: cluster, ResourceUIDs: true}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	out := once(t, w)
	if out.Sync.Created != 3 {
		t.Fatalf("sync: %s, want the reports of uids-a and uids-b and the cluster's created", out.Sync)
	}
	wantStats := reports.UIDStats{Found: 3 + 6 + 1, Gone: 2, Forbidden: 1, UnknownKind: 1, Gets: 6, Lists: 1}
	if out.UIDs != wantStats {
		t.Errorf("UID look-ups %s, want %s", out.UIDs, wantStats)
	}
	got := reqs.take()
	for path, n := range map[string]int{
		"GET /api/v1/namespaces/uids-a/configmaps/x":    1,
		"GET /api/v1/namespaces/uids-a/configmaps/y":    1,
		"GET /api/v1/namespaces/uids-a/configmaps/gone": 1,
		"GET /api/v1/namespaces/uids-a/configmaps/z":    1,
		"GET /api/v1/namespaces/uids-a/secrets/s":       1,
		"GET /api/v1/namespaces/uids-a":                 1,
		"GET /api/v1/namespaces/uids-b/configmaps":      1,
	} {
		if got[path] != n {
			t.Errorf("%s sent %d times, want %d", path, got[path], n)
		}
	}
	for path := range got {
		if strings.HasPrefix(path, "GET /api/v1/namespaces/uids-b/configmaps/") || strings.Contains(path, "widget") {
			t.Errorf("request %s: uids-b's ConfigMaps are listed, unknown kinds not asked for", path)
		}
	}
	// The debug log names each resource without a UID and why.
	for name, reason := range map[string]string{"gone": "gone", "b-gone": "gone", "s": "forbidden", "w": "unknown kind"} {
		if len(logs.lines(func(m map[string]any) bool {
			return m["name"] == name && m["reason"] == reason && m["level"] == "DEBUG"
		})) != 1 {
			t.Errorf("no debug line for %s (%s):\n%s", name, reason, logs.String())
		}
	}

	uid := func(ns, name string) string {
		t.Helper()
		if ns == "" {
			o, err := kube.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return string(o.UID)
		}
		o, err := cms(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return string(o.UID)
	}
	want := map[resultKey]string{
		{"ConfigMap uids-a/x", "c1"}:      uid("uids-a", "x"),
		{"ConfigMap uids-a/x", "c2"}:      uid("uids-a", "x"),
		{"ConfigMap uids-a/y", "c1"}:      uid("uids-a", "y"),
		{"ConfigMap uids-a/gone", "c1"}:   "",
		{"ConfigMap uids-a/z", "c1"}:      uid("uids-a", "z"),
		{"Secret uids-a/s", "c1"}:         "",
		{"Namespace /uids-a", "c1"}:       uid("", "uids-a"),
		{"Widget uids-a/w", "c1"}:         "",
		{"ConfigMap uids-b/b-gone", "c1"}: "",
	}
	for _, n := range bNames {
		want[resultKey{"ConfigMap uids-b/" + n, "c1"}] = uid("uids-b", n)
	}
	checkUIDs := func() {
		t.Helper()
		res := results(t, dyn, cluster)
		if len(res) != len(want) {
			t.Fatalf("%d results, want %d: %v", len(res), len(want), res)
		}
		for k, u := range want {
			if r, ok := res[k]; !ok || r.uid != u {
				t.Errorf("%v: uid %q (present %v), want %q", k, r.uid, ok, u)
			}
		}
	}
	checkUIDs()

	// Unchanged objects: the reports stay as they are.
	if out := once(t, w); out.Sync.Unchanged != 3 || out.Sync.Updated+out.Sync.Created != 0 {
		t.Fatalf("second sync: %s, want the three reports unchanged", out.Sync)
	}
	// x recreated: a new UID, written.
	if err := cms("uids-a").Delete(ctx, "x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mk("uids-a", "x")
	want[resultKey{"ConfigMap uids-a/x", "c1"}] = uid("uids-a", "x")
	want[resultKey{"ConfigMap uids-a/x", "c2"}] = uid("uids-a", "x")
	if out := once(t, w); out.Sync.Updated != 1 {
		t.Fatalf("after x was recreated: %s, want uids-a's report updated", out.Sync)
	}
	checkUIDs()
}

// syncBuffer is a log the writer writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines are the JSON log lines that match.
func (b *syncBuffer) lines(match func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && match(m) {
			out = append(out, m)
		}
	}
	return out
}
