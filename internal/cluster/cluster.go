// Package cluster assembles the real parts of a Gatekeeper pubsub setup on
// one machine, for the end-to-end tests and the demo: a Kubernetes control
// plane (etcd, kube-apiserver, kube-controller-manager), Dapr's Sentry and
// sidecar injector, Redis, and the kubelet stand-in that runs the pods of
// the namespaces it is told about. Installing Gatekeeper's chart, ours, or
// applying manifests is done with the real Helm and client libraries.
package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/kubelet"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// Versions of the real parts.
const (
	DaprVersion       = "1.14.0"
	GatekeeperImage   = "openpolicyagent/gatekeeper"
	SubscriberImage   = "fake-subscriber:latest"
	ConsumerImage     = "violations:latest"
	ForwarderImage    = "pubsub-forward:latest"
	PubsubSendImage   = "gatekeeper-pubsub/pubsub-send"
	RedisPassword     = "redis-quickstart-password"
	GatekeeperNS      = connection.DefaultNamespace
	SubscriberNS      = "fake-subscriber"
	gatekeeperCertSec = "gatekeeper-webhook-server-cert"
)

// GatekeeperVersions are the Gatekeeper releases `make tools` builds.
var GatekeeperVersions = []string{"v3.17.0", "v3.23.1"}

// Options configure the environment.
type Options struct {
	// GatekeeperVersions whose images the stand-in runs; default
	// GatekeeperVersions.
	GatekeeperVersions []string
	// DropAllCapabilities is the injector's SIDECAR_DROP_ALL_CAPABILITIES
	// (the Dapr chart's dapr_sidecar_injector.sidecarDropALLCapabilities).
	DropAllCapabilities bool
	// Namespaces whose pods the kubelet stand-in runs; default
	// gatekeeper-system and fake-subscriber.
	Namespaces []string
	// Tee receives every process's output (for the demo); nil keeps it
	// for Logs.
	Tee func([]byte)
	// Step is told each step as it is done (for the demo).
	Step func(string)
	// JetStream runs the pods' daprd with pubsub.jetstream
	// (procs.DaprdJetStreamPath), which the stablecomponents build leaves
	// out.
	JetStream bool
}

// Env is the running environment.
type Env struct {
	Kube    *procs.Kube
	Dapr    *procs.DaprControlPlane
	Redis   *procs.Redis
	Kubelet *kubelet.Kubelet
	// Bin holds the project's own commands, built for the pods.
	Bin string

	opts  Options
	stops []func()
}

