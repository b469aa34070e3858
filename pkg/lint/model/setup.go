// Package model is what pubsub-lint's rules look at: the input objects
// classified into a Setup (Gatekeeper audits with their flags parsed as
// Gatekeeper's binary parses them, workloads, connection configs, Dapr
// Components, the sidecar injector, namespaces with their PodSecurity
// level), the defaults assumed for what the inputs do not show, and the
// field paths findings point at. It knows nothing of rules or findings.
package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unique"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/pod-security-admission/api"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/render"
)

// Object is an input object and the namespace it goes to.
type Object struct {
	render.Object
	// NS is metadata.namespace, or Options.Namespace when it has none
	// (where kubectl or Helm would put it).
	NS string
}

// Options are what the Setup is built with besides the objects: where
// objects without a namespace go, what is assumed of what the inputs do
// not show, and what the loading learnt.
type Options struct {
	// Namespace is where objects without metadata.namespace go.
	Namespace string
	// Assume is what is assumed of what is not among the inputs.
	Assume Assumptions
	// UnknownValues are Helm values keys given for charts among the inputs
	// that the chart does not define (charts without a values schema).
	UnknownValues []UnknownValue
	// RunningPods are the Pods of the audits as they run in a cluster (live
	// mode): what the injector really added.
	RunningPods []render.Object
	// ForwarderMinRetention is the least time of audit runs the disk
	// driver should keep for pubsub-forward (maxAuditResults times
	// --audit-interval); 0 means DefaultForwarderMinRetention.
	ForwarderMinRetention time.Duration
}

// DefaultForwarderMinRetention is ForwarderMinRetention's default: the
// longest back-off the kubelet waits before restarting a crashing
// container (CrashLoopBackOff's cap, 5 minutes), so that a forwarder that
// crash-loops still finds the runs written between two of its starts.
const DefaultForwarderMinRetention = 5 * time.Minute

// UnknownValue is a Helm values key a chart does not define.
type UnknownValue struct {
	// Chart is the chart's directory as given.
	Chart string
	// Key is the dotted path.
	Key string
	// Suggestion is the closest key the chart defines at that level, or "".
	Suggestion string
}

// Assumptions describe what is not among the inputs: the audit, when its
// Deployment is not, and Dapr's sidecar injector, when its Deployment is
// not.
type Assumptions struct {
	// GatekeeperNamespace, AuditConnection and AuditChannel describe the
	// audit.
	GatekeeperNamespace string
	AuditConnection     string
	AuditChannel        string
	// DropAllCapabilities is the injector's SIDECAR_DROP_ALL_CAPABILITIES.
	DropAllCapabilities bool
}

// DefaultNamespace is where objects without metadata.namespace go, as
// kubectl and Helm put them.
const DefaultNamespace = "default"

// DefaultAssumptions are Gatekeeper's defaults (package connection) and
// the injector setting Gatekeeper's pubsub documentation requires.
func DefaultAssumptions() Assumptions {
	return Assumptions{
		GatekeeperNamespace: connection.DefaultNamespace,
		AuditConnection:     connection.DefaultName,
		AuditChannel:        connection.DefaultChannel,
		DropAllCapabilities: true,
	}
}

// DefaultOptions are DefaultNamespace and DefaultAssumptions.
func DefaultOptions() Options {
	return Options{Namespace: DefaultNamespace, Assume: DefaultAssumptions()}
}

// Setup is everything the rules look at: the input objects and what they
// are in the pubsub setup.
type Setup struct {
	Options     Options
	Objects     []*Object
	Workloads   []*Workload
	Audits      []*Audit
	Connections []*Connection
	Components  []*Component
	// Injector is Dapr's sidecar injector when its Deployment is an input.
	Injector *Injector
	// Namespaces are the Namespace objects among the inputs, by name.
	Namespaces map[string]*Namespace
	// Secrets are the Secret objects among the inputs, by namespace/name.
	Secrets map[string]*Secret
}

// Secret is a Secret among the inputs: which keys it holds (data and
// stringData), never their values.
type Secret struct {
	Obj  *Object
	Keys []string
}

// Secret returns the Secret ns/name among the inputs, or nil.
func (s *Setup) Secret(ns, name string) *Secret { return s.Secrets[ns+"/"+name] }

