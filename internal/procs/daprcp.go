package procs

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// DaprSidecarImage is the image the injector puts in the daprd container
// (SIDECAR_IMAGE); the kubelet stand-in runs bin/daprd for it.
const DaprSidecarImage = "daprio/daprd:1.14.0"

// DaprControlPlaneOptions configure Sentry and the sidecar injector.
type DaprControlPlaneOptions struct {
	// Namespace of the control plane; default dapr-system.
	Namespace string
	// TrustDomain of the control plane; default cluster.local.
	TrustDomain string
	// DropAllCapabilities sets the injector's SIDECAR_DROP_ALL_CAPABILITIES.
	// The Dapr chart's default is false, which PodSecurity restricted rejects.
	DropAllCapabilities bool
	// FailurePolicy of the webhook; default Fail, so a broken injector fails
	// the test instead of silently leaving pods without daprd.
	FailurePolicy admissionv1.FailurePolicyType
	// Tee receives the processes' output as it is written.
	Tee func([]byte)
}

// DaprControlPlane is Dapr's Sentry (self-hosted mode: its CA lives in
// files) and sidecar injector, running as processes against a Kube. The
// injector is a real mutating webhook: the apiserver reaches it through the
// Service dapr-sidecar-injector, an ExternalName Service to localhost on the
// injector's port, and verifies its Sentry-issued certificate for
// dapr-sidecar-injector.<ns>.svc.
type DaprControlPlane struct {
	Namespace string
	sentry    *process
	injector  *process
	logs      *syncBuffer
	dir       string
}

