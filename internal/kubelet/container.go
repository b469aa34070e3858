package kubelet

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
)

// container is one container of a pod, over all its runs.
type container struct {
	name     string
	mu       sync.Mutex
	out      strings.Builder
	app      *procs.App
	restarts int
	exitCode *int
}

func (c *container) write(b []byte) {
	c.mu.Lock()
	c.out.Write(b)
	c.mu.Unlock()
}

func (p *pod) logs(name string) string {
	p.mu.Lock()
	c := p.containers[name]
	p.mu.Unlock()
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// runContainer runs c until it ends for good under policy, and returns its
// last exit code.
func (p *pod) runContainer(ctx context.Context, c corev1.Container, kubeconfig string, policy corev1.RestartPolicy) int {
	p.mu.Lock()
	cc := p.containers[c.Name]
	if cc == nil {
		cc = &container{name: c.Name}
		p.containers[c.Name] = cc
	}
	p.mu.Unlock()
	backoff := time.Second
	for attempt := 0; ; attempt++ {
		code := p.runOnce(ctx, c, cc, kubeconfig)
		if ctx.Err() != nil {
			return code
		}
		restart := policy == corev1.RestartPolicyAlways || (policy == corev1.RestartPolicyOnFailure && code != 0)
		if !restart {
			return code
		}
		cc.mu.Lock()
		cc.restarts++
		cc.mu.Unlock()
		p.k.event("pod %s: container %s exited with %d; restarting in %s", p.name(), c.Name, code, backoff)
		select {
		case <-ctx.Done():
			return code
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// runOnce prepares and runs one run of the container.
func (p *pod) runOnce(ctx context.Context, c corev1.Container, cc *container, kubeconfig string) int {
	var spec *processSpec
	var err error
	for {
		if c.Name == "daprd" && c.Image == p.k.opts.DaprdImage {
			spec, err = p.daprdSpec(ctx, c)
		} else {
			spec, err = p.containerSpec(ctx, c, kubeconfig)
		}
		var wait *waitError
		if err == nil || !errors.As(err, &wait) {
			break
		}
		// As a kubelet does: the container waits for what it mounts.
		p.k.event("pod %s: container %s waiting: %v", p.name(), c.Name, err)
		select {
		case <-ctx.Done():
			return -1
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		p.k.event("pod %s: container %s cannot start: %v", p.name(), c.Name, err)
		cc.write([]byte("kubelet stand-in: " + err.Error() + "\n"))
		return 128
	}
	prefix := "[" + p.name() + "/" + c.Name + "] "
	tee := func(b []byte) {
		cc.write(b)
		if p.k.opts.Tee != nil {
			for _, line := range strings.SplitAfter(string(b), "\n") {
				if line != "" {
					p.k.opts.Tee([]byte(prefix + line))
				}
			}
		}
	}
	for _, note := range spec.notes {
		p.k.event("pod %s: container %s: %s", p.name(), c.Name, note)
	}
	app, err := procs.StartAppWith(procs.AppOptions{Name: p.name() + "/" + c.Name, Path: spec.argv[0], Args: spec.argv[1:],
		Env: spec.env, CleanEnv: true, Dir: spec.dir, Tee: tee})
	if err != nil {
		p.k.event("pod %s: container %s: %v", p.name(), c.Name, err)
		return 128
	}
	cc.mu.Lock()
	cc.app, cc.exitCode = app, nil
	cc.mu.Unlock()
	p.k.event("pod %s: container %s started: %s", p.name(), c.Name, strings.Join(spec.argv, " "))
	select {
	case <-app.Done():
	case <-ctx.Done():
		app.StopWithin(10 * time.Second)
	}
	code, _ := app.ExitCode()
	cc.mu.Lock()
	cc.exitCode = &code
	cc.mu.Unlock()
	if last := lastLine(app.Logs()); code != 0 && last != "" {
		p.k.event("pod %s: container %s exited with %d; its last line: %s", p.name(), c.Name, code, last)
	} else {
		p.k.event("pod %s: container %s exited with %d", p.name(), c.Name, code)
	}
	return code
}

// lastLine is the last non-empty line of a container's output, cut to 300
// bytes, so that an event tells why a container failed.
func lastLine(out string) string {
	out = strings.TrimRight(out, "\n")
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if len(out) > 300 {
		out = out[:300] + "..."
	}
	return out
}
