// Package rules holds pubsub-lint's rule registry and one file per rule:
// every rule is data (ID, severity, category, documentation, remediation)
// plus a check function over the whole model.Setup, so cross-object rules
// see every input at once. What the rules look at (the Setup and its
// audits, workloads, connections and components) is package model's.
package rules

import (
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/objref"
)

// Severity of a finding.
type Severity string

// Severities, from most to least severe. None disables a rule.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	None    Severity = "none"
)

// Rank orders severities: error 2, warning 1, none (or unknown) 0.
func (s Severity) Rank() int {
	switch s {
	case Error:
		return 2
	case Warning:
		return 1
	default:
		return 0
	}
}

// ParseSeverity parses "error", "warning" or "none".
func ParseSeverity(s string) (Severity, error) {
	switch Severity(s) {
	case Error, Warning, None:
		return Severity(s), nil
	}
	return "", fmt.Errorf("unknown severity %q: want error, warning or none", s)
}

// Categories, in documentation order.
const (
	CatConnection = "Connection config"
	CatComponent  = "Dapr component"
	CatAudit      = "Audit Deployment"
	CatForwarder  = "Disk export (pubsub-forward)"
	CatSubscriber = "Subscriber side"
)

var categoryOrder = map[string]int{CatConnection: 0, CatComponent: 1, CatAudit: 2, CatForwarder: 3, CatSubscriber: 4}

// Rule is one check. ID is part of the interface (used in ignore
// annotations, the config file and outputs): a rule that is renamed keeps
// its former ID as a deprecated alias (deprecatedIDs).
type Rule struct {
	ID       string
	Severity Severity
	Category string
	// Summary is one line: what the rule finds.
	Summary string
	// Doc explains why it matters (markdown allowed, several paragraphs).
	Doc string
	// Remediation says how to fix a finding.
	Remediation string
	// Check reports findings for the setup. A rule has Check or CheckObject.
	Check func(s *model.Setup, r *Reporter)
	// CheckObject reports findings for one relevant object (an Entry that
	// Classify did not call Irrelevant), as the object is read and while
	// its whole tree is still there (Components are released after). It
	// must depend on that object alone; it may run concurrently.
	CheckObject func(e model.Entry, r *Reporter)
	// DaprOnly rules are about the Dapr side of publishing (the daprd
	// sidecar, the Dapr subscriber): they see only the audits whose
	// connection uses the dapr driver (Run), and their Doc says so.
	DaprOnly bool
	// InputAuditsOnly rules are about the audit Deployment itself (its
	// flags, annotations, pod): they see only the audits among the inputs,
	// not the one assumed when there is none (Run).
	InputAuditsOnly bool
}

// Rules about the Dapr side of publishing (the daprd sidecar, the Dapr
// subscriber) apply only to audits whose connection uses the dapr driver:
// with Gatekeeper v3.20+'s disk driver the audit writes files and needs no
// sidecar. Such rules set Rule.DaprOnly; Rule.Run gives them model.Setup.DaprAudits.
// daprOnlyNote is added to the documentation of the wrapped rules.
const daprOnlyNote = "\n\nChecked only for an audit whose connection uses the `dapr` driver (not Gatekeeper v3.20+'s `disk` driver, which needs no Dapr)."

var registry = map[string]*Rule{}

func register(r *Rule) {
	if (r.Check == nil) == (r.CheckObject == nil) {
		panic("rules: rule " + r.ID + " needs exactly one of Check and CheckObject")
	}
	if _, dup := registry[r.ID]; dup {
		panic("rules: duplicate rule " + r.ID)
	}
	if r.DaprOnly {
		r.Doc += daprOnlyNote
	}
	registry[r.ID] = r
}

// Run runs the rule's check on s (for a DaprOnly rule, on s with only the
// audits that publish through Dapr).
func (r *Rule) Run(s *model.Setup, rep *Reporter) {
	if r.Check == nil {
		return
	}
	if r.InputAuditsOnly {
		s = s.InputAudits()
	}
	if r.DaprOnly {
		s = s.DaprAudits()
	}
	r.Check(s, rep)
}

// RunObject runs the rule's CheckObject, if it has one, on e.
func (r *Rule) RunObject(e model.Entry, rep *Reporter) {
	if r.CheckObject != nil && e.Class != model.Irrelevant {
		r.CheckObject(e, rep)
	}
}

