// Command pubsub-lint checks Gatekeeper's pubsub setup (the audit
// Deployment, the connection config, the Dapr Components and the
// subscriber) before it reaches a cluster:
//
//	pubsub-lint [flags] PATH...
//	pubsub-lint rules [ID...] [-o text|json|markdown]
//	pubsub-lint version [-o text|json]
//	pubsub-lint help [rules|version]
//
// PATH is a YAML/JSON file, a directory (recursive), a Helm chart, a
// kustomization or "-" for stdin. Charts take Helm's flags: -n/--namespace,
// -f/--values, --set, --set-string, --set-file and --kube-version. Each
// input is read up to --max-input-bytes (default 64Mi). -o/--format
// FORMAT[=FILE] (repeatable) writes several formats in one run; --output
// FILE is where the format without a file goes (default standard output).
// --enable and --disable turn rules on and off, --exclude leaves paths out.
// Inputs without any object of the setup are a warning (setup-empty), an
// error with --fail-on-empty. Help goes to standard output. Exit status: 0
// clean, 1 a finding reaches --fail-on (values a chart refuses are such
// findings, chart-values-invalid), 2 usage or input error (an input that
// cannot be loaded is reported, with the findings on all the others).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/input"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/output"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// byteSize is a flag of a size in bytes: "1048576", "64Mi", "1Gi".
type byteSize int64

