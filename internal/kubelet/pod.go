package kubelet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

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

func newPod(k *Kubelet, obj *corev1.Pod) *pod {
	return &pod{k: k, obj: obj, dir: filepath.Join(k.dir, obj.Namespace+"_"+obj.Name), ports: map[int]int{},
		containers: map[string]*container{}, finished: make(chan struct{})}
}

func (p *pod) deleted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gone
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

func (p *pod) statuses() []corev1.ContainerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []corev1.ContainerStatus
	for _, c := range p.obj.Spec.Containers {
		st := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image}
		if cc := p.containers[c.Name]; cc != nil {
			cc.mu.Lock()
			st.RestartCount = int32(cc.restarts) //nolint:gosec // G115: a stand-in's restart count stays far below 2^31
			if cc.exitCode != nil {
				st.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: int32(*cc.exitCode)} //nolint:gosec // G115: exit codes are 0-255
			} else {
				st.Ready, st.Started = true, ptr.To(true)
				st.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.Now()}
			}
			cc.mu.Unlock()
		}
		out = append(out, st)
	}
	return out
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

// processSpec is how one run of a container is started.
type processSpec struct {
	argv  []string
	env   []string
	dir   string
	notes []string
}

// waitError is a prerequisite that is not there yet (a Secret to mount);
// the container waits for it.
type waitError struct{ err error }

func (w *waitError) Error() string { return w.err.Error() }
func (w *waitError) Unwrap() error { return w.err }

// containerSpec resolves a container's binary, args, env and mounts.
func (p *pod) containerSpec(ctx context.Context, c corev1.Container, kubeconfig string) (*processSpec, error) {
	img, _ := p.k.image(c.Image)
	env, err := p.env(ctx, c)
	if err != nil {
		return nil, err
	}
	mounts, err := p.mounts(ctx, c)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var argv []string
	if len(c.Command) > 0 {
		argv = append(argv, expand(c.Command[1:], vars)...)
	}
	argv = append(argv, expand(c.Args, vars)...)
	spec := &processSpec{dir: filepath.Join(p.dir, "root")}
	if err := os.MkdirAll(spec.dir, 0o700); err != nil {
		return nil, err
	}
	for i, a := range argv {
		if r := rewritePaths(a, mounts); r != a && !img.KeepPaths {
			argv[i] = r
		}
	}
	for _, flag := range slices.Sorted(maps.Keys(img.PathFlags)) {
		def := img.PathFlags[flag]
		if _, ok := flagValue(argv, flag); ok {
			continue
		}
		path := rewritePaths(def, mounts)
		if path == def {
			path = filepathJoinUnder(spec.dir, def)
		}
		argv = append(argv, "--"+flag+"="+path)
		spec.notes = append(spec.notes, fmt.Sprintf("--%s defaults to %s: given as %s", flag, def, path))
	}
	for _, flag := range slices.Sorted(maps.Keys(img.ListenFlags)) {
		def := img.ListenFlags[flag]
		v, ok := flagValue(argv, flag)
		if !ok {
			v = expand([]string{def}, vars)[0]
		}
		port, err := portOf(v)
		if err != nil {
			return nil, fmt.Errorf("flag --%s=%q: no port in it", flag, v)
		}
		hp, err := p.hostPort(port)
		if err != nil {
			return nil, err
		}
		argv = append(argv, "--"+flag+"="+withPort(v, hp))
	}
	// Dapr's app containers reach their sidecar on its mapped ports.
	for i, kv := range env {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "DAPR_GRPC_PORT":
			if p.daprd != nil {
				env[i] = k + "=" + strconv.Itoa(p.daprd.grpc)
			}
		case "DAPR_HTTP_PORT":
			if p.daprd != nil {
				env[i] = k + "=" + strconv.Itoa(p.daprd.http)
			}
		}
	}
	// The pod's credentials: its service account's token, as a kubeconfig
	// (there is no in-cluster address on loopback).
	env = append(env, "KUBECONFIG="+kubeconfig, "HOME="+spec.dir, "PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR="+spec.dir)
	spec.argv = append([]string{img.Binary}, argv...)
	spec.env = env
	return spec, nil
}

// env resolves the container's environment variables in order.
func (p *pod) env(ctx context.Context, c corev1.Container) ([]string, error) {
	var out []string
	vars := map[string]string{}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom == nil {
			v = expand([]string{v}, vars)[0]
		} else {
			var err error
			if v, err = p.envFrom(ctx, e); err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
		}
		vars[e.Name] = v
		out = append(out, e.Name+"="+v)
	}
	return out, nil
}

