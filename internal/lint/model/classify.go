package model

import (
	"strings"
	"unique"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// Class is what an object is to the Setup.
type Class uint8

// Classes of objects. Irrelevant objects matter to no rule.
const (
	Irrelevant Class = iota
	ClassConfigMap
	ClassConnection
	ClassComponent
	ClassNamespace
	ClassWorkload
	ClassSecret
)

// Entry is one input object as the Setup sees it. Classify makes it: the
// one place that decides what an object is.
type Entry struct {
	Obj   *Object
	Class Class
	// Component is the model of a Dapr Component (ClassComponent). It
	// holds all the rules need of the object, so the object's tree may be
	// released (render.Object.Release) once the per-object rules ran.
	Component *Component
	// Workload is a workload's model (ClassWorkload).
	Workload *Workload
}

// Classify says what one object is to the Setup; defaultNS is where an
// object without metadata.namespace goes. It depends on the object alone,
// so inputs can be classified as they are read. A workload is relevant when
// it runs a Gatekeeper manager (an audit or not), is Dapr's sidecar
// injector, has dapr.io/ annotations or a subscriber's AUDIT_CHANNEL; any
// other workload, and any object that is no workload, ConfigMap,
// Connection, Component, Namespace or Secret, is Irrelevant.
func Classify(ro render.Object, defaultNS string) Entry {
	// Namespaces repeat across objects: one copy of each is kept.
	o := &Object{Object: ro, NS: unique.Make(ro.Namespace()).Value()}
	if o.NS == "" {
		o.NS = defaultNS
	}
	api, kind := o.APIVersion(), o.Kind()
	switch {
	case kind == "ConfigMap" && api == "v1":
		return Entry{Obj: o, Class: ClassConfigMap}
	case kind == "Connection" && strings.HasPrefix(api, "connection.gatekeeper.sh/"):
		return Entry{Obj: o, Class: ClassConnection}
	case kind == "Component" && strings.HasPrefix(api, "dapr.io/"):
		return Entry{Obj: o, Class: ClassComponent, Component: newComponent(o)}
	case kind == "Namespace" && api == "v1":
		return Entry{Obj: o, Class: ClassNamespace}
	case kind == "Secret" && api == "v1":
		return Entry{Obj: o, Class: ClassSecret}
	}
	if w := newWorkload(o); w != nil && relevantWorkload(w) {
		return Entry{Obj: o, Class: ClassWorkload, Workload: w}
	}
	return Entry{Obj: o}
}

// Relevant says whether an object can matter to a rule (Classify).
func Relevant(ro render.Object) bool { return Classify(ro, "").Class != Irrelevant }

func relevantWorkload(w *Workload) bool {
	if newAudit(w) != nil || newInjector(w) != nil {
		return true
	}
	// A Dapr app (its dapr.io/ annotations are checked), wherever the
	// annotations were written.
	for _, m := range []map[string]string{w.Annotations, w.Obj.Annotations()} {
		for k := range m {
			if strings.HasPrefix(strings.ToLower(k), "dapr.io/") {
				return true
			}
		}
	}
	for _, c := range w.Containers {
		if _, ok := c.Env["AUDIT_CHANNEL"]; ok {
			return true
		}
		if _, ok := ConsumerTopic(c); ok {
			return true
		}
		if IsGatekeeperManager(c) {
			return true
		}
	}
	return false
}