// All returns every rule, by category and then ID.
func All() []*Rule {
	out := make([]*Rule, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := categoryOrder[out[i].Category], categoryOrder[out[j].Category]
		if ci != cj {
			return ci < cj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Get returns the rule with the given ID, or nil. A deprecated alias is
// not its rule's ID: Lookup resolves those.
func Get(id string) *Rule { return registry[id] }

// deprecatedIDs maps the former ID of a renamed rule, a deprecated alias,
// to the rule's ID: the one place of the aliases. An alias is accepted
// wherever a user writes a rule ID (ignore annotations, the config file,
// --enable/--disable, `pubsub-lint rules ID`) and stands for the rule,
// with a warning that names the new ID; findings always carry the new ID.
var deprecatedIDs = map[string]string{
	// Gatekeeper calls its pubsub provider a driver; only the ConfigMap key keeps the old word.
	"connection-provider-unknown": "connection-driver-unknown", // deprecated alias
	"connection-provider-missing": "connection-driver-missing", // deprecated alias
}

// Lookup returns the rule id names: the rule of that ID, or the rule a
// deprecated alias stands for (alias true: warn that the ID is now
// r.ID). It returns nil when id names no rule.
func Lookup(id string) (r *Rule, alias bool) {
	if r := registry[id]; r != nil {
		return r, false
	}
	if to, ok := deprecatedIDs[id]; ok {
		return registry[to], true
	}
	return nil, false
}

// AliasesOf returns the deprecated aliases of rule id, sorted.
func AliasesOf(id string) []string {
	var out []string
	for old, to := range deprecatedIDs {
		if to == id {
			out = append(out, old)
		}
	}
	sort.Strings(out)
	return out
}

// Aliases returns every deprecated alias with the ID of its rule.
func Aliases() map[string]string {
	out := make(map[string]string, len(deprecatedIDs))
	for old, to := range deprecatedIDs {
		out[old] = to
	}
	return out
}

// Finding is one problem, the one type for rules, the engine and its
// outputs: a rule reports what it is about (Subject, Path); the engine
// then locates it (File, Line, Column) and names it (Object, Field).
type Finding struct {
	Rule     string     `json:"rule"`
	Severity Severity   `json:"severity"`
	Message  string     `json:"message"`
	File     string     `json:"file"`
	Line     int        `json:"line"`
	Column   int        `json:"column"`
	Object   objref.Ref `json:"object"`
	Field    string     `json:"field"`
	// Subject is the input object the finding is about; nil when no input
	// object is (for example a setting assumed from flags).
	Subject *model.Object `json:"-"`
	// Path is the offending field inside Subject.
	Path model.Path `json:"-"`
}

// Reporter collects the findings of one rule.
type Reporter struct {
	rule     *Rule
	findings []Finding
}

// NewReporter returns a reporter for rule.
func NewReporter(rule *Rule) *Reporter { return &Reporter{rule: rule} }

// Prose is message text a rule composed (a suggestion, an explanation),
// as opposed to a value read from the input: Report never cuts it.
type Prose string

// Report records a finding on obj at field. A string argument longer than
// MaxValueInMessage is cut (a finding quotes what it is about, and that may
// be a 50 MB value); a Prose argument is not.
func (r *Reporter) Report(obj *model.Object, field model.Path, format string, args ...any) {
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > MaxValueInMessage {
			args[i] = Clip(s)
		}
	}
	r.findings = append(r.findings, Finding{
		Rule:     r.rule.ID,
		Severity: r.rule.Severity,
		Message:  fmt.Sprintf(format, args...),
		Field:    field.String(),
		Subject:  obj,
		Path:     field,
	})
}

// Findings returns what was reported.
func (r *Reporter) Findings() []Finding { return r.findings }

// MaxValueInMessage is the most of a value a finding's message quotes.
const MaxValueInMessage = 200

// Clip cuts s to MaxValueInMessage bytes (at a rune boundary) and says how
// long it was.
func Clip(s string) string {
	if len(s) <= MaxValueInMessage {
		return s
	}
	cut := MaxValueInMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes in all)", s[:cut], len(s))
}