func (b *byteSize) String() string { return input.FormatByteSize(int64(*b)) }
func (b *byteSize) Set(s string) error {
	n, err := input.ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// chartFlags are the flags that apply only to charts.
var chartFlags = map[string]bool{"f": true, "values": true, "set": true, "set-string": true, "set-file": true}

// run is the whole command; it never panics.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "pubsub-lint: internal error: %v\n", p)
			code = 2
		}
	}()
	if len(args) > 0 {
		switch args[0] {
		case "rules":
			return listRules(args[1:], stdout, stderr)
		case "version":
			return printVersion(args[1:], stdout, stderr)
		case "help":
			// "help" is "--help"; "help rules" is "rules --help".
			if len(args) > 2 || len(args) == 2 && args[1] != "rules" && args[1] != "version" {
				return usage(stderr, "help %s: want help, help rules or help version", strings.Join(args[1:], " "))
			}
			return run(ctx, append(args[1:], "--help"), stdin, stdout, stderr)
		}
	}
	fs := newFlagSet("pubsub-lint", stderr)
	var opts lint.Options
	var values list
	fs.Var(&values, "f", "Helm values file for charts (repeatable; same as --values)")
	fs.Var(&values, "values", "Helm values file for charts (repeatable)")
	fs.Var((*list)(&opts.Set), "set", "Helm --set for charts: key=value[,key=value] (repeatable)")
	fs.Var((*list)(&opts.SetString), "set-string", "Helm --set-string for charts: key=value[,key=value] (repeatable)")
	fs.Var((*list)(&opts.SetFile), "set-file", "Helm --set-file for charts: key=path, the file's content is the value (repeatable)")
	fs.StringVar(&opts.KubeVersion, "kube-version", "", "Kubernetes version charts are rendered for (.Capabilities.KubeVersion; default "+render.DefaultKubeVersion+")")
	def := model.DefaultOptions()
	fs.StringVar(&opts.Namespace, "n", def.Namespace, "Helm release namespace; where objects without a namespace go (same as --namespace)")
	fs.StringVar(&opts.Namespace, "namespace", def.Namespace, "Helm release namespace; where objects without a namespace go")
	maxInput := byteSize(input.DefaultMaxInputBytes)
	fs.Var(&maxInput, "max-input-bytes", "most bytes read of one file or of standard input: bytes or with a suffix Ki, Mi, Gi (e.g. 16Mi)")
	gkNamespace := fs.String("gatekeeper-namespace", def.Assume.GatekeeperNamespace, "the audit's namespace when its Deployment is not among the inputs")
	auditConnection := fs.String("audit-connection", def.Assume.AuditConnection, "the audit's --audit-connection when its Deployment is not among the inputs")
	auditChannel := fs.String("audit-channel", def.Assume.AuditChannel, "the audit's --audit-channel when its Deployment is not among the inputs")
	dropAll := fs.Bool("dapr-drop-all-capabilities", def.Assume.DropAllCapabilities(), "the Dapr injector runs with SIDECAR_DROP_ALL_CAPABILITIES=true (when its Deployment is not among the inputs)")
	var formats, enable, disable, exclude list
	fs.Var(&formats, "format", "output format, "+strings.Join(output.Formats(), ", ")+", optionally =FILE to write it to a file (repeatable: several formats in one run, e.g. -o text -o sarif=results.sarif; default text)")
	fs.Var(&formats, "o", "output format[=FILE] (same as --format)")
	outFile := fs.String("output", "", "write the format given without =FILE to this file instead of standard output")
	fs.Var(&enable, "enable", "rule IDs to run that the config file disables (comma-separated, repeatable)")
	fs.Var(&disable, "disable", "rule IDs not to run (comma-separated, repeatable; pubsub-lint rules lists them)")
	fs.Var(&exclude, "exclude", "glob of paths not to read (repeatable): with a slash it matches a path or a directory it is under (deploy/tests), without one a file or directory name anywhere (*_test.yaml)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	failOn := fs.String("fail-on", "error", "exit 1 when a finding is at least: error, warning or none")
	failOnEmpty := fs.Bool("fail-on-empty", false, "inputs without any object of the setup (audit, Dapr Component, connection, subscriber) are an error, not a warning (setup-empty)")
	config := fs.String("config", "", "config file to disable rules or change severities (default "+lint.DefaultConfigFile+" if present)")
	var live lint.Live
	liveOn := fs.Bool("live", false, "lint what is deployed in the cluster of the current kubeconfig context (or the in-cluster config), read-only")
	fs.StringVar(&live.Kubeconfig, "kubeconfig", "", "lint what is deployed in the cluster of this kubeconfig (implies --live)")
	fs.StringVar(&live.Context, "context", "", "kubeconfig context for --live (implies --live)")
	help := "usage: pubsub-lint [flags] PATH...\n       pubsub-lint --live|--kubeconfig FILE [--context NAME] [flags] [PATH...]\n       pubsub-lint rules [ID...] [-o text|json|markdown]\n       pubsub-lint version [-o text|json]\n\nPATH is a YAML/JSON file, a directory, a Helm chart, a kustomization or - (stdin).\nIn directories only regular files (or links to one) are read; others are skipped with a note.\n\nExit status: 0 clean, 1 a finding at --fail-on or above, 2 usage or input error.\n\nflags:"
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return parseError(fs, err, help, stdout, stderr)
	}
	if *showVersion {
		return printVersion(nil, stdout, stderr)
	}
	// Assumptions given as flags win over the config file's; those not
	// given are left to it (and then to the defaults).
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "dapr-drop-all-capabilities":
			opts.Assume.DaprDropAllCapabilities = dropAll
		case "gatekeeper-namespace":
			opts.Assume.GatekeeperNamespace = *gkNamespace
		case "audit-connection":
			opts.Assume.AuditConnection = *auditConnection
		case "audit-channel":
			opts.Assume.AuditChannel = *auditChannel
		}
	})
	opts.ValueFiles, opts.Paths, opts.Stdin = values, paths, stdin
	opts.MaxInputBytes = int64(maxInput)
	opts.FailOnEmpty = *failOnEmpty
	fail, err := rules.ParseSeverity(*failOn)
	if err != nil {
		return usage(stderr, "--fail-on: %v", err)
	}
	dests, err := destinations(formats, *outFile)
	if err != nil {
		return usage(stderr, "%v", err)
	}
	if err := input.CheckExclude(exclude); err != nil {
		return usage(stderr, "%v", err)
	}
	opts.Exclude = exclude
	if *liveOn || live.Kubeconfig != "" || live.Context != "" {
		opts.Live = &live
	}
	if len(paths) == 0 && opts.Live == nil {
		return usage(stderr, "no PATH given (or --live, --kubeconfig, --context for a cluster)")
	}
	cfgPath := *config
	if cfgPath == "" {
		if _, err := os.Stat(lint.DefaultConfigFile); err == nil {
			cfgPath = lint.DefaultConfigFile
		}
	}
	if cfgPath != "" {
		if opts.Config, err = lint.LoadConfig(cfgPath); err != nil {
			return usage(stderr, "%v", err)
		}
	}
	if len(enable)+len(disable) > 0 {
		if opts.Config, err = opts.Config.WithRules(splitIDs(enable), splitIDs(disable)); err != nil {
			return usage(stderr, "--enable/--disable: %v", err)
		}
	}
	res, err := lint.Run(ctx, opts)
	if res == nil {
		if errors.Is(err, input.ErrNoChart) {
			var given []string
			fs.Visit(func(f *flag.Flag) {
				if chartFlags[f.Name] {
					given = append(given, flagName(f.Name))
				}
			})
			return usage(stderr, "%s given but no Helm chart is among the inputs (%s): Helm values apply only to charts (a directory with a Chart.yaml, or a directory that contains one)", strings.Join(given, ", "), strings.Join(paths, " "))
		}
		fmt.Fprintf(stderr, "pubsub-lint: %v\n", err)
		return 2
	}
	if err := writeOutputs(dests, stdout, res); err != nil {
		fmt.Fprintf(stderr, "pubsub-lint: %v\n", err)
		return 2
	}
	if len(res.Errors) > 0 {
		// The text output lists them already; other formats are for
		// machines, so people get them on stderr too.
		if !slices.Contains(dests, destination{format: "text"}) {
			for _, e := range res.Errors {
				fmt.Fprintf(stderr, "pubsub-lint: %v\n", e)
			}
		}
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "pubsub-lint: %v\n", err)
		return 2
	}
	if res.Fails(fail) {
		return 1
	}
	return 0
}

