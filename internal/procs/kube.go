package procs

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// KubeOptions configure the Kubernetes control plane.
type KubeOptions struct {
	// Tee receives the processes' output as it is written (for the demo).
	Tee func([]byte)
	// NoControllerManager leaves kube-controller-manager out: objects are
	// stored but no Deployment gets a Pod.
	NoControllerManager bool
}

// Kube is a Kubernetes control plane on loopback: etcd and kube-apiserver
// started by controller-runtime's envtest (which makes the certificates,
// ports and the admin user), plus kube-controller-manager, which envtest
// does not run, started here.
//
// The apiserver keeps RBAC authorization and its default admission plugins,
// PodSecurity included; envtest's one change to them (the ServiceAccount
// plugin disabled) is undone, since the controller-manager creates the
// service accounts as in a cluster.
type Kube struct {
	// Config is the admin's (system:masters) REST config.
	Config *rest.Config
	// Kubeconfig is the path of the admin's kubeconfig file.
	Kubeconfig string
	// Client is a clientset for the admin.
	Client kubernetes.Interface
	// Host is the apiserver's URL.
	Host string

	env  *envtest.Environment
	kcm  *process
	logs *syncBuffer
	dir  string
}

// StartKube starts etcd, kube-apiserver and (unless told otherwise)
// kube-controller-manager, and waits until the controllers run.
func StartKube(ctx context.Context, opts KubeOptions) (*Kube, error) {
	apiserver, err := ToolPath("kube-apiserver", "KUBE_APISERVER")
	if err != nil {
		return nil, err
	}
	etcd, err := ToolPath("etcd", "ETCD")
	if err != nil {
		return nil, err
	}
	var kcmPath string
	if !opts.NoControllerManager {
		if kcmPath, err = ToolPath("kube-controller-manager", "KUBE_CONTROLLER_MANAGER"); err != nil {
			return nil, err
		}
	}
	// envtest logs through controller-runtime's logger; without one set it
	// prints a stack trace. Its own messages are of no use here.
	setLoggerOnce.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	k := &Kube{logs: &syncBuffer{tee: opts.Tee}}
	if k.dir, err = os.MkdirTemp("", "procs-kube-"); err != nil {
		return nil, err
	}
	out := prefixWriter{w: k.logs}
	k.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: apiserver, Out: out.with("kube-apiserver"), Err: out.with("kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: etcd, Out: out.with("etcd"), Err: out.with("etcd")},
		},
		ControlPlaneStartTimeout: 90 * time.Second,
		ControlPlaneStopTimeout:  60 * time.Second,
	}
	// Undo envtest's only change to the admission plugins.
	k.env.ControlPlane.APIServer.Configure().Disable("disable-admission-plugins")
	cfg, err := k.env.Start()
	if err != nil {
		k.Stop()
		return nil, fmt.Errorf("starting etcd and kube-apiserver: %w\n%s", err, k.logs.String())
	}
	k.Config, k.Host = cfg, cfg.Host
	if k.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		k.Stop()
		return nil, err
	}
	k.Kubeconfig = filepath.Join(k.dir, "admin.kubeconfig")
	if err := os.WriteFile(k.Kubeconfig, k.env.KubeConfig, 0o600); err != nil {
		k.Stop()
		return nil, err
	}
	if !opts.NoControllerManager {
		if err := k.startControllerManager(ctx, kcmPath); err != nil {
			k.Stop()
			return nil, err
		}
	}
	return k, nil
}

// startControllerManager runs the controllers the tests need: Deployments
// become ReplicaSets and Pods (created as the controllers' own service
// accounts, as the Dapr injector requires), service accounts and their
// tokens, namespace deletion and garbage collection; Jobs (the chart's
// JetStream stream hook) become Pods.
func (k *Kube) startControllerManager(ctx context.Context, path string) error {
	caFile := filepath.Join(k.dir, "ca.crt")
	if err := os.WriteFile(caFile, k.Config.CAData, 0o600); err != nil {
		return err
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	certDir := k.env.ControlPlane.APIServer.CertDir
	k.kcm = &process{name: "kube-controller-manager", path: path, dir: k.dir, out: prefixWriter{w: k.logs}.buffer("kube-controller-manager"), args: []string{
		"--kubeconfig=" + k.Kubeconfig,
		"--service-account-private-key-file=" + filepath.Join(certDir, "sa-signer.key"),
		"--root-ca-file=" + caFile,
		"--use-service-account-credentials=true",
		"--leader-elect=false",
		"--controllers=deployment-controller,replicaset-controller,job-controller,ttl-after-finished-controller,serviceaccount-controller,serviceaccount-token-controller,namespace-controller,garbage-collector-controller,resourcequota-controller",
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(port),
		"--cert-dir=" + filepath.Join(k.dir, "kcm-certs"),
		"--concurrent-deployment-syncs=5",
		"--v=1",
	}}
	if err := k.kcm.start(); err != nil {
		return err
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // its own self-signed serving cert
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := k.kcm.waitFor(ctx, "healthy", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d/healthz", port), nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthz answered %s", resp.Status)
		}
		return nil
	}); err != nil {
		return err
	}
	// The controllers' service accounts exist once the controllers run; the
	// Dapr injector reads them once at its start.
	return k.WaitServiceAccount(ctx, "kube-system", "replicaset-controller")
}

// WaitServiceAccount waits until the service account exists.
func (k *Kube) WaitServiceAccount(ctx context.Context, ns, name string) error {
	for {
		_, err := k.Client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading ServiceAccount %s/%s: %w", ns, name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for ServiceAccount %s/%s: %w", ns, name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Logs returns the output of etcd, kube-apiserver and
// kube-controller-manager, each line prefixed with its name.
func (k *Kube) Logs() string { return k.logs.String() }

// Stop ends kube-controller-manager, then kube-apiserver, then etcd (in
// that order: an apiserver whose etcd is gone hangs on shutdown), and
// removes their files.
func (k *Kube) Stop() {
	if k.kcm != nil {
		k.kcm.stop(syscall.SIGTERM, 10*time.Second)
	}
	if k.env != nil {
		_ = k.env.Stop()
	}
	if k.dir != "" {
		_ = os.RemoveAll(k.dir)
	}
}

var setLoggerOnce sync.Once

// prefixWriter writes each line into w with "[name] " in front.
type prefixWriter struct{ w io.Writer }

type prefixed struct {
	w    io.Writer
	name string
	part []byte
}

func (p prefixWriter) with(name string) io.Writer { return &prefixed{w: p.w, name: name} }

// buffer returns a syncBuffer (what process needs) that forwards to w with
// the prefix.
func (p prefixWriter) buffer(name string) *syncBuffer {
	pw := p.with(name)
	return &syncBuffer{tee: func(b []byte) { _, _ = pw.Write(b) }}
}

func (p *prefixed) Write(b []byte) (int, error) {
	n := len(b)
	p.part = append(p.part, b...)
	for {
		i := bytes.IndexByte(p.part, '\n')
		if i < 0 {
			break
		}
		line := append([]byte("["+p.name+"] "), p.part[:i+1]...)
		if _, err := p.w.Write(line); err != nil {
			return n, err
		}
		p.part = p.part[i+1:]
	}
	return n, nil
}
