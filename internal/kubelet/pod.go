package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
)

// pod is one Pod being run.
type pod struct {
	k   *Kubelet
	obj *corev1.Pod
	dir string

	mu         sync.Mutex
	ports      map[int]int // container port -> host port
	containers map[string]*container
	cancel     context.CancelFunc
	finished   chan struct{}
	gone       bool
	daprd      *daprdPorts
}

func newPod(k *Kubelet, obj *corev1.Pod) *pod {
	return &pod{k: k, obj: obj, dir: filepath.Join(k.dir, obj.Namespace+"_"+obj.Name), ports: map[int]int{},
		containers: map[string]*container{}, finished: make(chan struct{})}
}

func (p *pod) deleted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gone
}

// hostPort maps a port in the pod to a free port on the host, the same one
// for the pod's lifetime.
func (p *pod) hostPort(port int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if hp, ok := p.ports[port]; ok {
		return hp, nil
	}
	hp, err := procs.FreePort()
	if err != nil {
		return 0, err
	}
	p.ports[port] = hp
	return hp, nil
}

func (p *pod) stop() {
	p.mu.Lock()
	p.gone = true
	cancel := p.cancel
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	<-p.finished
}

func (p *pod) name() string { return p.obj.Namespace + "/" + p.obj.Name }

// run runs the pod until its containers are done (restartPolicy Never or
// OnFailure) or it is stopped.
func (p *pod) run(ctx context.Context) {
	defer close(p.finished)
	ctx, cancel := context.WithCancel(ctx)
	p.mu.Lock()
	p.cancel = cancel
	p.mu.Unlock()
	defer cancel()
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		p.k.event("pod %s: %v", p.name(), err)
		return
	}
	defer os.RemoveAll(p.dir)
	kubeconfig, err := p.kubeconfig(ctx)
	if err != nil {
		p.k.event("pod %s: credentials of service account %q: %v", p.name(), p.obj.Spec.ServiceAccountName, err)
		p.k.setPhase(ctx, p.obj, corev1.PodPending, nil, err.Error())
		return
	}

	var sidecar *corev1.Container
	var apps []corev1.Container
	for i := range p.obj.Spec.Containers {
		c := p.obj.Spec.Containers[i]
		if c.Name == "daprd" && c.Image == p.k.opts.DaprdImage {
			sidecar = &c
			continue
		}
		apps = append(apps, c)
	}
	for _, c := range p.obj.Spec.InitContainers {
		if code := p.runContainer(ctx, c, kubeconfig, corev1.RestartPolicyNever); code != 0 {
			p.k.setPhase(ctx, p.obj, corev1.PodFailed, nil, fmt.Sprintf("init container %s exited with %d", c.Name, code))
			return
		}
	}
	var wg sync.WaitGroup
	sidecarCtx, stopSidecar := context.WithCancel(ctx)
	defer stopSidecar()
	if sidecar != nil {
		ports, err := p.daprdPorts()
		if err != nil {
			p.k.event("pod %s: %v", p.name(), err)
			return
		}
		p.daprd = ports
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.runContainer(sidecarCtx, *sidecar, kubeconfig, corev1.RestartPolicyAlways)
		}()
		// Apps start once their sidecar serves (components loaded), as with
		// Dapr's own readiness ordering in practice.
		if err := p.waitDaprd(ctx); err != nil {
			p.k.event("pod %s: daprd not ready: %v", p.name(), err)
		}
	}
	policy := p.obj.Spec.RestartPolicy
	codes := make([]int, len(apps))
	var appsWG sync.WaitGroup
	for i, c := range apps {
		appsWG.Add(1)
		go func() {
			defer appsWG.Done()
			codes[i] = p.runContainer(ctx, c, kubeconfig, policy)
		}()
	}
	p.k.setPhase(ctx, p.obj, corev1.PodRunning, p.statuses(), "")
	appsWG.Wait()
	stopSidecar()
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	phase, msg := corev1.PodSucceeded, ""
	for i, code := range codes {
		if code != 0 {
			phase, msg = corev1.PodFailed, fmt.Sprintf("container %s exited with %d", apps[i].Name, code)
		}
	}
	p.k.event("pod %s: %s %s", p.name(), phase, msg)
	p.k.setPhase(context.WithoutCancel(ctx), p.obj, phase, p.statuses(), msg)
}