// SecretsIn lists the names of the Secrets of namespace ns among the
// inputs.
func (s *Setup) SecretsIn(ns string) []string {
	var out []string
	for _, sec := range s.Secrets {
		if sec.Obj.NS == ns {
			out = append(out, sec.Obj.Name())
		}
	}
	return out
}

func newSecret(o *Object) *Secret {
	sec := &Secret{Obj: o}
	for _, f := range []string{"data", "stringData"} {
		m, _ := o.Obj[f].(map[string]any)
		for k := range m {
			sec.Keys = append(sec.Keys, k)
		}
	}
	return sec
}

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

// withDefaults fills the options left empty with DefaultOptions'.
func (opts Options) withDefaults() Options {
	def := DefaultOptions()
	if opts.Namespace == "" {
		opts.Namespace = def.Namespace
	}
	if opts.Assume.GatekeeperNamespace == "" {
		opts.Assume.GatekeeperNamespace = def.Assume.GatekeeperNamespace
	}
	if opts.Assume.AuditConnection == "" {
		opts.Assume.AuditConnection = def.Assume.AuditConnection
	}
	if opts.Assume.AuditChannel == "" {
		opts.Assume.AuditChannel = def.Assume.AuditChannel
	}
	if opts.ForwarderMinRetention <= 0 {
		opts.ForwarderMinRetention = DefaultForwarderMinRetention
	}
	return opts
}

// NewSetup classifies objects and builds the Setup from them.
func NewSetup(opts Options, objs []render.Object) *Setup {
	opts = opts.withDefaults()
	entries := make([]Entry, 0, len(objs))
	for _, o := range objs {
		entries = append(entries, Classify(o, opts.Namespace))
	}
	return Build(opts, entries)
}

// Build makes the Setup from classified objects, in their order.
// Irrelevant entries are left out. Without an audit Deployment among them,
// the Setup has an assumed audit (Audit.Assumed) as opts describe it.
func Build(opts Options, entries []Entry) *Setup {
	opts = opts.withDefaults()
	s := &Setup{Options: opts, Objects: make([]*Object, 0, len(entries)), Namespaces: map[string]*Namespace{}, Secrets: map[string]*Secret{}}
	var configMaps []*Object
	for _, e := range entries {
		o := e.Obj
		switch e.Class {
		case Irrelevant:
			continue
		case ClassConfigMap:
			configMaps = append(configMaps, o)
		case ClassConnection:
			s.Connections = append(s.Connections, newConnection(o))
		case ClassComponent:
			s.Components = append(s.Components, e.Component)
		case ClassNamespace:
			if _, dup := s.Namespaces[o.Name()]; !dup {
				s.Namespaces[o.Name()] = &Namespace{Obj: o, Name: o.Name(), Labels: o.Labels()}
			}
		case ClassWorkload:
			s.Workloads = append(s.Workloads, e.Workload)
		case ClassSecret:
			if _, dup := s.Secrets[o.NS+"/"+o.Name()]; !dup {
				s.Secrets[o.NS+"/"+o.Name()] = newSecret(o)
			}
		}
		s.Objects = append(s.Objects, o)
	}
	for _, w := range s.Workloads {
		if a := newAudit(w); a != nil {
			s.Audits = append(s.Audits, a)
		} else if inj := newInjector(w); inj != nil && s.Injector == nil {
			s.Injector = inj
		}
	}
	names := map[string]bool{opts.Assume.AuditConnection: true}
	for _, a := range s.Audits {
		names[a.Connection] = true
	}
	for _, o := range configMaps {
		data, _ := o.Obj["data"].(map[string]any)
		_, p := data["provider"]
		_, d := data["driver"]
		if p || d || names[o.Name()] {
			s.Connections = append(s.Connections, newConnection(o))
		}
	}
	if len(s.Audits) == 0 {
		s.Audits = append(s.Audits, assumedAudit(opts, len(s.Connections) > 0))
	}
	return s
}

// assumedAudit is the audit when its Deployment is not among the inputs:
// a value with the options' namespace, connection and channel, an empty
// workload (no object, annotations or containers) and an empty command
// line, so that code reading it needs no nil checks. Rules about the
// Deployment itself skip it (Rule.InputAuditsOnly).
func assumedAudit(opts Options, publishes bool) *Audit {
	flags := map[string][]Flag{}
	return &Audit{
		Workload:   &Workload{Annotations: map[string]string{}},
		Assumed:    true,
		Namespace:  opts.Assume.GatekeeperNamespace,
		Connection: opts.Assume.AuditConnection,
		Channel:    opts.Assume.AuditChannel,
		Manager:    -1,
		Parse:      &FlagParse{Flags: flags},
		Flags:      flags,
		// Publishing is assumed when there is something to publish with.
		Publishes: publishes,
	}
}

