package kubelet

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
)

// componentsGVR is Dapr's Component resource.
var componentsGVR = schema.GroupVersionResource{Group: "dapr.io", Version: "v1alpha1", Resource: "components"}

// secretStoreName is the secret store the stand-in gives standalone daprd
// in place of Kubernetes mode's built-in one (which has the same name).
const secretStoreName = "kubernetes"

// daprdPorts are the host ports of a pod's daprd.
type daprdPorts struct{ grpc, http, internal, metrics, public int }

func (p *pod) daprdPorts() (*daprdPorts, error) {
	var d daprdPorts
	for _, port := range []*int{&d.grpc, &d.http, &d.internal, &d.metrics, &d.public} {
		var err error
		if *port, err = procs.FreePort(); err != nil {
			return nil, err
		}
	}
	return &d, nil
}

// daprdKept are the injected daprd's flags that mean the same in standalone
// mode and are passed on as they are. The others are Kubernetes mode's
// (operator, Sentry, placement addresses, mTLS) or ports, which the
// stand-in sets itself.
var daprdKept = []string{
	"app-id", "app-protocol", "log-level", "log-as-json", "enable-api-logging", "app-max-concurrency",
	"dapr-http-max-request-size", "max-body-size", "dapr-http-read-buffer-size", "read-buffer-size",
	"enable-app-health-check", "app-health-check-path", "app-health-probe-interval",
	"app-health-probe-timeout", "app-health-threshold", "app-ssl", "dapr-block-shutdown-duration",
	"dapr-graceful-shutdown-seconds",
}

// daprdBool are daprd's boolean flags (no separate value).
var daprdBool = []string{"enable-metrics", "enable-mtls", "enable-profiling", "log-as-json", "app-ssl",
	"enable-app-health-check", "disable-builtin-k8s-secret-store"}

// parseDaprdArgs reads the injected container's args ("/daprd --flag v
// --bool --flag=v ...") into flag -> value.
func parseDaprdArgs(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		n := strings.TrimLeft(a, "-")
		if k, v, ok := strings.Cut(n, "="); ok {
			out[k] = v
			continue
		}
		if slices.Contains(daprdBool, n) || i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") { //nolint:gosec // G602: i+1 < len(args) by the test before it
			out[n] = "true"
			continue
		}
		out[n] = args[i+1] //nolint:gosec // G602: i+1 < len(args) is checked just above
		i++
	}
	return out
}

// daprdSpec turns the injected daprd container into a standalone daprd
// with the pod's Components and secrets.
func (p *pod) daprdSpec(ctx context.Context, c corev1.Container) (*processSpec, error) {
	flags := parseDaprdArgs(append(slices.Clone(c.Command), c.Args...))
	d := p.daprd
	dir := filepath.Join(p.dir, "daprd")
	resources := filepath.Join(dir, "resources")
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(resources, 0o700); err != nil {
		return nil, err
	}
	notes, err := p.writeComponents(ctx, resources, dir)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--mode", "standalone",
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-grpc-port", strconv.Itoa(d.grpc),
		"--dapr-http-port", strconv.Itoa(d.http),
		"--dapr-internal-grpc-port", strconv.Itoa(d.internal),
		"--dapr-public-port", strconv.Itoa(d.public),
		"--metrics-port", strconv.Itoa(d.metrics),
		"--resources-path", resources,
	}
	for _, k := range daprdKept {
		v, ok := flags[k]
		if !ok {
			continue
		}
		if k == "dapr-graceful-shutdown-seconds" && strings.HasPrefix(v, "-") {
			continue // -1: daprd's default
		}
		args = append(args, "--"+k+"="+v)
	}
	if v, ok := flags["app-port"]; ok && v != "" {
		port, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("daprd --app-port %q: %w", v, err)
		}
		hp, err := p.hostPort(port)
		if err != nil {
			return nil, err
		}
		args = append(args, "--app-port", strconv.Itoa(hp), "--app-channel-address", "127.0.0.1")
	}
	var dropped []string
	for k := range flags {
		if !slices.Contains(daprdKept, k) && !slices.Contains([]string{"app-port", "mode", "dapr-http-port", "dapr-grpc-port",
			"dapr-internal-grpc-port", "dapr-public-port", "dapr-listen-addresses", "metrics-port", "enable-metrics"}, k) {
			dropped = append(dropped, k)
		}
	}
	slices.Sort(dropped)
	if len(dropped) > 0 {
		notes = append(notes, "standalone mode: left out the Kubernetes-mode flags "+strings.Join(dropped, ", "))
	}
	env, err := p.env(ctx, c)
	if err != nil {
		return nil, err
	}
	// NAMESPACE makes daprd load only the Components of the pod's
	// namespace, as in Kubernetes mode; HOME keeps its files in the pod.
	keep := []string{"NAMESPACE=" + p.obj.Namespace, "HOME=" + dir, "PATH=/usr/local/bin:/usr/bin:/bin"}
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == "DAPR_API_TOKEN" || k == "APP_API_TOKEN" {
			keep = append(keep, kv)
		}
	}
	return &processSpec{argv: append([]string{p.k.opts.Daprd}, args...), env: keep, dir: dir, notes: notes}, nil
}

