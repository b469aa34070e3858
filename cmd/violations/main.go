// Command violations keeps Gatekeeper's audit violations: `violations serve`
// is the Dapr app that receives every audit run, reconciles runs and keeps
// their history (SQLite or PostgreSQL) behind an API; `violations list`,
// `runs` and `show` ask that API.
//
// Exit codes: 0 done, 1 the server or store failed, 2 usage or input error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/alerts"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/client"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/serve"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

const usage = `violations keeps Gatekeeper's audit violations and their history.

Usage:
  violations serve [flags]      the Dapr app: receive, reconcile runs, store, serve the API and the page
  violations list [flags]       list violations (open by default)
  violations runs [flags]       list audit runs, newest first
  violations show KEY [flags]   one violation and its timeline
  violations version            print the version

Run 'violations COMMAND --help' for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a command line that cannot be run (exit 2).
type usageError struct{ error }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:], stdout, stderr)
	case "list":
		err = listCmd(ctx, args[1:], stdout, stderr)
	case "runs":
		err = runsCmd(ctx, args[1:], stdout, stderr)
	case "show":
		err = showCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "violations", version.ModuleVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "violations: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "violations:", err)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "violations:", err)
		return 1
	}
	return 0
}

func newFlags(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("violations "+name, flag.ContinueOnError)
	// Parse prints nothing: errors are returned (and printed once, on
	// stderr), help goes to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	helpFor[fs] = func() {
		fmt.Fprintf(stdout, "Usage: violations %s\n\nFlags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

var helpFor = map[*flag.FlagSet]func(){}

func parse(fs *flag.FlagSet, args []string, _ io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		helpFor[fs]()
		return err
	}
	if err != nil {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, fs.Name())}
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := serve.DefaultConfig()
	fs := newFlags("serve", "serve [flags]", stdout)
	fs.StringVar(&c.AppListen, "app-listen", c.AppListen, "address daprd delivers to (the dapr.io/app-port); loopback, as only the sidecar calls it")
	fs.StringVar(&c.Listen, "listen", c.Listen, "address of the API, /healthz, /readyz and /metrics")
	storeFlag := fs.String("store", "", "store URL: sqlite:///path/file.db or postgres://… (default $VIOLATIONS_STORE, else "+serve.DefaultStore+")")
	storeFile := fs.String("store-file", "", "file holding the store URL (a mounted Secret)")
	fs.StringVar(&c.Pubsub, "pubsub", c.Pubsub, "Dapr pubsub component to subscribe through")
	fs.StringVar(&c.Topic, "topic", c.Topic, "topic to subscribe to (Gatekeeper's --audit-channel)")
	fs.StringVar(&c.DeadLetterTopic, "dead-letter-topic", "", "topic daprd sends dropped (poison) messages to; empty drops them")
	fs.StringVar(&c.Cluster, "cluster", c.Cluster, "name of the cluster the audit runs in (one store can hold several)")
	fs.IntVar(&c.ResolveAfter, "resolve-after", c.ResolveAfter, "complete runs a violation must be absent from before it is resolved")
	fs.DurationVar(&c.RunGrace, "run-grace", c.RunGrace, "wait after a run's end for late deliveries")
	fs.Float64Var(&c.MaxResolveShare, "max-resolve-share", c.MaxResolveShare, "hold a run that would resolve more than this share of the open violations until the next complete run agrees")
	fs.StringVar(&c.Kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig for reading the constraints' status (default $KUBECONFIG, else in-cluster)")
	fs.BoolVar(&c.NoStatus, "no-status", false, "never read the constraints' status (runs complete on v3.20+ markers alone)")
	fs.BoolVar(&c.Reports, "reports", false, "write OpenReports (openreports.io Report per namespace, ClusterReport) of the open violations after each complete run, for Policy Reporter and kubectl")
	fs.IntVar(&c.ReportMaxResults, "report-max-results", c.ReportMaxResults, "results per report; a namespace's report is split past it")
	fs.StringVar(&c.ReportSeverity, "report-severity", c.ReportSeverity, "severity of a report result whose constraint has no valid --report-severity-key: critical, high, medium, low or info")
	fs.StringVar(&c.ReportSeverityKey, "report-severity-key", c.ReportSeverityKey, "constraint label (else annotation) holding a result's severity (critical, high, medium, low or info); empty reads none")
	fs.BoolVar(&c.ReportResourceUIDs, "report-resource-uids", false, "look up each violating resource's metadata.uid for its report subject (needs get and list on those kinds)")
	fs.StringVar(&c.ReportLeaseNamespace, "report-lease-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the Lease electing the one replica that writes reports (default $POD_NAMESPACE, else the kubeconfig's or the pod's namespace)")
	fs.StringVar(&c.ReportLeaseName, "report-lease-name", "", "name of that Lease (default violations-reports-<--cluster>)")
	fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", c.ReconcileInterval, "how often runs are judged and the constraints' status read")
	fs.DurationVar(&c.Retention, "retention", c.Retention, "delete resolved violations and runs older than this (0 keeps them)")
	fs.Int64Var(&c.MaxMessageBytes, "max-message-bytes", c.MaxMessageBytes, "messages larger than this are dropped")
	fs.IntVar(&c.BulkMaxMessages, "bulk-max-messages", c.BulkMaxMessages, "most messages daprd delivers in one request (Dapr's bulk subscribe); 0 delivers them one by one")
	fs.DurationVar(&c.BulkMaxAwait, "bulk-max-await", c.BulkMaxAwait, "how long daprd collects messages for a bulk request that is not full")
	apiTokenFile := fs.String("api-token-file", "", "file holding a bearer token (a mounted Secret) that the page, the API and /metrics then require; /healthz and /readyz stay open")
	alertsConfig := fs.String("alerts-config", "", "file of alert routes (webhook, Slack) told what each complete run changed; see schemas/alert-webhook.schema.json")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("serve takes no arguments, got %q", fs.Args())}
	}
	if *alertsConfig != "" {
		ac, err := alerts.Load(*alertsConfig)
		if err != nil {
			return usageError{err}
		}
		c.Alerts = &ac
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", *logLevel)}
	}
	var err error
	if c.Store, err = serve.StoreURL(*storeFlag, *storeFile, os.Getenv("VIOLATIONS_STORE")); err != nil {
		return usageError{err}
	}
	if *apiTokenFile != "" {
		if c.APIToken, err = api.ReadTokenFile("--api-token-file", *apiTokenFile); err != nil {
			return usageError{err}
		}
	}
	if err := c.Validate(); err != nil {
		return usageError{err}
	}
	c.AppToken = os.Getenv("APP_API_TOKEN")
	c.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	return serve.Run(ctx, c)
}

func clientFlags(fs *flag.FlagSet) (server, output, tokenFile *string) {
	server = fs.String("server", envOr("VIOLATIONS_SERVER", "http://127.0.0.1:8080"), "URL of `violations serve`'s API (default $VIOLATIONS_SERVER)")
	output = fs.String("o", "table", "output format: table, json or yaml")
	fs.StringVar(output, "output", "table", "output format: table, json or yaml")
	tokenFile = fs.String("token-file", "", "file holding the bearer token of `violations serve --api-token-file`")
	return server, output, tokenFile
}

func newClient(server, output, tokenFile string) (*client.Client, error) {
	if err := client.CheckFormat(output); err != nil {
		return nil, usageError{err}
	}
	c, err := client.New(server)
	if err != nil {
		return nil, usageError{err}
	}
	if tokenFile != "" {
		if c.Token, err = api.ReadTokenFile("--token-file", tokenFile); err != nil {
			return nil, usageError{err}
		}
	}
	return c, nil
}

func listCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", "list [flags]", stdout)
	server, output, tokenFile := clientFlags(fs)
	var o client.ListOptions
	fs.StringVar(&o.State, "state", "open", "open, resolved or all")
	fs.StringVar(&o.Cluster, "cluster", "", "only this cluster")
	fs.StringVar(&o.Namespace, "namespace", "", "only resources in this namespace")
	fs.StringVar(&o.Namespace, "n", "", "shorthand for --namespace")
	fs.StringVar(&o.ConstraintKind, "constraint-kind", "", "only constraints of this kind")
	fs.StringVar(&o.ConstraintName, "constraint", "", "only the constraint of this name")
	fs.StringVar(&o.ResourceKind, "resource-kind", "", "only resources of this kind")
	fs.StringVar(&o.EnforcementAction, "enforcement-action", "", "only this enforcement action (deny, warn, dryrun)")
	fs.StringVar(&o.Search, "search", "", "only violations whose message, resource name or namespace, or constraint name contains this text (ignoring case)")
	fs.IntVar(&o.Limit, "limit", 0, "at most this many (0: all)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	switch o.State {
	case "open", "resolved", "all":
	default:
		return usageError{fmt.Errorf("--state %q: want open, resolved or all", o.State)}
	}
	if o.Limit < 0 {
		return usageError{fmt.Errorf("--limit %d: want 0 or more", o.Limit)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("list takes no arguments, got %q", fs.Args())}
	}
	c, err := newClient(*server, *output, *tokenFile)
	if err != nil {
		return err
	}
	vs, err := c.Violations(ctx, o)
	if err != nil {
		return err
	}
	return client.PrintViolations(stdout, *output, vs, time.Now())
}

func runsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs", "runs [flags]", stdout)
	server, output, tokenFile := clientFlags(fs)
	cluster := fs.String("cluster", "", "only this cluster")
	limit := fs.Int("limit", 20, "at most this many runs (1-1000)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *limit < 1 || *limit > 1000 {
		return usageError{fmt.Errorf("--limit %d: want 1 to 1000", *limit)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("runs takes no arguments, got %q", fs.Args())}
	}
	c, err := newClient(*server, *output, *tokenFile)
	if err != nil {
		return err
	}
	runs, err := c.Runs(ctx, *cluster, *limit)
	if err != nil {
		return err
	}
	return client.PrintRuns(stdout, *output, runs, time.Now())
}

func showCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("show", "show KEY [flags]", stdout)
	server, output, tokenFile := clientFlags(fs)
	// The key may come before the flags, as kubectl allows.
	var key string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		key, args = args[0], args[1:]
	}
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	rest := fs.Args()
	if key == "" && len(rest) > 0 {
		key, rest = rest[0], rest[1:]
	}
	if key == "" || len(rest) > 0 {
		return usageError{errors.New("show takes one violation KEY (the KEY column of `violations list`)")}
	}
	if !store.ValidKey(key) {
		return usageError{fmt.Errorf("violation key %q: want the 32 hexadecimal characters of the KEY column of `violations list`", key)}
	}
	c, err := newClient(*server, *output, *tokenFile)
	if err != nil {
		return err
	}
	d, err := c.Violation(ctx, key)
	if err != nil {
		return err
	}
	return client.PrintViolation(stdout, *output, d, time.Now())
}
