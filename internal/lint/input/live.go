package input

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// Live selects a cluster whose deployed setup is linted.
type Live struct {
	// Kubeconfig is a kubeconfig file; empty means the usual lookup
	// ($KUBECONFIG, ~/.kube/config) or, inside a pod, the in-cluster
	// config.
	Kubeconfig string
	// Context in the kubeconfig; empty means its current context.
	Context string
}

// What live mode reads (all read-only: get, list). LiveRBAC documents it.
var (
	gvrNamespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrConfigMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrConnections = schema.GroupVersionResource{Group: "connection.gatekeeper.sh", Version: "v1alpha1", Resource: "connections"}
	gvrComponents  = schema.GroupVersionResource{Group: "dapr.io", Version: "v1alpha1", Resource: "components"}
	gvrSecrets     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// LiveRBAC is the ClusterRole rule list live mode needs: list only (it
// never calls get), on what it reads across the cluster.
const LiveRBAC = `- apiGroups: [""]
  resources: [namespaces]
  verbs: [list]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list]
- apiGroups: [connection.gatekeeper.sh]
  resources: [connections]
  verbs: [list]
- apiGroups: [dapr.io]
  resources: [components]
  verbs: [list]`

// LiveNamespacedRBAC is the Role rule list live mode needs in each
// namespace an audit runs in (and gatekeeper-system): its connection
// ConfigMaps and its Pods, list only.
const LiveNamespacedRBAC = `- apiGroups: [""]
  resources: [configmaps, pods]
  verbs: [list]`

// LiveSecretRBAC is the Role rule live mode needs, in a Component's
// namespace, to check the Secrets the Component's secretKeyRefs name
// (that each exists and has the key): get on those Secrets by name only,
// never list, so that a Role can grant it with resourceNames and no other
// Secret is read. Without it the check is reported as not done
// (component-secret-unchecked). Only the key names are kept; the values
// are dropped as the Secret is read.
const LiveSecretRBAC = `- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
  resourceNames: [SECRET-NAMES]`

// liveConfig builds the REST config for l.
func liveConfig(l Live) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if l.Kubeconfig != "" {
		rules.ExplicitPath = l.Kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: l.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		if l.Kubeconfig == "" && l.Context == "" {
			if in, ierr := rest.InClusterConfig(); ierr == nil {
				return in, "in-cluster", nil
			}
		}
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	name := l.Context
	if name == "" {
		if raw, err := cc.RawConfig(); err == nil {
			name = raw.CurrentContext
		}
	}
	if name == "" {
		name = cfg.Host
	}
	return cfg, name, nil
}

// loadLive reads what the rules look at from the cluster: the Namespaces,
// the Deployments that matter (audits, the Dapr injector, subscribers),
// the ConfigMaps of the audits' namespaces, the Connections and the Dapr
// Components, and the key names of the Secrets the Components name
// (liveSecrets: get by name, LiveSecretRBAC). Each object's Source is "cluster <context>"; findings name
// the object and its field path. The running Pods of each audit are
// returned apart: they show what the injector really added.
func loadLive(ctx context.Context, l Live) (objs, pods []render.Object, source string, err error) {
	cfg, name, err := liveConfig(l)
	if err != nil {
		return nil, nil, "", err
	}
	source = "cluster " + name
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, "", err
	}
	list := func(gvr schema.GroupVersionResource, ns string, optional bool, opts metav1.ListOptions) ([]unstructured.Unstructured, error) {
		var items []unstructured.Unstructured
		for {
			page, err := dyn.Resource(gvr).Namespace(ns).List(ctx, opts)
			if err != nil {
				if optional && (apierrors.IsNotFound(err) || strings.Contains(err.Error(), "the server could not find the requested resource")) {
					return nil, nil // the API is not installed
				}
				return nil, fmt.Errorf("%s: listing %s: %w", source, gvr.GroupResource(), err)
			}
			items = append(items, page.Items...)
			if page.GetContinue() == "" {
				return items, nil
			}
			opts.Continue = page.GetContinue()
		}
	}
	add := func(items []unstructured.Unstructured, apiVersion, kind string, keep func(render.Object) bool) error {
		for i := range items {
			o, err := liveObject(&items[i], apiVersion, kind, source)
			if err != nil {
				return err
			}
			if keep == nil || keep(o) {
				objs = append(objs, o)
			}
		}
		return nil
	}
	page := metav1.ListOptions{Limit: 500}
	nss, err := list(gvrNamespaces, "", false, page)
	if err != nil {
		return nil, nil, "", err
	}
	if err := add(nss, "v1", "Namespace", nil); err != nil {
		return nil, nil, "", err
	}
	deps, err := list(gvrDeployments, "", false, page)
	if err != nil {
		return nil, nil, "", err
	}
	var kept []render.Object
	for i := range deps {
		o, err := liveObject(&deps[i], "apps/v1", "Deployment", source)
		if err != nil {
			return nil, nil, "", err
		}
		if model.Relevant(o) {
			kept = append(kept, o)
		}
	}
	objs = append(objs, kept...)
	// The audits' namespaces hold their connection ConfigMaps and Pods.
	auditNS := map[string]bool{connection.DefaultNamespace: true}
	var audits []render.Object
	for _, o := range kept {
		if isAuditDeployment(o) {
			auditNS[o.Namespace()] = true
			audits = append(audits, o)
		}
	}
	namespaces := make([]string, 0, len(auditNS))
	for ns := range auditNS {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		cms, err := list(gvrConfigMaps, ns, false, page)
		if err != nil {
			return nil, nil, "", err
		}
		if err := add(cms, "v1", "ConfigMap", model.Relevant); err != nil {
			return nil, nil, "", err
		}
	}
	for _, r := range []struct {
		gvr       schema.GroupVersionResource
		api, kind string
	}{{gvrConnections, "connection.gatekeeper.sh/v1alpha1", "Connection"}, {gvrComponents, "dapr.io/v1alpha1", "Component"}} {
		items, err := list(r.gvr, "", true, page)
		if err != nil {
			return nil, nil, "", err
		}
		if r.kind == "Component" {
			secrets, err := liveSecrets(ctx, dyn, items, source)
			if err != nil {
				return nil, nil, "", err
			}
			objs = append(objs, secrets...)
		}
		if err := add(items, r.api, r.kind, nil); err != nil {
			return nil, nil, "", err
		}
	}
	for _, a := range audits {
		sel := selectorOf(a)
		if sel == "" {
			continue
		}
		items, err := list(gvrPods, a.Namespace(), false, metav1.ListOptions{LabelSelector: sel, Limit: 500})
		if err != nil {
			return nil, nil, "", err
		}
		for i := range items {
			p, err := liveObject(&items[i], "v1", "Pod", source)
			if err != nil {
				return nil, nil, "", err
			}
			pods = append(pods, p)
		}
	}
	return objs, pods, source, nil
}