// InputAudits returns the setup with only the audits whose Deployment is
// among the inputs (not Assumed); the setup itself when that is all of
// them.
func (s *Setup) InputAudits() *Setup {
	var keep []*Audit
	for _, a := range s.Audits {
		if !a.Assumed {
			keep = append(keep, a)
		}
	}
	if len(keep) == len(s.Audits) {
		return s
	}
	cp := *s
	cp.Audits = keep
	return &cp
}

// DropAllCapabilities is what the injector does with the sidecar's capabilities.
func (s *Setup) DropAllCapabilities() bool {
	if s.Injector != nil {
		return s.Injector.DropAll
	}
	return s.Options.Assume.DropAllCapabilities
}

// ConnectionsIn returns the connection configs in namespace ns.
func (s *Setup) ConnectionsIn(ns string) []*Connection {
	var out []*Connection
	for _, c := range s.Connections {
		if c.Namespace == ns {
			out = append(out, c)
		}
	}
	return out
}

// ConnectionOf returns the connection config the audit uses, or nil.
func (s *Setup) ConnectionOf(a *Audit) *Connection {
	for _, c := range s.Connections {
		if c.Namespace == a.Namespace && c.Name == a.Connection {
			return c
		}
	}
	return nil
}

// PubsubRef is where the Dapr Component the audit publishes through is
// named.
type PubsubRef struct {
	Name  string
	Obj   *Object
	Field Path
	// By says what names it, for messages: "config.component", or
	// `pubsub-forward container "x" (--pubsub)`.
	By string
}

// PubsubOf returns where the Dapr Component the audit publishes through is
// named: config.component of its connection config, when that is valid;
// or, when the connection uses the disk driver, the --pubsub (default
// pubsub) of the pubsub-forward container in the audit pod, which sends the
// files through the pod's daprd. ok is false when neither names one.
func (s *Setup) PubsubOf(a *Audit) (ref PubsubRef, ok bool) {
	return PubsubThrough(a, s.ConnectionOf(a))
}

// PubsubThrough is PubsubOf with c as the audit's connection config (for
// example one in another namespace than the audit's).
func PubsubThrough(a *Audit, c *Connection) (ref PubsubRef, ok bool) {
	if c == nil {
		return PubsubRef{}, false
	}
	if c.IsDisk() {
		fs := a.Forwarders()
		if len(fs) == 0 {
			return PubsubRef{}, false
		}
		p := fs[0].Pubsub()
		return PubsubRef{Name: p.Value, Obj: a.Obj, Field: p.Field,
			By: fmt.Sprintf("%s container %q (--pubsub)", ForwarderName, fs[0].Container.Name)}, p.Value != ""
	}
	for _, k := range []connection.ProblemKind{connection.NoConfig, connection.Syntax, connection.Schema} {
		if _, bad := c.Problem(k); bad {
			return PubsubRef{}, false
		}
	}
	name, _ := c.Config["component"].(string)
	return PubsubRef{Name: name, Obj: c.Obj, Field: c.ConfigPath().Add(Pointer("/component")), By: "config.component"}, name != ""
}

// ComponentOf returns the Dapr Component the audit publishes through, or nil.
func (s *Setup) ComponentOf(a *Audit) *Component {
	ref, ok := s.PubsubOf(a)
	if !ok {
		return nil
	}
	return s.Component(a.Namespace, ref.Name)
}

// Component returns the Component ns/name, or nil.
func (s *Setup) Component(ns, name string) *Component {
	for _, c := range s.Components {
		if c.Namespace == ns && c.Name == name {
			return c
		}
	}
	return nil
}

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

