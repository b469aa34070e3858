// Package kubelet is a kubelet stand-in for tests and the demo: it takes the
// Pods that a real kube-apiserver holds (created by kube-controller-manager,
// mutated by the real Dapr injector, admitted by PodSecurity) and runs their
// containers as local processes, since no container runtime exists here.
// It watches the Pods of its namespaces (client-go informers, one shared
// informer factory per namespace, feeding a work queue; watch.go) and
// reconciles each pod that changes, with a periodic resync.
//
// What it does, as a kubelet would: images are mapped to binaries built by
// `make tools` (Images); command and args get $(VAR) expansion; env is
// resolved (values, downward-API fields, Secret and ConfigMap keys);
// ConfigMap, Secret and emptyDir volumes are written to a directory per pod
// and the paths in args that point into a mount are rewritten to it; each
// container gets credentials of the pod's service account (a kubeconfig
// with a token from the TokenRequest API, so RBAC is the pod's); restart
// policies are honoured and the pod's phase is reported.
//
// What it does differently, because every pod shares the host's loopback:
// listening ports that an image declares (Image.ListenFlags) get free ports;
// the injected `daprd` container runs as a standalone daprd with the pod's
// app-id, app port and options, its Components read from the API server in
// the pod's namespace and their secretKeyRefs served from the cluster's
// Secrets through a local secret store, and the app containers' Dapr ports
// point at it.
//
// A pod whose images are not all known is left alone (and said so once).
package kubelet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
)

// Image says how to run a container image as a local process.
type Image struct {
	// Binary runs in place of the image's entrypoint (the first element of
	// the container's command, when it has one).
	Binary string
	// KeepPaths leaves paths in the args as they are instead of rewriting
	// those under a mount to the volume's host directory: for a container
	// that shares a path with another that reads it from elsewhere (a
	// ConfigMap), as pubsub-forward shares the disk driver's path with
	// Gatekeeper's audit, both then using the host's path.
	KeepPaths bool
	// PathFlags are flags of the binary whose value is a path in the
	// container, with their default. A flag not given in the args is added
	// with its default, so a default path gets the same mapping as a given
	// one: into a volume when the pod mounts one there, else into the pod's
	// empty root (the image holds nothing at such paths).
	PathFlags map[string]string
	// ListenFlags are flags with a listening port, with their default value
	// (":9090", "8888", or "$(APP_PORT)" expanded from the container's
	// env). The port is mapped to a free one per pod, like a pod's network
	// namespace would keep it apart; the flag is appended with the mapped
	// value (Go's flag package takes the last).
	ListenFlags map[string]string
}

// Options configure the stand-in.
type Options struct {
	// Config is the admin's REST config (the API server's address and CA
	// are taken from it for the pods' kubeconfigs).
	Config *rest.Config
	// Namespaces whose Pods are run.
	Namespaces []string
	// Images maps an image reference, as written in the pod, to a binary.
	Images map[string]Image
	// DaprdImage is the image of the injected sidecar (the injector's
	// SIDECAR_IMAGE); Daprd the daprd binary run for it.
	DaprdImage, Daprd string
	// Tee receives every container's output, prefixed with
	// namespace/pod/container.
	Tee func([]byte)
}

// Kubelet runs pods; Stop ends them.
type Kubelet struct {
	opts    Options
	client  kubernetes.Interface
	dyn     dynamic.Interface
	dir     string
	cancel  context.CancelFunc
	done    chan struct{}
	queue   workqueue.TypedInterface[string]
	listers map[string]corelisters.PodNamespaceLister
	mu      sync.Mutex
	pods    map[types.UID]*pod
	skipped map[types.UID]bool
	events  []string
}

// Start starts the stand-in; it runs pods until Stop.
func Start(ctx context.Context, opts Options) (*Kubelet, error) {
	client, err := kubernetes.NewForConfig(opts.Config)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(opts.Config)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubelet-standin-")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k := &Kubelet{opts: opts, client: client, dyn: dyn, dir: dir, cancel: cancel, done: make(chan struct{}),
		pods: map[types.UID]*pod{}, skipped: map[types.UID]bool{}}
	w, err := k.newWatcher(ctx)
	if err != nil {
		cancel()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	go k.watch(ctx, w)
	return k, nil
}

// AddImage maps one more image to a binary.
func (k *Kubelet) AddImage(image string, img Image) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.opts.Images[image] = img
}

func (k *Kubelet) image(ref string) (Image, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	img, ok := k.opts.Images[ref]
	return img, ok
}

// Stop ends every pod's processes and removes their files.
func (k *Kubelet) Stop() {
	k.cancel()
	<-k.done
	k.mu.Lock()
	pods := make([]*pod, 0, len(k.pods))
	for _, p := range k.pods {
		pods = append(pods, p)
	}
	k.mu.Unlock()
	for _, p := range pods {
		p.stop()
	}
	_ = os.RemoveAll(k.dir)
}

// Events returns what the stand-in did and why, one line each (pods run,
// skipped, containers started and exited, flags rewritten).
func (k *Kubelet) Events() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return strings.Join(k.events, "\n")
}

func (k *Kubelet) event(format string, args ...any) {
	line := time.Now().Format("15:04:05.000") + " " + fmt.Sprintf(format, args...)
	k.mu.Lock()
	k.events = append(k.events, line)
	k.mu.Unlock()
	if k.opts.Tee != nil {
		k.opts.Tee([]byte("[kubelet] " + line + "\n"))
	}
}

// Logs returns the output of a container of the pod (every run of it), the
// pod named exactly or, when no pod has that name, the only pod whose name
// starts with name (a Deployment's pod).
func (k *Kubelet) Logs(namespace, name, container string) string {
	p := k.find(namespace, name)
	if p == nil {
		return ""
	}
	return p.logs(container)
}

// PodNames returns the namespace/name of every pod being run.
func (k *Kubelet) PodNames() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var names []string
	for _, p := range k.pods {
		names = append(names, p.obj.Namespace+"/"+p.obj.Name)
	}
	sort.Strings(names)
	return names
}

func (k *Kubelet) find(namespace, name string) *pod {
	k.mu.Lock()
	defer k.mu.Unlock()
	var prefixed []*pod
	for _, p := range k.pods {
		if p.obj.Namespace != namespace {
			continue
		}
		if p.obj.Name == name {
			return p
		}
		if strings.HasPrefix(p.obj.Name, name) {
			prefixed = append(prefixed, p)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return nil
}

func (k *Kubelet) unknownImages(obj *corev1.Pod) []string {
	var missing []string
	for _, c := range append(slices.Clone(obj.Spec.InitContainers), obj.Spec.Containers...) {
		if c.Image == k.opts.DaprdImage && c.Name == "daprd" {
			continue
		}
		if _, ok := k.image(c.Image); !ok {
			missing = append(missing, c.Image)
		}
	}
	return missing
}

func containerNames(obj *corev1.Pod) []string {
	var names []string
	for _, c := range obj.Spec.Containers {
		names = append(names, c.Name)
	}
	return names
}

// writeJSON writes v as JSON into path.
func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// portOf returns the port number at the end of an address or port value
// (":9090", "127.0.0.1:9090", "9090").
func portOf(v string) (int, error) {
	if i := strings.LastIndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	return strconv.Atoi(v)
}

// withPort replaces the port of an address or port value, binding an
// address to 127.0.0.1.
func withPort(v string, port int) string {
	if strings.Contains(v, ":") {
		return "127.0.0.1:" + strconv.Itoa(port)
	}
	return strconv.Itoa(port)
}

func filepathJoinUnder(root, p string) string {
	return filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, "/")))
}
