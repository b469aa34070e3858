// Package lint is pubsub-lint's engine: it has the inputs (files,
// directories, Helm charts, kustomizations, stdin, a live cluster) read by
// internal/lint/input, classifies each object as it is read (internal/lint/model),
// runs every rule of internal/lint/rules over all objects together, and returns
// findings with source positions. Output formats are in internal/lint/output.
package lint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/input"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/objref"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// IgnoreAnnotation on an object lists rule IDs (comma-separated) whose
// findings on that object are suppressed.
const IgnoreAnnotation = "pubsub-lint.gatekeeper-pubsub.io/ignore"

// IgnoreRulePrefix followed by a rule ID is an annotation key that
// suppresses that rule's findings on the object; its value is the reason,
// kube-linter's convention (ignore-check.kube-linter.io/CHECK: "reason"):
//
//	ignore-check.pubsub-lint.gatekeeper-pubsub.io/redis-no-tls: "TLS ends at the mesh's proxy"
const IgnoreRulePrefix = "ignore-check.pubsub-lint.gatekeeper-pubsub.io/"

// Suppressed is a finding an ignore annotation suppressed, with the
// annotation and the reason it gives ("" for IgnoreAnnotation's list).
type Suppressed struct {
	Finding
	Annotation string `json:"annotation"`
	Reason     string `json:"reason,omitempty"`
}

// Options are the inputs of a lint run, named as the CLI's flags: a plain
// configuration, read and never written by Run.
type Options struct {
	// Paths are files, directories, charts, kustomizations or "-" (stdin).
	Paths []string
	// Exclude are globs of paths not to read (--exclude; see excluded):
	// files, or directories, charts and kustomizations whole.
	Exclude []string
	// Stdin is read for "-" (default os.Stdin).
	Stdin io.Reader
	// ValueFiles, Set, SetString and SetFile are Helm's -f/--values,
	// --set, --set-string and --set-file (key=path: the file's content is
	// the value) for charts. Run fails with ErrNoChart when one is given
	// and no chart is among the inputs.
	ValueFiles, Set, SetString, SetFile []string
	// KubeVersion is Helm's --kube-version for charts (empty:
	// render.DefaultKubeVersion).
	KubeVersion string
	// Namespace is the Helm release namespace (-n/--namespace) and where
	// objects without metadata.namespace go (default "default").
	Namespace string
	// MaxInputBytes is the most read of one file or of standard input
	// (--max-input-bytes; 0: DefaultMaxInputBytes). More is an input error.
	MaxInputBytes int64
	// Assume states what is not among the inputs (the flags; they win
	// over the config file's assume section). What neither gives takes
	// model.DefaultAssumptions.
	Assume Assumptions
	// Live, when set, lints what is deployed in a cluster (read-only), in
	// addition to the Paths (which may then be empty).
	Live *Live
	// Config disables rules or changes severities (nil: none).
	Config *Config
	// Workers loading files in parallel (0: GOMAXPROCS).
	Workers int
	// FailOnEmpty makes inputs without any object of the setup an error
	// (--fail-on-empty) rather than a warning (SetupEmptyRule).
	FailOnEmpty bool
}

// Finding is one problem, located in the source (rules.Finding: the one
// type of findings).
type Finding = rules.Finding

// ObjectRef names the object a finding is about.
type ObjectRef = objref.Ref

// Result of a run.
type Result struct {
	Findings []Finding
	// Files and Objects read.
	Files   int
	Objects int
	// Notes are what the user should know that is not a finding: inputs
	// that were skipped, assumptions made (add them with Note).
	Notes []string
	// Errors are the inputs that could not be loaded (each an *InputError
	// naming its path); each is also a finding of InputErrorRule. The
	// other inputs were linted.
	Errors []error
	// Suppressed are the findings an ignore annotation suppressed (not
	// among Findings; they never fail a run).
	Suppressed []Suppressed

	// setupObjects counts the objects of the setup the rules saw
	// (workloads, connections, Components): none is SetupEmptyRule.
	setupObjects int
}