// UsesSidecar says whether any workload among the inputs asks Dapr's
// injector for a sidecar.
func (s *Setup) UsesSidecar() bool {
	for _, w := range s.Workloads {
		if w.DaprEnabled() {
			return true
		}
	}
	return false
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

// Audit is Gatekeeper's audit: a Deployment among the inputs or, when there
// is none, the one the options describe (Assumed).
type Audit struct {
	*Workload
	Assumed   bool
	Namespace string
	// Manager is the index of the manager container (-1 when assumed).
	Manager int
	Image   string
	// Version is the Gatekeeper version from the image tag (nil: unknown).
	Version *Version
	// Parse is the manager's command line as Gatekeeper parses it (empty
	// when assumed).
	Parse *FlagParse
	// Flags by name, in order: the flags Gatekeeper parses (Parse.Flags).
	// Arguments after a stray non-flag argument or "--" are not flags.
	Flags      map[string][]Flag
	Connection string
	Channel    string
	Publishes  bool
}

// Flag is one command-line flag of the manager container.
type Flag struct {
	Name  string
	Value string
	// HasValue: -x=v, or -x v for a non-boolean flag.
	HasValue bool
	// Field is the flag's argument; ValueField the next argument when it
	// holds the value (-x v), else nil.
	Field      Path
	ValueField Path
	// Index of the argument in FlagParse.Args.
	Index int
	// Invalid: the flag's value was rejected (or it lacks one), which
	// makes the manager exit.
	Invalid bool
	// AfterExit: an earlier argument already made the manager exit.
	AfterExit bool
	// Repeatable: repeated flags accumulate (--operation,
	// --disable-opa-builtin, ...) rather than the last one winning.
	Repeatable bool
}

// Gatekeeper's flags that the rules read.
const (
	FlagEnablePubsub = "enable-pub-sub"
	FlagEnableExport = "enable-violation-export"
	FlagConnection   = "audit-connection"
	FlagChannel      = "audit-channel"
	FlagOperation    = "operation"
)

// Last returns the last occurrence of a flag (the one that wins).
func (a *Audit) Last(name string) (Flag, bool) {
	fs := a.Flags[name]
	if len(fs) == 0 {
		return Flag{}, false
	}
	return fs[len(fs)-1], true
}

// FlagBool parses a boolean flag as Go's flag package does; ok is false
// for a malformed value.
func FlagBool(f Flag) (value, ok bool) {
	if !f.HasValue {
		return true, true
	}
	b, err := strconv.ParseBool(f.Value)
	return b, err == nil
}

// newAudit identifies the audit by an --operation=audit anywhere on a
// container's command line (or, failing that, by the name gatekeeper-audit
// and the container name manager), so that a Deployment meant to be the
// audit is linted as one even when Gatekeeper would not parse the flag;
// its flags are then parsed as Gatekeeper does.
func newAudit(w *Workload) *Audit {
	if w.Obj.Kind() != "Deployment" {
		return nil
	}
	manager := -1
	for i, c := range w.Containers {
		for _, op := range Values(scanFlags(c.Args)[FlagOperation]) {
			if op == "audit" {
				manager = i
			}
		}
		if manager >= 0 {
			break
		}
	}
	if manager < 0 {
		if w.Obj.Name() != "gatekeeper-audit" || len(w.Containers) == 0 {
			return nil
		}
		manager = 0
		for i, c := range w.Containers {
			if c.Name == "manager" {
				manager = i
			}
		}
	}
	a := &Audit{Workload: w, Namespace: w.Obj.NS, Manager: manager,
		Connection: connection.DefaultName, Channel: connection.DefaultChannel}
	a.Image = w.Containers[manager].Image
	a.Version = ParseImageVersion(a.Image)
	a.Parse = ParseManagerArgs(w.Containers[manager], GatekeeperFlags(a.Version))
	a.Flags = a.Parse.Flags
	if f, ok := a.Last(FlagConnection); ok {
		a.Connection = f.Value
	}
	if f, ok := a.Last(FlagChannel); ok {
		a.Channel = f.Value
	}
	for _, n := range []string{FlagEnablePubsub, FlagEnableExport} {
		if f, ok := a.Last(n); ok {
			if v, ok := FlagBool(f); ok && v {
				a.Publishes = true
			}
		}
	}
	return a
}

// Operations returns the operations the manager runs (--operation, every
// value of every occurrence) and whether they were given: without the flag
// Gatekeeper runs all of them (pkg/operations: "Omitting will default to
// supporting all operations").
func (a *Audit) Operations() (ops map[string]bool, explicit bool) {
	return OperationsOf(a.Flags)
}

func OperationsOf(flags map[string][]Flag) (map[string]bool, bool) {
	fs := flags[FlagOperation]
	ops := map[string]bool{}
	for _, v := range Values(fs) {
		ops[v] = true
	}
	return ops, len(fs) > 0
}

// FlagString returns the value of a string flag: its last occurrence, or
// def when it is absent.
func (a *Audit) FlagString(name, def string) string {
	if f, ok := a.Last(name); ok && f.HasValue {
		return f.Value
	}
	return def
}

// FlagOn returns the value of a boolean flag, def when it is absent or
// malformed.
func (a *Audit) FlagOn(name string, def bool) bool {
	if f, ok := a.Last(name); ok {
		if v, ok := FlagBool(f); ok {
			return v
		}
	}
	return def
}

// IsGatekeeperManager says whether a container runs Gatekeeper's manager:
// its image is .../gatekeeper or it has an --operation flag.
func IsGatekeeperManager(c Container) bool {
	image := c.Image
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, "/"); i >= 0 {
		image = image[i+1:]
	}
	if name, _, _ := strings.Cut(image, ":"); name == "gatekeeper" {
		return true
	}
	return len(scanFlags(c.Args)[FlagOperation]) > 0
}