// liveObject turns a listed item into an Object as if read from a file:
// managedFields and status left out.
func liveObject(u *unstructured.Unstructured, apiVersion, kind, source string) (render.Object, error) {
	obj := u.DeepCopy().Object
	obj["apiVersion"], obj["kind"] = apiVersion, kind
	delete(obj, "status")
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	raw, err := yaml.Marshal(obj)
	if err != nil {
		return render.Object{}, fmt.Errorf("%s: %s %s/%s: %w", source, kind, u.GetNamespace(), u.GetName(), err)
	}
	// Decode like a file, so numbers and the like look the same to the rules.
	objs, err := render.SplitYAML(source, raw)
	if err != nil || len(objs) != 1 {
		return render.Object{}, fmt.Errorf("%s: %s %s/%s: %w", source, kind, u.GetNamespace(), u.GetName(), err)
	}
	objs[0].Line = 0
	return objs[0], nil
}

func isAuditDeployment(o render.Object) bool {
	spec := model.NewSetup(model.DefaultOptions(), []render.Object{o})
	for _, a := range spec.Audits {
		if !a.Assumed {
			return true
		}
	}
	return false
}

// selectorOf is the Deployment's matchLabels as a label selector.
func selectorOf(o render.Object) string {
	v, _ := render.Lookup(o.Obj, "spec", "selector", "matchLabels")
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, ",")
}

// liveSecrets reads the Secrets that the Components' secretKeyRefs name
// through Dapr's built-in kubernetes secret store, with get by name (see
// LiveSecretRBAC): each one found becomes a Secret object holding its key
// names with empty values (the values are never kept); each one that does
// not exist, or could not be read, is recorded on the Components that name
// it in model.LiveSecretsAnnotation, which the Secret rules read.
func liveSecrets(ctx context.Context, dyn dynamic.Interface, comps []unstructured.Unstructured, source string) ([]render.Object, error) {
	type ref struct{ ns, name string }
	status := map[ref]string{}
	var out []render.Object
	for i := range comps {
		c := &comps[i]
		if store, _, _ := unstructured.NestedString(c.Object, "auth", "secretStore"); store != "" && store != model.BuiltinSecretStore {
			continue
		}
		items, _, _ := unstructured.NestedSlice(c.Object, "spec", "metadata")
		notes := map[string]string{}
		for _, it := range items {
			m, _ := it.(map[string]any)
			name, _, _ := unstructured.NestedString(m, "secretKeyRef", "name")
			if name == "" {
				continue
			}
			r := ref{c.GetNamespace(), name}
			st, done := status[r]
			if !done {
				sec, err := dyn.Resource(gvrSecrets).Namespace(r.ns).Get(ctx, r.name, metav1.GetOptions{})
				switch {
				case err == nil:
					o, err := secretKeysObject(sec, source)
					if err != nil {
						return nil, err
					}
					out = append(out, o)
				case apierrors.IsNotFound(err):
					st = model.SecretMissing
				case ctx.Err() != nil:
					return nil, ctx.Err()
				default:
					st = model.SecretUnreadable + secretReadError(err)
				}
				status[r] = st
			}
			if st != "" {
				notes[name] = st
			}
		}
		if len(notes) == 0 {
			continue
		}
		raw, err := json.Marshal(notes)
		if err != nil {
			return nil, err
		}
		ann := c.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[model.LiveSecretsAnnotation] = string(raw)
		c.SetAnnotations(ann)
	}
	return out, nil
}

// secretKeysObject is a Secret with its key names only: every value empty.
func secretKeysObject(sec *unstructured.Unstructured, source string) (render.Object, error) {
	keys := map[string]any{}
	for _, f := range []string{"data", "stringData"} {
		m, _ := sec.Object[f].(map[string]any)
		for k := range m {
			keys[k] = ""
		}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": sec.GetName(), "namespace": sec.GetNamespace()},
		"data":     keys,
	}}
	return liveObject(u, "v1", "Secret", source)
}

// secretReadError says why a Secret could not be read, with the RBAC that
// lets pubsub-lint read it when that is the reason.
func secretReadError(err error) string {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		return "forbidden: pubsub-lint's credentials may not get it (grant get on that Secret by name: a Role in its namespace with " +
			"apiGroups [\"\"], resources [secrets], verbs [get], resourceNames [the Secret's name])"
	}
	return err.Error()
}
