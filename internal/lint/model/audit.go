package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

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