// Namespace is a Namespace object among the inputs.
type Namespace struct {
	Obj    *Object
	Name   string
	Labels map[string]string
}

// PodSecurity is the Pod Security Admission policy of a namespace.
type PodSecurity struct {
	Namespace string
	// Obj is the Namespace object; nil when it is not among the inputs.
	Obj *Object
	// Assumed: the Namespace is not among the inputs, and its policy is
	// taken to be what Gatekeeper's own manifest (deploy/gatekeeper.yaml)
	// labels gatekeeper-system with: enforce restricted.
	Assumed bool
	// Policy is what PodSecurity evaluates (api.PolicyToEvaluate over the
	// namespace's labels, with the API server's defaults: privileged).
	Policy api.Policy
	// Labels are the namespace's pod-security.kubernetes.io/ labels.
	Labels map[string]string
	// Invalid describes labels PodSecurity does not accept (it then uses
	// restricted, or privileged for warn and audit).
	Invalid []string
}

// PodSecurity returns the PodSecurity policy of namespace ns.
func (s *Setup) PodSecurity(ns string) *PodSecurity {
	n := s.Namespaces[ns]
	if n == nil {
		restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
		return &PodSecurity{Namespace: ns, Assumed: true, Policy: api.Policy{Enforce: restricted, Warn: restricted, Audit: restricted}}
	}
	privileged := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	ps := &PodSecurity{Namespace: ns, Obj: n.Obj, Labels: map[string]string{}}
	for k, v := range n.Labels {
		if strings.HasPrefix(k, "pod-security.kubernetes.io/") {
			ps.Labels[k] = v
		}
	}
	var errs field.ErrorList
	ps.Policy, errs = api.PolicyToEvaluate(n.Labels, api.Policy{Enforce: privileged, Warn: privileged, Audit: privileged})
	for _, e := range errs {
		ps.Invalid = append(ps.Invalid, e.Error())
	}
	return ps
}

// Enforces describes the enforce mode for messages (PodSecurity
// "restricted:v1.24", which Namespace x enforces) and how that is known.
func (p *PodSecurity) Enforces() string {
	if p.Assumed {
		return fmt.Sprintf("PodSecurity %q, which namespace %q enforces (assumed: its Namespace is not among the inputs, and Gatekeeper's own manifest labels it %s=restricted)",
			string(p.Policy.Enforce.Level), p.Namespace, api.EnforceLevelLabel)
	}
	return fmt.Sprintf("PodSecurity %q, which Namespace %s enforces (%s)", p.Policy.Enforce.String(), p.Namespace, p.Label(api.EnforceLevelLabel))
}

// Label renders a level label as the namespace has it.
func (p *PodSecurity) Label(key string) string {
	v, ok := p.Labels[key]
	if !ok {
		return "no " + key + " label: privileged"
	}
	return key + "=" + v
}

// Object returns the audit's object (nil when assumed).
func (a *Audit) Object() *Object { return a.Obj }

// ManagerPath returns the path of a field of the manager container.
func (a *Audit) ManagerPath(elems ...any) Path {
	if a.Assumed {
		return nil
	}
	return a.TemplatePath("spec", "containers", a.managerIndex()).Add(elems...)
}

// managerIndex is the manager's index in the pod spec's containers.
func (a *Audit) managerIndex() int {
	if a.Manager >= 0 && a.Manager < len(a.Containers) {
		return a.Containers[a.Manager].Index
	}
	return a.Manager
}