// Count returns the number of findings of a severity.
func (r *Result) Count(sev rules.Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// Fails says whether a finding reaches failOn (error, warning; none never fails).
func (r *Result) Fails(failOn rules.Severity) bool {
	if failOn.Rank() == 0 {
		return false
	}
	for _, f := range r.Findings {
		if f.Severity.Rank() >= failOn.Rank() {
			return true
		}
	}
	return false
}

// Run loads the inputs and lints them together. An input that cannot be
// loaded (unreadable path, YAML syntax, a chart that does not render) does
// not stop the others: the Result has findings on all the others, and the
// input errors in Errors (and as findings of InputErrorRule); the error
// returned with it is then those errors joined. Without a Result, the error
// is for the whole run: usage (no PATH, ErrNoChart, stdin given twice), a
// cancelled context, a rule that failed.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if len(opts.Paths) == 0 && opts.Live == nil {
		return nil, fmt.Errorf("no PATH to lint")
	}
	if err := input.CheckExclude(opts.Exclude); err != nil {
		return nil, err
	}
	if setups := input.SplitSetups(opts.Paths); setups != nil && opts.Live == nil {
		var res *Result
		for _, paths := range setups {
			o := opts
			o.Paths = paths
			r, err := run(ctx, o, true)
			if r == nil {
				return nil, err
			}
			// err, if any, is the setup's input errors, also in r.Errors.
			if res == nil {
				res = r
				res.Note("%s holds %d setups (each kustomization deployed on its own, and the other files), linted one by one", opts.Paths[0], len(setups))
				continue
			}
			res.merge(r)
		}
		res.inputsAcrossSetups()
		res.checkEmpty(opts)
		return res, errors.Join(res.Errors...)
	}
	return run(ctx, opts, false)
}

// run loads the inputs and lints them together. oneOfSetups: the inputs
// are one setup of a tree Run split, which is checked as a whole for
// objects of the setup.
func run(ctx context.Context, opts Options, oneOfSetups bool) (*Result, error) {
	// Objects are classified as they are read; those no rule can look at
	// are dropped, so memory holds only the pubsub setup; they still count
	// as linted.
	in, err := input.Load(ctx, opts.input(sink(opts)))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	res, err := check(ctx, opts, in)
	if err != nil {
		return nil, err
	}
	res.Files = in.Files
	res.Objects = in.Total
	err = res.addInputs(in.Notes, in.Errs)
	if !oneOfSetups {
		res.checkEmpty(opts)
	}
	return res, err
}

// checkEmpty adds the finding of SetupEmptyRule when no object of the
// setup was among the inputs, unless an input failed to load or a chart's
// values failed (which say more).
func (r *Result) checkEmpty(opts Options) {
	if r.setupObjects > 0 || len(r.Errors) > 0 {
		return
	}
	for _, f := range r.Findings {
		if f.Rule == ChartValuesRule {
			return
		}
	}
	sev := rules.Warning
	if opts.FailOnEmpty {
		sev = rules.Error
	}
	inputs := strings.Join(opts.Paths, " ")
	if inputs == StdinPath {
		inputs = "standard input"
	}
	switch {
	case opts.Live != nil && inputs == "":
		inputs = "the cluster"
	case opts.Live != nil:
		inputs += " and the cluster"
	}
	f := Finding{Rule: SetupEmptyRule, Severity: sev, Message: fmt.Sprintf("no object of the pubsub setup among the inputs (%s): "+
		"read %s in %s, none a Gatekeeper audit or manager, Dapr Component or sidecar injector, workload with dapr.io/ "+
		"annotations, subscriber, connection ConfigMap or Connection, so nothing was checked", inputs, count(r.Objects, "object"), count(r.Files, "file"))}
	if len(opts.Paths) == 1 {
		f.File = opts.Paths[0]
		if f.File == StdinPath {
			f.File = StdinSource
		}
	}
	r.Findings = append([]Finding{f}, r.Findings...)
}

// Check lints objects that are already loaded.
func Check(ctx context.Context, opts Options, objs []render.Object) (*Result, error) {
	in, err := input.Objects(objs, sink(opts))
	if err != nil {
		return nil, err
	}
	res, err := check(ctx, opts, in)
	if err != nil {
		return nil, err
	}
	res.Objects = len(objs)
	return res, nil
}

