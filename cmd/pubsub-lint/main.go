// Command pubsub-lint checks Gatekeeper's pubsub setup (the audit
// Deployment, the connection config, the Dapr Components and the
// subscriber) before it reaches a cluster:
//
//	pubsub-lint [flags] PATH...
//	pubsub-lint rules
//
// PATH is a YAML/JSON file, a directory (recursive), a Helm chart, a
// kustomization or "-" for stdin. Exit status: 0 clean, 1 a finding
// reaches --fail-on, 2 usage or input error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/output"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/rules"
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

// run is the whole command; it never panics.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "pubsub-lint: internal error: %v\n", p)
			code = 2
		}
	}()
	if len(args) > 0 && args[0] == "rules" {
		return listRules(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("pubsub-lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts lint.Options
	var values list
	fs.Var(&values, "f", "Helm values file for charts (repeatable)")
	fs.Var(&values, "values", "Helm values file for charts (repeatable)")
	fs.Var((*list)(&opts.Set), "set", "Helm --set for charts (repeatable)")
	fs.Var((*list)(&opts.SetString), "set-string", "Helm --set-string for charts (repeatable)")
	fs.StringVar(&opts.Namespace, "namespace", "default", "Helm release namespace; where objects without a namespace go")
	fs.StringVar(&opts.GatekeeperNamespace, "gatekeeper-namespace", "gatekeeper-system", "the audit's namespace when its Deployment is not among the inputs")
	fs.StringVar(&opts.AuditConnection, "audit-connection", "audit-connection", "the audit's --audit-connection when its Deployment is not among the inputs")
	fs.StringVar(&opts.AuditChannel, "audit-channel", "audit-channel", "the audit's --audit-channel when its Deployment is not among the inputs")
	dropAll := fs.Bool("dapr-drop-all-capabilities", true, "the Dapr injector runs with SIDECAR_DROP_ALL_CAPABILITIES=true (when its Deployment is not among the inputs)")
	format := fs.String("format", "text", "output format: "+strings.Join(output.Formats(), ", "))
	failOn := fs.String("fail-on", "error", "exit 1 when a finding is at least: error, warning or none")
	config := fs.String("config", "", "config file to disable rules or change severities (default "+lint.DefaultConfigFile+" if present)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pubsub-lint [flags] PATH...\n       pubsub-lint rules [--format text|markdown]\n\nPATH is a YAML/JSON file, a directory, a Helm chart, a kustomization or - (stdin).\n\nflags:")
		fs.PrintDefaults()
	}
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "dapr-drop-all-capabilities" {
			opts.DaprDropAllCapabilities = dropAll
		}
	})
	opts.ValueFiles, opts.Paths, opts.Stdin = values, paths, stdin
	fail, err := rules.ParseSeverity(*failOn)
	if err != nil {
		return usage(stderr, "--fail-on: %v", err)
	}
	if !contains(output.Formats(), *format) {
		return usage(stderr, "--format %q: want one of %s", *format, strings.Join(output.Formats(), ", "))
	}
	if len(paths) == 0 {
		return usage(stderr, "no PATH given")
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
	res, err := lint.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "pubsub-lint: %v\n", err)
		return 2
	}
	if err := output.Write(*format, stdout, res); err != nil {
		fmt.Fprintf(stderr, "pubsub-lint: writing output: %v\n", err)
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

func listRules(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pubsub-lint rules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "text or markdown")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch *format {
	case "markdown":
		_, _ = stdout.Write(lint.RulesMarkdown())
	case "text":
		for _, r := range rules.All() {
			fmt.Fprintf(stdout, "%s [%s] (%s)\n  %s\n\n%s\n\n  Remediation: %s\n\n", r.ID, r.Severity, r.Category, r.Summary, indent(r.Doc), r.Remediation)
		}
	default:
		return usage(stderr, "rules --format %q: want text or markdown", *format)
	}
	return 0
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func usage(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "pubsub-lint: "+format+"\n", args...)
	return 2
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}