// writeComponents writes the pod namespace's Components into resources,
// each pointed at the stand-in's secret store when it uses secretKeyRef
// without naming a store, and that store (secretstores.local.file) with the
// Secrets they reference.
func (p *pod) writeComponents(ctx context.Context, resources, dir string) ([]string, error) {
	ns := p.obj.Namespace
	var list *unstructured.UnstructuredList
	// Helm creates custom resources after Deployments; give the release a
	// moment to create the pod's Components before daprd reads them (a
	// real daprd gets them from the operator).
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		list, err = p.k.dyn.Resource(componentsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, &waitError{fmt.Errorf("listing Dapr Components in %s: %w", ns, err)}
		}
		if len(list.Items) > 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	secrets := map[string]map[string]string{}
	var notes []string
	for _, item := range list.Items {
		spec, _ := item.Object["spec"].(map[string]any)
		usesSecrets := false
		if md, ok := spec["metadata"].([]any); ok {
			for _, m := range md {
				mm, _ := m.(map[string]any)
				ref, ok := mm["secretKeyRef"].(map[string]any)
				if !ok {
					continue
				}
				usesSecrets = true
				name, _ := ref["name"].(string)
				if _, done := secrets[name]; done || name == "" {
					continue
				}
				s, err := p.k.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					notes = append(notes, fmt.Sprintf("Component %s: Secret %s/%s: %v", item.GetName(), ns, name, err))
					continue
				}
				data := map[string]string{}
				for k, v := range s.Data {
					data[k] = string(v)
				}
				secrets[name] = data
			}
		}
		obj := map[string]any{
			"apiVersion": item.GetAPIVersion(), "kind": item.GetKind(),
			"metadata": map[string]any{"name": item.GetName(), "namespace": ns},
			"spec":     spec,
		}
		for _, k := range []string{"auth", "scopes"} {
			if v, ok := item.Object[k]; ok {
				obj[k] = v
			}
		}
		if auth, _ := obj["auth"].(map[string]any); usesSecrets && (auth == nil || auth["secretStore"] == nil || auth["secretStore"] == "") {
			obj["auth"] = map[string]any{"secretStore": secretStoreName}
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(resources, "component-"+item.GetName()+".yaml"), b, 0o600); err != nil {
			return nil, err
		}
		notes = append(notes, "Component "+ns+"/"+item.GetName()+" from the API server")
	}
	secretsFile := filepath.Join(dir, "secrets.json")
	if err := writeJSON(secretsFile, secrets); err != nil {
		return nil, err
	}
	store := map[string]any{
		"apiVersion": "dapr.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": secretStoreName, "namespace": ns},
		"spec": map[string]any{"type": "secretstores.local.file", "version": "v1", "metadata": []any{
			map[string]any{"name": "secretsFile", "value": secretsFile},
			map[string]any{"name": "multiValued", "value": "true"},
		}},
	}
	b, err := yaml.Marshal(store)
	if err != nil {
		return nil, err
	}
	return notes, os.WriteFile(filepath.Join(resources, "secretstore-kubernetes.yaml"), b, 0o600)
}

// waitDaprd waits until the pod's daprd has loaded its components.
func (p *pod) waitDaprd(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz/outbound", p.daprd.http)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