// check runs the Setup rules over the classified objects and returns their
// findings with in.Found, those of the per-object rules, located through
// in.Copies.
func check(ctx context.Context, opts Options, in *input.Loaded) (res *Result, err error) {
	given := opts.Assume
	if opts.Config != nil {
		given = given.Over(opts.Config.Assume)
	}
	ro := model.Options{Namespace: opts.Namespace, Assume: given}
	dropAllGiven := given.DaprDropAllCapabilities
	ro.ForwarderMinRetention = opts.Config.forwarderMinRetention()
	ro.UnknownValues = in.UnknownValues
	ro.RunningPods = in.LivePods
	setup := model.Build(ro, in.Entries)
	var notes []string
	if setup.Injector == nil && dropAllGiven == nil && setup.UsesSidecar() {
		notes = append(notes, "assumed: Dapr's sidecar injector runs with SIDECAR_DROP_ALL_CAPABILITIES=true (its Deployment is not among "+
			"the inputs). The Dapr chart's default is false (dapr_sidecar_injector.sidecarDropALLCapabilities), and then PodSecurity "+
			"restricted rejects every pod with a daprd sidecar. Confirm with --dapr-drop-all-capabilities=true|false or "+
			"assume.daprDropAllCapabilities in "+DefaultConfigFile)
	}
	for _, a := range setup.Audits {
		if a.Assumed && len(setup.Connections)+len(setup.Components) > 0 {
			notes = append(notes, fmt.Sprintf("assumed: Gatekeeper's audit (its Deployment is not among the inputs) runs in %s with "+
				"--audit-connection=%s --audit-channel=%s; set --gatekeeper-namespace, --audit-connection, --audit-channel if not",
				a.Namespace, a.Connection, a.Channel))
		}
	}
	if need := setup.UnseenSecrets(); len(need) > 0 {
		notes = append(notes, secretsNote(need))
	}
	// Deprecated rule IDs in the config file or --enable/--disable.
	if opts.Config != nil {
		notes = append(notes, opts.Config.Warnings...)
	}
	found := in.Found
	for _, r := range rules.All() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.Check == nil || opts.Config.severity(r) == rules.None {
			continue
		}
		fs, err := runRule(r, setup)
		if err != nil {
			return nil, err
		}
		found = append(found, fs...)
	}
	found = append(found, unknownIgnores(setup.Objects)...)
	for i := range found {
		// The engine's rules (chart-values-invalid, ...) keep theirs.
		if r := rules.Get(found[i].Rule); r != nil {
			found[i].Severity = opts.Config.severity(r)
		}
	}
	loc := newLocator(in.Copies)
	res = &Result{Findings: []Finding{}, Notes: notes, setupObjects: len(setup.Workloads) + len(setup.Connections) + len(setup.Components)}
	for _, f := range found {
		if o := f.Subject; o != nil {
			f.File, f.Line, f.Column = loc.locate(o, f.Path)
			f.Object = o.Ref()
		}
		if key, reason, ok := ignored(f); ok {
			res.Suppressed = append(res.Suppressed, Suppressed{Finding: f, Annotation: key, Reason: reason})
			continue
		}
		res.Findings = append(res.Findings, f)
	}
	sortFindings(res.Findings)
	return res, nil
}

// ErrRulePanicked marks a rule that panicked: a bug in pubsub-lint, never
// the input's fault. The CLI reports it (exit 2); tests fail on it.
var ErrRulePanicked = errors.New("rule panicked")

// runRule runs one rule's Check on s; a panic in it becomes an
// ErrRulePanicked error.
func runRule(r *rules.Rule, s *model.Setup) ([]rules.Finding, error) {
	return guarded(r, func(rep *rules.Reporter) { r.Run(s, rep) })
}

// runObjectRule runs one rule's CheckObject on e, guarded as runRule.
func runObjectRule(r *rules.Rule, e model.Entry) ([]rules.Finding, error) {
	return guarded(r, func(rep *rules.Reporter) { r.RunObject(e, rep) })
}

func guarded(r *rules.Rule, run func(*rules.Reporter)) (fs []rules.Finding, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: rule %s: %v", ErrRulePanicked, r.ID, p)
		}
	}()
	rep := rules.NewReporter(r)
	run(rep)
	return rep.Findings(), nil
}

// ignored says whether an annotation of the finding's object suppresses
// it: IgnoreRulePrefix+rule (with its value, the reason) or the rule in
// IgnoreAnnotation's list, the rule named by its ID or a deprecated alias.
func ignored(f rules.Finding) (key, reason string, ok bool) {
	if f.Subject == nil || engineRule(f.Rule) {
		return "", "", false
	}
	ann := f.Subject.Annotations()
	// The rule's ID, then its deprecated aliases (unknownIgnores warns of those).
	for _, id := range append([]string{f.Rule}, rules.AliasesOf(f.Rule)...) {
		if v, ok := ann[IgnoreRulePrefix+id]; ok {
			return IgnoreRulePrefix + id, strings.TrimSpace(v), true
		}
	}
	v, ok := ann[IgnoreAnnotation]
	if !ok {
		return "", "", false
	}
	for _, id := range strings.Split(v, ",") {
		if r, _ := rules.Lookup(strings.TrimSpace(id)); r != nil && r.ID == f.Rule {
			return IgnoreAnnotation, "", true
		}
	}
	return "", "", false
}

// secretsNote names every Secret key the Components read that pubsub-lint
// cannot check (the Secret is not among the inputs).
func secretsNote(need []model.SecretNeed) string {
	parts := make([]string, len(need))
	for i, n := range need {
		parts[i] = fmt.Sprintf("key %s of Secret %s/%s", n.Key, n.Namespace, n.Name)
	}
	return "not checked: Secrets the Components read that are not among the inputs: " + strings.Join(parts, ", ") +
		"; create them before the pods start, or add their manifests to the inputs"
}

// count is "1 file", "2 files".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