// parseInterspersed parses flags before, between and after the paths.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return paths, nil
		}
		// After "--" everything is a path.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(paths, rest...), nil
		}
		paths = append(paths, rest[0])
		args = rest[1:]
	}
}

// listRules is `pubsub-lint rules [ID...] [-o text|json|markdown]`: every
// rule (input-error included), or those named.
func listRules(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pubsub-lint rules", stderr)
	format := fs.String("format", "text", "text, json or markdown (docs/rules.md)")
	fs.StringVar(format, "o", "text", "same as --format")
	ids, err := parseInterspersed(fs, args)
	if err != nil {
		return parseError(fs, err, "usage: pubsub-lint rules [ID...] [-o text|json|markdown]\n\nDescribes every rule, or the rules named.\n\nflags:", stdout, stderr)
	}
	var sel []lint.RuleInfo
	for _, id := range ids {
		// A deprecated alias describes its rule, with a warning.
		id, warning := lint.ResolveRuleID(id)
		if warning != "" {
			fmt.Fprintf(stderr, "pubsub-lint: warning: %s\n", warning)
		}
		r, ok := lint.Rule(id)
		if !ok {
			return usage(stderr, "rules: unknown rule %q; pubsub-lint rules lists them", id)
		}
		sel = append(sel, r)
	}
	if len(ids) == 0 {
		sel = lint.Rules()
	}
	switch *format {
	case "markdown":
		if len(ids) > 0 {
			return usage(stderr, "rules --format markdown is the whole of docs/rules.md: leave out the rule IDs")
		}
		_, _ = stdout.Write(lint.RulesMarkdown())
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sel); err != nil {
			fmt.Fprintf(stderr, "pubsub-lint: writing rules: %v\n", err)
			return 2
		}
	case "text":
		for _, r := range sel {
			fmt.Fprintf(stdout, "%s [%s] (%s)\n  %s\n\n%s\n\n  Remediation: %s\n", r.ID, r.Severity, r.Category, r.Summary, indent(r.Doc), r.Remediation)
			if len(r.DeprecatedAliases) > 0 {
				fmt.Fprintf(stdout, "  Deprecated aliases: %s\n", strings.Join(r.DeprecatedAliases, ", "))
			}
			fmt.Fprintf(stdout, "  Documentation: %s\n\n", r.HelpURI)
		}
	default:
		return usage(stderr, "rules --format %q: want text, json or markdown", *format)
	}
	return 0
}

// newFlagSet is a flag set whose errors go to stderr and whose help
// parseError prints on stdout.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parseError prints it
	return fs
}

// parseError handles an error of fs.Parse (the flag package printed it):
// -h/--help print help and the flags on stdout and exit 0, as kubectl and
// helm do; any other error points at --help and exits 2.
func parseError(fs *flag.FlagSet, err error, help string, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, help)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
		return 0
	}
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", fs.Name())
	return 2
}

// splitIDs splits comma-separated rule IDs.
func splitIDs(l list) []string {
	var out []string
	for _, v := range l {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				out = append(out, id)
			}
		}
	}
	return out
}

// flagName is how a flag is written: -f, --values.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func usage(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "pubsub-lint: "+format+"\n", args...)
	return 2
}