// StartDaprControlPlane creates what the injector needs in the cluster (its
// namespace, the MutatingWebhookConfiguration dapr-sidecar-injector, the
// Service, and the StatefulSet dapr-scheduler-server it waits for), starts
// Sentry and then the injector, and waits until the injector has patched
// the webhook's caBundle. Start it after kube-controller-manager: the
// injector reads the controllers' service accounts once, at its start.
func StartDaprControlPlane(ctx context.Context, k *Kube, opts DaprControlPlaneOptions) (*DaprControlPlane, error) {
	sentryBin, err := ToolPath("dapr-sentry", "DAPR_SENTRY")
	if err != nil {
		return nil, err
	}
	injectorBin, err := ToolPath("dapr-injector", "DAPR_INJECTOR")
	if err != nil {
		return nil, err
	}
	if opts.Namespace == "" {
		opts.Namespace = "dapr-system"
	}
	if opts.TrustDomain == "" {
		opts.TrustDomain = "cluster.local"
	}
	if opts.FailurePolicy == "" {
		opts.FailurePolicy = admissionv1.Fail
	}
	cp := &DaprControlPlane{Namespace: opts.Namespace, logs: &syncBuffer{tee: opts.Tee}}
	if cp.dir, err = os.MkdirTemp("", "procs-dapr-cp-"); err != nil {
		return nil, err
	}
	ports := make([]int, 6)
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			return nil, err
		}
	}
	sentryPort, sentryHealth, sentryMetrics, injPort, injHealth, injMetrics := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	if err := cp.prepareCluster(ctx, k, opts, injPort); err != nil {
		cp.Stop()
		return nil, err
	}

	creds := filepath.Join(cp.dir, "credentials")
	config := filepath.Join(cp.dir, "sentry-config.yaml")
	if err := os.Mkdir(creds, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(config, []byte("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: daprsystem\nspec:\n  mtls:\n    enabled: true\n"), 0o600); err != nil {
		return nil, err
	}
	pw := prefixWriter{w: cp.logs}
	// Sentry decides its mode by KUBERNETES_SERVICE_HOST: unset, it is
	// self-hosted and keeps its CA in --issuer-credentials.
	cp.sentry = &process{name: "dapr-sentry", path: sentryBin, dir: cp.dir, out: pw.buffer("dapr-sentry"),
		env: []string{"KUBERNETES_SERVICE_HOST=", "NAMESPACE=" + opts.Namespace},
		args: []string{
			"--config", config, "--issuer-credentials", creds, "--trust-domain", opts.TrustDomain,
			"--port", itoa(sentryPort), "--healthz-port", itoa(sentryHealth), "--metrics-port", itoa(sentryMetrics),
			"--log-level", "info",
		}}
	if err := cp.sentry.start(); err != nil {
		cp.Stop()
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := cp.sentry.waitFor(wctx, "healthy", httpOK(sentryHealth, "/healthz")); err != nil {
		cp.Stop()
		return nil, err
	}
	drop := "false"
	if opts.DropAllCapabilities {
		drop = "true"
	}
	cp.injector = &process{name: "dapr-injector", path: injectorBin, dir: cp.dir, out: pw.buffer("dapr-injector"),
		env: []string{
			"KUBERNETES_SERVICE_HOST=", // no in-cluster config: use --kubeconfig
			"SIDECAR_IMAGE=" + DaprSidecarImage,
			"SIDECAR_IMAGE_PULL_POLICY=IfNotPresent",
			"NAMESPACE=" + opts.Namespace,
			"DAPR_TRUST_ANCHORS_FILE=" + filepath.Join(creds, "ca.crt"),
			"DAPR_SENTRY_ADDRESS=" + fmt.Sprintf("127.0.0.1:%d", sentryPort),
			"DAPR_CONTROL_PLANE_TRUST_DOMAIN=" + opts.TrustDomain,
			"KUBE_CLUSTER_DOMAIN=cluster.local",
			"SIDECAR_DROP_ALL_CAPABILITIES=" + drop,
		},
		args: []string{
			"--kubeconfig", k.Kubeconfig, "--port", itoa(injPort), "--healthz-port", itoa(injHealth),
			"--metrics-port", itoa(injMetrics), "--log-level", "info",
		}}
	if err := cp.injector.start(); err != nil {
		cp.Stop()
		return nil, err
	}
	// Healthy means: certificate from Sentry, listening, and the webhook's
	// caBundle patched.
	if err := cp.injector.waitFor(wctx, "healthy", httpOK(injHealth, "/healthz")); err != nil {
		cp.Stop()
		return nil, err
	}
	return cp, nil
}

func (cp *DaprControlPlane) prepareCluster(ctx context.Context, k *Kube, opts DaprControlPlaneOptions, port int) error {
	ns := opts.Namespace
	if _, err := k.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Namespace %s: %w", ns, err)
	}
	// The apiserver resolves an ExternalName Service to its external name
	// and the webhook's port: localhost:<injector port>.
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "dapr-sidecar-injector", Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
			Ports: []corev1.ServicePort{{Name: "https", Port: int32(port)}}}, //nolint:gosec // G115: a TCP port fits
	}
	if _, err := k.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating Service %s/dapr-sidecar-injector: %w", ns, err)
	}
	// The injector waits for this StatefulSet; with 0 replicas it injects no
	// scheduler address (nothing here runs the scheduler).
	labels := map[string]string{"app": "dapr-scheduler-server"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "dapr-scheduler-server", Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](0), ServiceName: "dapr-scheduler-server",
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "scheduler", Image: "daprio/dapr:1.14.0"}}}},
		},
	}
	if _, err := k.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating StatefulSet %s/dapr-scheduler-server: %w", ns, err)
	}
	// As Dapr's chart renders it, but failurePolicy from the options.
	fp, se := opts.FailurePolicy, admissionv1.SideEffectClassNone
	reinvoke := admissionv1.IfNeededReinvocationPolicy
	mwc := &admissionv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "dapr-sidecar-injector", Labels: map[string]string{"app": "dapr-sidecar-injector"}},
		Webhooks: []admissionv1.MutatingWebhook{{
			Name: "sidecar-injector.dapr.io",
			ClientConfig: admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{
				Namespace: ns, Name: "dapr-sidecar-injector", Path: ptr.To("/mutate"), Port: ptr.To(int32(port)), //nolint:gosec // G115: a TCP port fits
			}},
			Rules: []admissionv1.RuleWithOperations{{
				Operations: []admissionv1.OperationType{admissionv1.Create},
				Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			FailurePolicy: &fp, SideEffects: &se, ReinvocationPolicy: &reinvoke,
			AdmissionReviewVersions: []string{"v1", "v1beta1"},
			TimeoutSeconds:          ptr.To(int32(10)),
		}},
	}
	if _, err := k.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, mwc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating MutatingWebhookConfiguration dapr-sidecar-injector: %w", err)
	}
	return nil
}

// httpOK returns a readiness check for GET http://127.0.0.1:port/path: any
// 2xx answer.
func httpOK(port int, path string) func(context.Context) error {
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s answered %s", path, resp.Status)
		}
		return nil
	}
}

// Logs returns Sentry's and the injector's output.
func (cp *DaprControlPlane) Logs() string { return cp.logs.String() }

// Stop ends the injector and Sentry and removes their files. The cluster
// objects stay (the Kube is stopped after it).
func (cp *DaprControlPlane) Stop() {
	for _, p := range []*process{cp.injector, cp.sentry} {
		if p != nil {
			p.stop(syscall.SIGTERM, 10*time.Second)
		}
	}
	if cp.dir != "" {
		_ = os.RemoveAll(cp.dir)
	}
}
