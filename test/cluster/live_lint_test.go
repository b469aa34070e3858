package cluster_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

// TestLintLiveCluster lints what is deployed in a real API server, as a
// service account bound to the chart's read-only ClusterRole
// (lint.rbac.create) and to get on the Components' Secrets by name
// (lint.rbac.secrets): the documented setup installed with Helm lints clean
// but for its plain Redis (the environment's, without TLS: redis-no-tls on
// both Components, read from the cluster); then the connection ConfigMap
// renamed (its copy labelled for another Gatekeeper), the sidecar's seccomp
// profile removed and the key a Component reads taken out of its Secret (as
// a user could with kubectl) are reported, naming the objects and fields.
func TestLintLiveCluster(t *testing.T) {
	const version = "v3.17.0"
	e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	prepare(t, e, version, nil)
	ctx := context.Background()
	// pubsub-lint runs as a CI service account bound to the chart's
	// read-only ClusterRole: RBAC is the real apiserver's.
	if _, err := e.Kube.Client.CoreV1().ServiceAccounts(cluster.GatekeeperNS).Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "ci-lint"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	vals := chartValues(e, version)
	// With get, by name, on the Secrets the Components read (lint.rbac.secrets):
	// live mode checks them, and lists none (a list would be forbidden and
	// reported as component-secret-unchecked).
	vals["lint"] = map[string]any{"rbac": map[string]any{"create": true, "secrets": true, "serviceAccount": map[string]any{"name": "ci-lint"}}}
	if _, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, vals, true); err != nil {
		t.Fatal(err)
	}
	sidecar(t, podOf(t, e, cluster.GatekeeperNS, "gatekeeper-audit"))
	kubeconfig := serviceAccountKubeconfig(t, e, cluster.GatekeeperNS, "ci-lint")
	live := func() *lint.Result {
		t.Helper()
		res, err := lint.Run(ctx, lint.Options{Live: &lint.Live{Kubeconfig: kubeconfig}, Assume: lint.Assumptions{DaprDropAllCapabilities: ptr.To(true)}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := live()
	var plain []string
	for _, f := range res.Findings {
		if f.Rule == "redis-no-tls" && f.Severity == "warning" {
			plain = append(plain, f.Object.String()+" "+f.Field)
			continue
		}
		t.Errorf("live lint of the documented setup: %s %s: %s (%s) field %s", f.Severity, f.Rule, f.Message, f.Object, f.Field)
	}
	sort.Strings(plain)
	if want := []string{"Component fake-subscriber/pubsub spec.metadata", "Component gatekeeper-system/pubsub spec.metadata"}; !slices.Equal(plain, want) {
		t.Errorf("live lint of the documented setup: redis-no-tls on %q, want %q", plain, want)
	}
	if res.Objects == 0 {
		t.Fatal("live lint read no objects")
	}

	// Break it as a user could: the ConfigMap renamed, the annotation gone.
	cms := e.Kube.Client.CoreV1().ConfigMaps(cluster.GatekeeperNS)
	cm, err := cms.Get(ctx, "audit-connection", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Its copy carries the chart's labels, but made for another Gatekeeper
	// than the audit runs (as after a helm upgrade with another
	// gatekeeperVersion).
	labels := map[string]string{}
	for k, v := range cm.Labels {
		labels[k] = v
	}
	labels["app.kubernetes.io/version"] = "v3.23.1"
	renamed := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "audit-conection", Namespace: cluster.GatekeeperNS, Labels: labels}, Data: cm.Data}
	if _, err := cms.Create(ctx, renamed, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "audit-connection", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Without the annotation and the pod-level profile daprd would inherit.
	patch := []byte(`[{"op":"remove","path":"/spec/template/metadata/annotations/dapr.io~1sidecar-seccomp-profile-type"},` +
		`{"op":"remove","path":"/spec/template/spec/securityContext/seccompProfile"}]`)
	if _, err := e.Kube.Client.AppsV1().Deployments(cluster.GatekeeperNS).Patch(ctx, "gatekeeper-audit", types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// The subscriber's Secret without the key its Component reads.
	secrets := e.Kube.Client.CoreV1().Secrets("fake-subscriber")
	sec, err := secrets.Get(ctx, "redis", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{"password": []byte("moved")}
	sec.StringData = nil
	if _, err := secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	res = live()
	var got []string
	for _, f := range res.Findings {
		got = append(got, string(f.Severity)+" "+f.Rule+" "+f.Object.String()+" "+f.Field)
	}
	all := strings.Join(got, "\n")
	t.Logf("live lint of the broken setup (%d objects):\n%s", res.Objects, all)
	for _, want := range []string{
		"error connection-not-found Deployment gatekeeper-system/gatekeeper-audit",
		"error audit-sidecar-seccomp Deployment gatekeeper-system/gatekeeper-audit",
		"error component-secret-not-found Component fake-subscriber/pubsub",
		"warning setup-gatekeeper-version-mismatch",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("live lint of the broken setup lacks %q; findings:\n%s", want, all)
		}
	}
}

// TestLintLiveSidecarNotInjected: with Dapr's webhook registration gone,
// the audit's pod is created again without daprd (the real apiserver calls
// no injector); live lint reads the running pod and says so.
func TestLintLiveSidecarNotInjected(t *testing.T) {
	const version = "v3.17.0"
	e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	prepare(t, e, version, nil)
	ctx := context.Background()
	vals := chartValues(e, version)
	vals["subscriber"] = map[string]any{"enabled": false}
	if _, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, vals, true); err != nil {
		t.Fatal(err)
	}
	first := podOf(t, e, cluster.GatekeeperNS, "gatekeeper-audit")
	sidecar(t, first)
	if err := e.Kube.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(ctx, "dapr-sidecar-injector", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Kube.Client.CoreV1().Pods(cluster.GatekeeperNS).Delete(ctx, first.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the audit's new pod", func() bool {
		pods, err := e.Kube.Client.CoreV1().Pods(cluster.GatekeeperNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, p := range pods.Items {
			if p.Name != first.Name && strings.HasPrefix(p.Name, "gatekeeper-audit-") {
				return true
			}
		}
		return false
	})
	res, err := lint.Run(ctx, lint.Options{Live: &lint.Live{Kubeconfig: e.Kube.Kubeconfig}, Assume: lint.Assumptions{DaprDropAllCapabilities: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Findings {
		if f.Rule == "audit-sidecar-not-injected" && f.Severity == "error" {
			found = true
			t.Logf("%s: %s", f.Rule, f.Message)
		}
	}
	if !found {
		t.Errorf("no audit-sidecar-not-injected finding: %+v", res.Findings)
	}
}

// serviceAccountKubeconfig writes a kubeconfig with a token of the service
// account (TokenRequest API).
func serviceAccountKubeconfig(t *testing.T, e *cluster.Env, ns, name string) string {
	t.Helper()
	tr, err := e.Kube.Client.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: e.Kube.Config.Host, CertificateAuthorityData: e.Kube.Config.CAData}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["ci"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "ci"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}
