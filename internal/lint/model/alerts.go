package model

import (
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// What the violations consumer's alerts (internal/consumer/alerts) read.
const (
	// FlagAlertsConfig is `violations serve`'s flag naming the routes file.
	FlagAlertsConfig = "alerts-config"
	// AlertsConfigKey is the key the chart and the kustomize component
	// keep the routes file under in a ConfigMap.
	AlertsConfigKey = "alerts.yaml"
)

// AlertsConfig returns the consumer's --alerts-config, when it is given a
// value.
func (k *Consumer) AlertsConfig() (ConsumerFlag, bool) {
	f, ok := k.Flags[FlagAlertsConfig]
	return f, ok && f.Value != ""
}

// FileSource is what provides a file in a container: the volume mounted
// at or above it and, for a ConfigMap, Secret or projected volume, the
// object and key the file is projected from.
type FileSource struct {
	Mount *VolumeMount
	// Kind is the volume's kind: configMap, secret, projected, emptyDir,
	// persistentVolumeClaim, ... ("" when the volume is not in the pod).
	Kind string
	// InVolume is the file's path inside the volume (VolumeMount.InVolume).
	InVolume string
	// From is "configMap" or "secret" when the file is projected from
	// such an object, with its Name and Key; "" when the volume's kind
	// does not say (an emptyDir, a PersistentVolumeClaim).
	From, Name, Key string
	// Missing: the volume projects objects' keys, but none to this path
	// (its items list other paths).
	Missing bool
}

// FileSource says what provides the file p in spec.containers[i]; ok is
// false when no volume is mounted at or above p (the file would be the
// image's own).
func (w *Workload) FileSource(i int, p string) (FileSource, bool) {
	mounts := w.ContainerMounts(i)
	m := MountHolding(mounts, p)
	if m == nil {
		return FileSource{}, false
	}
	fs := FileSource{Mount: m, InVolume: m.InVolume(p)}
	vol := w.Volumes()[m.Name]
	for _, kind := range []string{"configMap", "secret", "projected", "emptyDir", "persistentVolumeClaim", "hostPath", "csi", "ephemeral", "downwardAPI"} {
		if _, ok := vol[kind]; ok {
			fs.Kind = kind
			break
		}
	}
	var sources []map[string]any
	switch fs.Kind {
	case "configMap", "secret":
		src, _ := vol[fs.Kind].(map[string]any)
		sources = append(sources, map[string]any{fs.Kind: src})
	case "projected":
		list, _ := render.Lookup(vol, "projected", "sources")
		l, _ := list.([]any)
		for _, e := range l {
			if s, ok := e.(map[string]any); ok {
				sources = append(sources, s)
			}
		}
	default:
		return fs, true
	}
	fs.Missing = true
	for _, s := range sources {
		for _, kind := range []string{"configMap", "secret"} {
			src, ok := s[kind].(map[string]any)
			if !ok {
				continue
			}
			name, _ := src["name"].(string)
			if fs.Kind == "secret" {
				name, _ = src["secretName"].(string)
			}
			key, ok := projectedKey(src, fs.InVolume)
			if !ok {
				continue
			}
			fs.From, fs.Name, fs.Key, fs.Missing = kind, name, key, false
			return fs, true
		}
	}
	return fs, true
}

// projectedKey is the key of a ConfigMap or Secret source that lands at
// rel (a path inside the volume): the item whose path is rel, or, without
// items, rel itself when it names a file at the volume's root.
func projectedKey(src map[string]any, rel string) (string, bool) {
	items, has := src["items"].([]any)
	if !has || len(items) == 0 {
		if rel == "." || strings.Contains(rel, "/") {
			return "", false
		}
		return rel, true
	}
	for _, e := range items {
		it, _ := e.(map[string]any)
		p, _ := it["path"].(string)
		if p != "" && path.Clean(p) == rel {
			key, _ := it["key"].(string)
			return key, key != ""
		}
	}
	return "", false
}

// AlertsFile is a routes file of the violations consumer held in a
// ConfigMap: the key a consumer's --alerts-config reads, or any key named
// alerts.yaml.
type AlertsFile struct {
	Obj  *Object
	Key  string
	Text string
	// Consumer is the subscriber whose --alerts-config reads it (nil when
	// it is a key named alerts.yaml that no consumer among the inputs
	// reads).
	Consumer *Subscriber
}

// DataPath is the path of the file's key in the ConfigMap.
func (f AlertsFile) DataPath() Path { return P("data", f.Key) }

// AlertsFiles returns the ConfigMap keys holding a consumer's routes: for
// each consumer with --alerts-config, the key of the ConfigMap among the
// inputs that its mounts put at that path; then every other ConfigMap key
// named alerts.yaml. Each key once, the consumer's first.
func (s *Setup) AlertsFiles() []AlertsFile {
	var out []AlertsFile
	type ref struct {
		obj *Object
		key string
	}
	seen := map[ref]bool{}
	add := func(o *Object, key string, sub *Subscriber) {
		data, _ := o.Obj["data"].(map[string]any)
		text, ok := data[key].(string)
		if !ok || seen[ref{o, key}] {
			return
		}
		seen[ref{o, key}] = true
		out = append(out, AlertsFile{Obj: o, Key: key, Text: text, Consumer: sub})
	}
	subs := s.Subscribers()
	for i := range subs {
		sub := &subs[i]
		if sub.Consumer == nil {
			continue
		}
		f, ok := sub.Consumer.AlertsConfig()
		if !ok || !path.IsAbs(f.Value) {
			continue
		}
		src, ok := sub.Workload.FileSource(sub.Container.Index, f.Value)
		if !ok || src.From != "configMap" {
			continue
		}
		if o := s.ConfigMap(sub.Workload.Obj.NS, src.Name); o != nil {
			add(o, src.Key, sub)
		}
	}
	for _, o := range s.Objects {
		if o.Kind() == "ConfigMap" && o.APIVersion() == "v1" {
			add(o, AlertsConfigKey, nil)
		}
	}
	return out
}

// ConfigMap returns the ConfigMap ns/name among the inputs, or nil.
func (s *Setup) ConfigMap(ns, name string) *Object {
	for _, o := range s.Objects {
		if o.Kind() == "ConfigMap" && o.APIVersion() == "v1" && o.NS == ns && o.Name() == name {
			return o
		}
	}
	return nil
}

// AlertRoute is one entry of a routes file's routes, as written.
type AlertRoute struct {
	Index int
	Name  string
	// Sink is "webhook" or "slack" (the first given).
	Sink string
	// URL is the sink's url as written, nil when none.
	URL *AlertScalar
	// URLEnv is the sink's urlEnv, "" when none.
	URLEnv string
}

// AlertScalar is a string of the routes file and where it is in the text
// (1-based line and column).
type AlertScalar struct {
	Value        string
	Line, Column int
}

// ParseAlertRoutes reads a routes file's routes with their positions; ok
// is false when the text is not YAML with a routes list.
func ParseAlertRoutes(text string) ([]AlertRoute, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil || len(doc.Content) == 0 {
		return nil, false
	}
	routes := mapValue(doc.Content[0], "routes")
	if routes == nil || routes.Kind != yaml.SequenceNode {
		return nil, false
	}
	var out []AlertRoute
	for i, n := range routes.Content {
		if n.Kind != yaml.MappingNode {
			continue
		}
		r := AlertRoute{Index: i}
		if v := mapValue(n, "name"); v != nil && v.Kind == yaml.ScalarNode {
			r.Name = v.Value
		}
		for _, sink := range []string{"webhook", "slack"} {
			e := mapValue(n, sink)
			if e == nil || e.Kind != yaml.MappingNode {
				continue
			}
			r.Sink = sink
			if u := mapValue(e, "url"); u != nil && u.Kind == yaml.ScalarNode && u.Value != "" {
				r.URL = &AlertScalar{Value: u.Value, Line: u.Line, Column: u.Column}
			}
			if v := mapValue(e, "urlEnv"); v != nil && v.Kind == yaml.ScalarNode {
				r.URLEnv = v.Value
			}
			break
		}
		out = append(out, r)
	}
	return out, true
}

// mapValue returns the value of key in a mapping node, nil when absent.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