// ManagerSpec returns the manager container's map in the pod spec.
func (a *Audit) ManagerSpec() map[string]any {
	containers, _ := a.Spec["containers"].([]any)
	if i := a.managerIndex(); i >= 0 && i < len(containers) {
		cm, _ := containers[i].(map[string]any)
		return cm
	}
	return nil
}

// FlagPath returns the field of the flag's last occurrence, or the manager's
// args when the flag is absent.
func (a *Audit) FlagPath(name string) Path {
	if f, ok := a.Last(name); ok {
		return f.Field
	}
	return a.ManagerPath("args")
}

// Describe names the audit for messages.
func (a *Audit) Describe() string {
	if a.Assumed {
		return fmt.Sprintf("the audit (assumed in namespace %q with --audit-connection=%s; its Deployment is not among the inputs)", a.Namespace, a.Connection)
	}
	return "the audit"
}

// Version is a Gatekeeper release.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast compares major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// ParseImageVersion reads vX.Y[.Z] from an image's tag; nil when the tag is
// not a version (latest, a digest only, dev builds).
func ParseImageVersion(image string) *Version {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, "/"); i >= 0 {
		image = image[i+1:]
	}
	_, tag, ok := strings.Cut(image, ":")
	if !ok {
		return nil
	}
	return ParseVersion(tag)
}

// ParseVersion reads vX.Y[.Z] (a pre-release or build suffix is ignored);
// nil when tag is not a version.
func ParseVersion(tag string) *Version {
	tag = strings.TrimPrefix(tag, "v")
	if i := strings.IndexAny(tag, "-+"); i >= 0 {
		tag = tag[:i]
	}
	parts := strings.Split(tag, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return nil
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return nil
		}
		n[i] = v
	}
	return &Version{n[0], n[1], n[2]}
}

// Injector is Dapr's sidecar injector, from its Deployment.
type Injector struct {
	Obj            *Object
	DropAll        bool
	RunAsNonRoot   bool
	ReadOnlyRootFS bool
}

func newInjector(w *Workload) *Injector {
	if w.Obj.Kind() != "Deployment" {
		return nil
	}
	for _, c := range w.Containers {
		_, d := c.Env["SIDECAR_DROP_ALL_CAPABILITIES"]
		_, r := c.Env["SIDECAR_RUN_AS_NON_ROOT"]
		if d || r || w.Obj.Name() == "dapr-sidecar-injector" && c.Name == "dapr-sidecar-injector" {
			return &Injector{
				Obj:            w.Obj,
				DropAll:        IsTruthy(c.Env["SIDECAR_DROP_ALL_CAPABILITIES"].Value),
				RunAsNonRoot:   truthyDefaultTrue(c.Env, "SIDECAR_RUN_AS_NON_ROOT"),
				ReadOnlyRootFS: truthyDefaultTrue(c.Env, "SIDECAR_READ_ONLY_ROOT_FILESYSTEM"),
			}
		}
	}
	return nil
}

func truthyDefaultTrue(env map[string]EnvVar, key string) bool {
	v, ok := env[key]
	if !ok || v.Value == "" {
		return true
	}
	return IsTruthy(v.Value)
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

// DaprAudits returns the setup with only the audits that publish through
// Dapr (UsesDapr); the setup itself when that is all of them.
func (s *Setup) DaprAudits() *Setup {
	var keep []*Audit
	for _, a := range s.Audits {
		if s.UsesDapr(a) {
			keep = append(keep, a)
		}
	}
	if len(keep) == len(s.Audits) {
		return s
	}
	cp := *s
	cp.Audits = keep
	return &cp
}

// GeneratesElsewhere says whether a Gatekeeper manager among the inputs,
// other than the audit's, runs the generate operation (explicitly, or by
// having no --operation flag).
func (s *Setup) GeneratesElsewhere(a *Audit) bool {
	for _, w := range s.Workloads {
		for i, c := range w.Containers {
			if w == a.Workload && i == a.Manager || !IsGatekeeperManager(c) {
				continue
			}
			v := ParseImageVersion(c.Image)
			if v != nil && !v.AtLeast(3, 18) {
				continue
			}
			p := ParseManagerArgs(c, GatekeeperFlags(v))
			if ops, explicit := OperationsOf(p.Flags); !explicit || ops[OperationGenerate] {
				return true
			}
		}
	}
	return false
}