func (p *pod) envFrom(ctx context.Context, e corev1.EnvVar) (string, error) {
	src := e.ValueFrom
	switch {
	case src.FieldRef != nil:
		switch src.FieldRef.FieldPath {
		case "metadata.name":
			return p.obj.Name, nil
		case "metadata.namespace":
			return p.obj.Namespace, nil
		case "metadata.uid":
			return string(p.obj.UID), nil
		case "spec.nodeName":
			return "kubelet-standin", nil
		case "spec.serviceAccountName":
			return p.obj.Spec.ServiceAccountName, nil
		case "status.podIP", "status.hostIP":
			return "127.0.0.1", nil
		}
		if k, ok := strings.CutPrefix(src.FieldRef.FieldPath, "metadata.labels['"); ok {
			return p.obj.Labels[strings.TrimSuffix(k, "']")], nil
		}
		if k, ok := strings.CutPrefix(src.FieldRef.FieldPath, "metadata.annotations['"); ok {
			return p.obj.Annotations[strings.TrimSuffix(k, "']")], nil
		}
		return "", fmt.Errorf("fieldRef %s is not supported by the stand-in", src.FieldRef.FieldPath)
	case src.SecretKeyRef != nil:
		s, err := p.k.client.CoreV1().Secrets(p.obj.Namespace).Get(ctx, src.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			if ptr.Deref(src.SecretKeyRef.Optional, false) {
				return "", nil
			}
			return "", &waitError{fmt.Errorf("Secret %s/%s: %w", p.obj.Namespace, src.SecretKeyRef.Name, err)} //nolint:staticcheck // ST1005: "Secret" is the Kind, as kubectl writes it
		}
		return string(s.Data[src.SecretKeyRef.Key]), nil
	case src.ConfigMapKeyRef != nil:
		cm, err := p.k.client.CoreV1().ConfigMaps(p.obj.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			if ptr.Deref(src.ConfigMapKeyRef.Optional, false) {
				return "", nil
			}
			return "", &waitError{fmt.Errorf("ConfigMap %s/%s: %w", p.obj.Namespace, src.ConfigMapKeyRef.Name, err)}
		}
		return cm.Data[src.ConfigMapKeyRef.Key], nil
	}
	return "", fmt.Errorf("valueFrom of this kind is not supported by the stand-in")
}

// mounts writes the container's volumes into the pod's directory (fresh
// for each run, as a kubelet refreshes ConfigMap and Secret volumes) and
// returns mount path -> host directory.
func (p *pod) mounts(ctx context.Context, c corev1.Container) (map[string]string, error) {
	vols := map[string]corev1.Volume{}
	for _, v := range p.obj.Spec.Volumes {
		vols[v.Name] = v
	}
	out := map[string]string{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %s: no volume of that name", m.Name)
		}
		host := filepath.Join(p.dir, "volumes", m.Name)
		switch {
		case v.EmptyDir != nil:
			// Kept across runs, as an emptyDir lives as long as the pod.
			if err := os.MkdirAll(host, 0o700); err != nil {
				return nil, err
			}
		case v.ConfigMap != nil:
			data, err := p.configMapData(ctx, m.Name, v.ConfigMap.Name, ptr.Deref(v.ConfigMap.Optional, false))
			if err != nil {
				return nil, err
			}
			if err := writeFiles(host, data, v.ConfigMap.Items); err != nil {
				return nil, err
			}
		case v.Secret != nil:
			data, err := p.secretData(ctx, m.Name, v.Secret.SecretName, ptr.Deref(v.Secret.Optional, false))
			if err != nil {
				return nil, err
			}
			if err := writeFiles(host, data, v.Secret.Items); err != nil {
				return nil, err
			}
		case v.PersistentVolumeClaim != nil:
			// A claim outlives its pods: one directory per claim, kept
			// across pods and runs (there is no provisioner; the claim
			// stays Pending, and the stand-in runs the pod anyway).
			host = filepath.Join(p.k.dir, "claims", p.obj.Namespace, v.PersistentVolumeClaim.ClaimName)
			if err := os.MkdirAll(host, 0o700); err != nil {
				return nil, err
			}
		case v.Projected != nil:
			data, err := p.projectedData(ctx, m.Name, v.Projected)
			if err != nil {
				return nil, err
			}
			if err := writeFiles(host, data, nil); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("volume %s: only emptyDir, configMap, secret, persistentVolumeClaim and projected volumes are supported by the stand-in", m.Name)
		}
		if m.SubPath != "" {
			host = filepath.Join(host, m.SubPath)
		}
		out[m.MountPath] = host
	}
	return out, nil
}

func (p *pod) configMapData(ctx context.Context, volume, name string, optional bool) (map[string][]byte, error) {
	cm, err := p.k.client.CoreV1().ConfigMaps(p.obj.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional {
			return map[string][]byte{}, nil
		}
		return nil, &waitError{fmt.Errorf("volume %s: ConfigMap %s/%s: %w", volume, p.obj.Namespace, name, err)}
	}
	data := map[string][]byte{}
	for k, s := range cm.Data {
		data[k] = []byte(s)
	}
	for k, b := range cm.BinaryData {
		data[k] = b
	}
	return data, nil
}

func (p *pod) secretData(ctx context.Context, volume, name string, optional bool) (map[string][]byte, error) {
	s, err := p.k.client.CoreV1().Secrets(p.obj.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional {
			return map[string][]byte{}, nil
		}
		return nil, &waitError{fmt.Errorf("volume %s: Secret %s/%s: %w", volume, p.obj.Namespace, name, err)}
	}
	return s.Data, nil
}

