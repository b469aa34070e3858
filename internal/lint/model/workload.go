package model

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// Workload is an object with a pod template (or a Pod).
type Workload struct {
	Obj *Object
	// Template is the path of the pod template ("" elements for a Pod).
	Template    Path
	Meta        map[string]any
	Spec        map[string]any
	Annotations map[string]string
	Containers  []Container
}

// Container is one container of a pod template.
type Container struct {
	Index int
	Name  string
	Image string
	// Args are command then args, each with its field path; the first
	// Command of them are the command.
	Args    []Arg
	Command int
	// Env holds the plain values of env (not valueFrom).
	Env map[string]EnvVar
	// EnvRefs holds the env entries set with valueFrom, by name: what
	// their value comes from ("secretKeyRef", "configMapKeyRef",
	// "fieldRef", "resourceFieldRef"). A name is in Env or EnvRefs, as
	// its last entry sets it.
	EnvRefs map[string]EnvVar
	// EnvFrom: the container has envFrom sources, which may set any
	// variable that env does not.
	EnvFrom bool
	// envIndex is the index in env of the entry that sets each variable.
	envIndex map[string]int
}

// Arg is one command-line token.
type Arg struct {
	Value string
	Field Path
}

// EnvVar is one env entry with a value.
type EnvVar struct {
	Value string
	Field Path
}

var templatePaths = map[string][]string{
	"Deployment":            {"spec", "template"},
	"StatefulSet":           {"spec", "template"},
	"DaemonSet":             {"spec", "template"},
	"ReplicaSet":            {"spec", "template"},
	"ReplicationController": {"spec", "template"},
	"Job":                   {"spec", "template"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template"},
	"Pod":                   {},
}

func newWorkload(o *Object) *Workload {
	tp, ok := templatePaths[o.Kind()]
	if !ok {
		return nil
	}
	v, _ := render.Lookup(o.Obj, tp...)
	tmpl, _ := v.(map[string]any)
	if tmpl == nil {
		return nil
	}
	w := &Workload{Obj: o}
	for _, e := range tp {
		w.Template = append(w.Template, e)
	}
	w.Meta, _ = tmpl["metadata"].(map[string]any)
	w.Spec, _ = tmpl["spec"].(map[string]any)
	if w.Spec == nil {
		return nil
	}
	w.Annotations = scalarMap(w.Meta["annotations"])
	list, _ := w.Spec["containers"].([]any)
	for i, c := range list {
		cm, _ := c.(map[string]any)
		if cm == nil {
			continue
		}
		w.Containers = append(w.Containers, newContainer(w.Template.Add("spec", "containers", i), i, cm))
	}
	return w
}

func newContainer(base Path, i int, cm map[string]any) Container {
	c := Container{Index: i, Env: map[string]EnvVar{}, EnvRefs: map[string]EnvVar{}, envIndex: map[string]int{}}
	c.Name, _ = cm["name"].(string)
	c.Image, _ = cm["image"].(string)
	for _, k := range []string{"command", "args"} {
		l, _ := cm[k].([]any)
		for j, a := range l {
			c.Args = append(c.Args, Arg{Value: scalar(a), Field: base.Add(k, j)})
		}
		if k == "command" {
			c.Command = len(c.Args)
		}
	}
	env, _ := cm["env"].([]any)
	for j, e := range env {
		em, _ := e.(map[string]any)
		name, _ := em["name"].(string)
		if name == "" {
			continue
		}
		if from, ok := em["valueFrom"].(map[string]any); ok {
			delete(c.Env, name)
			c.EnvRefs[name] = EnvVar{Value: valueFromKind(from), Field: base.Add("env", j, "valueFrom")}
			c.envIndex[name] = j
		} else if v, ok := em["value"]; ok {
			delete(c.EnvRefs, name)
			c.Env[name] = EnvVar{Value: scalar(v), Field: base.Add("env", j, "value")}
			c.envIndex[name] = j
		}
	}
	if l, _ := cm["envFrom"].([]any); len(l) > 0 {
		c.EnvFrom = true
	}
	return c
}

// valueFromKind names the source of an env entry's valueFrom.
func valueFromKind(from map[string]any) string {
	for _, k := range []string{"secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef"} {
		if _, ok := from[k]; ok {
			return k
		}
	}
	return "valueFrom"
}

// TemplatePath returns the path of a field of the pod template.
func (w *Workload) TemplatePath(elems ...any) Path { return w.Template.Add(elems...) }

// AnnotationPath returns the path of a pod template annotation (or of the
// annotations map, or the template metadata, when it is absent).
func (w *Workload) AnnotationPath(key string) Path {
	if _, ok := w.Annotations[key]; ok {
		return w.TemplatePath("metadata", "annotations", key)
	}
	if w.Meta["annotations"] != nil {
		return w.TemplatePath("metadata", "annotations")
	}
	if w.Meta != nil {
		return w.TemplatePath("metadata")
	}
	return w.Template
}

// DaprEnabled says whether Dapr's injector adds a sidecar to the pod.
func (w *Workload) DaprEnabled() bool { return IsTruthy(w.Annotations["dapr.io/enabled"]) }

// AppID is the pod's Dapr app-id ("" when unset: Dapr uses the pod name).
func (w *Workload) AppID() string { return w.Annotations["dapr.io/app-id"] }

// IsTruthy reads a boolean as Dapr does (y, yes, true, t, on, 1).
func IsTruthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes", "true", "t", "on", "1":
		return true
	}
	return false
}

func scalar(v any) string { return connection.Scalar(v) }

func scalarMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, e := range m {
		switch e.(type) {
		case map[string]any, []any:
			continue
		}
		out[k] = scalar(e)
	}
	return out
}