// Start starts every part and waits until each is ready. On error what
// was started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	if len(opts.Namespaces) == 0 {
		opts.Namespaces = []string{GatekeeperNS, SubscriberNS}
	}
	e := &Env{opts: opts}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	// Every tool first, so a missing one fails at once with its make target.
	daprdPath := procs.DaprdPath
	if opts.JetStream {
		daprdPath = procs.DaprdJetStreamPath
	}
	daprd, err := daprdPath()
	if err != nil {
		return nil, err
	}
	images := map[string]kubelet.Image{}
	if len(opts.GatekeeperVersions) == 0 {
		opts.GatekeeperVersions = GatekeeperVersions
	}
	for _, v := range opts.GatekeeperVersions {
		bin, err := procs.ToolPath("gatekeeper-"+v, "")
		if err != nil {
			return nil, err
		}
		images[GatekeeperImage+":"+v] = GatekeeperImageSpec(bin)
	}
	e.step("building the project's commands for the pods (fake-subscriber, pubsub-send, violations, pubsub-forward)")
	if e.Bin, err = buildCommands(ctx); err != nil {
		return nil, err
	}
	e.stops = append(e.stops, func() { os.RemoveAll(e.Bin) })
	images[SubscriberImage] = kubelet.Image{Binary: filepath.Join(e.Bin, "fake-subscriber"), ListenFlags: map[string]string{"port": "$(APP_PORT)", "health-port": "$(HEALTH_PORT)"}}
	images[ConsumerImage] = kubelet.Image{Binary: filepath.Join(e.Bin, "violations"),
		ListenFlags: map[string]string{"app-listen": "127.0.0.1:6002", "listen": ":8080"}}
	// The audit reads the disk driver's path from its ConfigMap, which the
	// stand-in does not rewrite: both use the host's path.
	images[ForwarderImage] = kubelet.Image{Binary: filepath.Join(e.Bin, "pubsub-forward"), ListenFlags: map[string]string{"listen": ":9095"}, KeepPaths: true}
	// The helm test pod's image, tagged with the chart's version.
	root, err := procs.RepoRoot()
	if err != nil {
		return nil, err
	}
	chartMeta, err := chartutil.LoadChartfile(filepath.Join(root, "charts", "gatekeeper-pubsub", "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	images[PubsubSendImage+":"+chartMeta.Version] = kubelet.Image{Binary: filepath.Join(e.Bin, "pubsub-send")}

	e.step("starting redis-server (password-protected, as in the quick start)")
	if e.Redis, err = procs.StartRedis(ctx, procs.RedisOptions{Password: RedisPassword, Tee: opts.Tee}); err != nil {
		return nil, err
	}
	e.stops = append(e.stops, e.Redis.Stop)

	e.step("starting etcd, kube-apiserver (envtest) and kube-controller-manager")
	start := time.Now()
	if e.Kube, err = procs.StartKube(ctx, procs.KubeOptions{Tee: opts.Tee}); err != nil {
		return nil, err
	}
	e.stops = append(e.stops, e.Kube.Stop)
	e.step(fmt.Sprintf("control plane ready in %.1fs at %s", time.Since(start).Seconds(), e.Kube.Host))

	e.step("installing Dapr's CRDs from the Dapr v" + DaprVersion + " module")
	if err := e.installDaprCRDs(ctx); err != nil {
		return nil, err
	}
	e.step("starting Dapr's Sentry and sidecar injector (a real mutating webhook)")
	if e.Dapr, err = procs.StartDaprControlPlane(ctx, e.Kube, procs.DaprControlPlaneOptions{
		DropAllCapabilities: opts.DropAllCapabilities, Tee: opts.Tee,
	}); err != nil {
		return nil, err
	}
	e.stops = append(e.stops, e.Dapr.Stop)

	e.step("starting the kubelet stand-in for namespaces " + strings.Join(opts.Namespaces, ", "))
	if e.Kubelet, err = kubelet.Start(ctx, kubelet.Options{
		Config: e.Kube.Config, Namespaces: opts.Namespaces, Images: images,
		DaprdImage: procs.DaprSidecarImage, Daprd: daprd, Tee: opts.Tee,
	}); err != nil {
		return nil, err
	}
	e.stops = append(e.stops, e.Kubelet.Stop)
	return e, nil
}

// AddImage lets the stand-in run image with bin (for example the helm test
// pod's pubsub-send at the chart's version).
func (e *Env) AddImage(image string, img kubelet.Image) { e.Kubelet.AddImage(image, img) }

// GatekeeperImageSpec is how Gatekeeper's manager runs: its path-valued
// flags (the webhook certificate directory it needs at start with
// external data on, and the audit's API cache) follow the pod's mounts, and
// its health and metrics ports are made free ones. Outside a pod it finds
// the API server through KUBECONFIG (which controller-runtime reads when no
// in-cluster config exists), a kubeconfig with a token of the pod's service
// account; POD_NAME is the real Pod's name (downward API), so Gatekeeper
// sets its status objects' owner to a Pod that exists and
// --debug-use-fake-pod is not needed.
func GatekeeperImageSpec(bin string) kubelet.Image {
	return kubelet.Image{
		Binary:      bin,
		PathFlags:   map[string]string{"cert-dir": "/certs", "api-cache-dir": "/tmp/audit"},
		ListenFlags: map[string]string{"health-addr": ":9090", "prometheus-port": "8888"},
	}
}

func (e *Env) step(s string) {
	if e.opts.Step != nil {
		e.opts.Step(s)
	}
}

// Logs returns every part's output, for a failed test.
func (e *Env) Logs() string {
	var b strings.Builder
	if e.Kubelet != nil {
		b.WriteString("---- kubelet stand-in events ----\n" + e.Kubelet.Events() + "\n")
	}
	if e.Dapr != nil {
		b.WriteString("---- dapr control plane ----\n" + tail(e.Dapr.Logs(), 200) + "\n")
	}
	if e.Kube != nil {
		b.WriteString("---- kubernetes control plane ----\n" + tail(e.Kube.Logs(), 200) + "\n")
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// Stop stops everything, the last started first.
func (e *Env) Stop() {
	for i := len(e.stops) - 1; i >= 0; i-- {
		e.stops[i]()
	}
	e.stops = nil
}

// CreateNamespace creates a namespace labelled for PodSecurity level
// (enforce; empty means no label).
func (e *Env) CreateNamespace(ctx context.Context, name, level string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if level != "" {
		ns.Labels = map[string]string{"pod-security.kubernetes.io/enforce": level}
	}
	if _, err := e.Kube.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating Namespace %s: %w", name, err)
	}
	return nil
}

// CreateRedisSecret creates the quick start's Secret redis (key
// redis-password) in ns.
func (e *Env) CreateRedisSecret(ctx context.Context, ns string) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "redis", Namespace: ns},
		StringData: map[string]string{"redis-password": RedisPassword}}
	if _, err := e.Kube.Client.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Secret %s/redis: %w", ns, err)
	}
	return nil
}

// buildCommands builds the commands the pods run into a temporary
// directory.
func buildCommands(ctx context.Context) (string, error) {
	root, err := procs.RepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "cluster-bin-")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+"/", "./cmd/fake-subscriber", "./cmd/pubsub-send", "./cmd/violations", "./cmd/pubsub-forward")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build the pods' commands: %w\n%s", err, out)
	}
	return dir, nil
}

// ModuleDir returns the directory of a Go module version in the module
// cache, downloading it through the module proxy if needed (Gatekeeper's
// chart and manifests, Dapr's CRDs: inputs from the real projects).
func ModuleDir(ctx context.Context, module, version string) (string, error) {
	m, err := gomod.Download(ctx, module, version)
	return m.Dir, err
}