// projectedData gathers a projected volume's files: ConfigMap and Secret
// keys (items selected and renamed) and the downward API's namespace. A
// service account token is not written: the pod's credentials are in
// KUBECONFIG. The token volume's kube-root-ca.crt is optional here (the
// stand-in's clients do not read it).
func (p *pod) projectedData(ctx context.Context, volume string, v *corev1.ProjectedVolumeSource) (map[string][]byte, error) {
	out := map[string][]byte{}
	add := func(data map[string][]byte, items []corev1.KeyToPath) {
		if len(items) == 0 {
			maps.Copy(out, data)
			return
		}
		for _, it := range items {
			if b, ok := data[it.Key]; ok {
				out[it.Path] = b
			}
		}
	}
	for _, src := range v.Sources {
		switch {
		case src.ConfigMap != nil:
			optional := ptr.Deref(src.ConfigMap.Optional, false) || src.ConfigMap.Name == "kube-root-ca.crt"
			data, err := p.configMapData(ctx, volume, src.ConfigMap.Name, optional)
			if err != nil {
				return nil, err
			}
			add(data, src.ConfigMap.Items)
		case src.Secret != nil:
			data, err := p.secretData(ctx, volume, src.Secret.Name, ptr.Deref(src.Secret.Optional, false))
			if err != nil {
				return nil, err
			}
			add(data, src.Secret.Items)
		case src.DownwardAPI != nil:
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef != nil && it.FieldRef.FieldPath == "metadata.namespace" {
					out[it.Path] = []byte(p.obj.Namespace)
				}
			}
		}
	}
	if len(v.Sources) == 0 || (len(out) == 0 && v.Sources[0].ServiceAccountToken != nil) {
		out["namespace"] = []byte(p.obj.Namespace)
	}
	return out, nil
}

// writeFiles replaces dir's contents with data (only items, renamed, when
// items are given).
func writeFiles(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if len(items) > 0 {
		sel := map[string][]byte{}
		for _, it := range items {
			if b, ok := data[it.Key]; ok {
				sel[it.Path] = b
			}
		}
		data = sel
	}
	for name, b := range data {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// kubeconfig writes a kubeconfig with a token of the pod's service account
// (TokenRequest API), so the pod's processes have the pod's RBAC.
func (p *pod) kubeconfig(ctx context.Context) (string, error) {
	sa := p.obj.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr, err := p.k.client.CoreV1().ServiceAccounts(p.obj.Namespace).CreateToken(ctx, sa, &authv1.TokenRequest{
		Spec: authv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(24 * 3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	cfg := p.k.opts.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["cluster"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["pod"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["pod"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "pod", Namespace: p.obj.Namespace}
	kc.CurrentContext = "pod"
	path := filepath.Join(p.dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", err
	}
	return path, nil
}

// expand does Kubernetes' $(VAR) expansion: defined variables are
// replaced, $$ is a literal $, anything else stays as written.
func expand(in []string, vars map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if s[j] != '$' || j+1 >= len(s) {
				b.WriteByte(s[j])
				continue
			}
			switch s[j+1] {
			case '$':
				b.WriteByte('$')
				j++
				continue
			case '(':
				if end := strings.IndexByte(s[j+2:], ')'); end >= 0 {
					name := s[j+2 : j+2+end]
					if v, ok := vars[name]; ok {
						b.WriteString(v)
						j += 2 + end
						continue
					}
				}
			}
			b.WriteByte(s[j])
		}
		out[i] = b.String()
	}
	return out
}

// rewritePaths rewrites a path in a container (alone, or as a flag's value
// after "=") that lies under a mount to the mount's host directory.
func rewritePaths(arg string, mounts map[string]string) string {
	prefix, val := "", arg
	if strings.HasPrefix(arg, "-") {
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			return arg
		}
		prefix, val = k+"=", v
	}
	// A URL naming a file (sqlite:///var/lib/x.db) is rewritten in its
	// path.
	if scheme, rest, ok := strings.Cut(val, "://"); ok && strings.HasPrefix(rest, "/") && !strings.ContainsAny(scheme, "/=") {
		prefix, val = prefix+scheme+"://", rest
	}
	best := ""
	for mp := range mounts {
		mp0 := strings.TrimSuffix(mp, "/")
		if (val == mp0 || strings.HasPrefix(val, mp0+"/")) && len(mp0) > len(best) {
			best = mp0
		}
	}
	if best == "" {
		return arg
	}
	host := mounts[best]
	if host == "" {
		host = mounts[best+"/"]
	}
	return prefix + host + strings.TrimPrefix(val, best)
}

// flagValue returns the last value of a flag in Go flag syntax (-f=v,
// --f=v, -f v, --f v).
func flagValue(args []string, name string) (string, bool) {
	val, found := "", false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		n := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if n == a {
			continue
		}
		if k, v, ok := strings.Cut(n, "="); ok {
			if k == name {
				val, found = v, true
			}
			continue
		}
		if n == name && i+1 < len(args) {
			val, found = args[i+1], true
			i++
		}
	}
	return val, found
}
