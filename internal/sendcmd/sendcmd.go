// Package sendcmd is the pubsub-send command: it sends violations through
// a connection to check a pubsub setup end to end. See cmd/pubsub-send.
package sendcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cli"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

type flags struct {
	connection, connectionName, driver, config string
	channel, file, policy                      string
	count, batch, workers                      int
	timeout, sidecarWait                       time.Duration
	shutdownSidecar, verbose                   bool
	// deprecatedProvider: the driver was given as --provider, the deprecated
	// spelling of --driver.
	deprecatedProvider bool
}

// Run runs pubsub-send with args and returns its exit code: 0 when every
// violation was accepted, 1 when any was lost, 2 for bad input.
func Run(args []string, stdout, stderr io.Writer) int {
	var f flags
	fs := flag.NewFlagSet("pubsub-send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.connection, "connection", "", "connection ConfigMap: a YAML/JSON file or a mounted ConfigMap directory")
	fs.StringVar(&f.connectionName, "connection-name", "", "connection name (default: the ConfigMap's name, or audit-connection)")
	fs.StringVar(&f.driver, "driver", "", "driver, instead of --connection, with --config: "+strings.Join(pubsub.PublisherDrivers, ", "))
	fs.Func("provider", "deprecated: use --driver (Gatekeeper v3.13-v3.18's word for it)", func(v string) error {
		f.driver, f.deprecatedProvider = v, true
		return nil
	})
	fs.StringVar(&f.config, "config", "", `driver config as JSON, instead of --connection, e.g. {"component":"pubsub"}`)
	fs.StringVar(&f.channel, "channel", connection.DefaultChannel, "channel (topic) to publish to, as Gatekeeper's --audit-channel")
	fs.IntVar(&f.count, "count", 1, "how many times to send each violation (for load)")
	fs.StringVar(&f.file, "file", "", "JSON file with a violation or a list of violations (default: the documentation's example)")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "give up after this long")
	fs.DurationVar(&f.sidecarWait, "sidecar-wait", 20*time.Second, "how long to wait for the Dapr sidecar's address to accept connections before failing (it may be starting)")
	fs.IntVar(&f.batch, "batch-size", 0, "messages per bulk publish (default 200)")
	fs.IntVar(&f.workers, "workers", 0, "bulk publishes in flight (default 4)")
	fs.StringVar(&f.policy, "queue-full", "block", "when the queue is full: block or drop")
	fs.BoolVar(&f.shutdownSidecar, "shutdown-sidecar", false, "ask the Dapr sidecar to shut down when done (for Jobs and helm test pods)")
	fs.BoolVar(&f.verbose, "v", false, "log retries and failures")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if code := cli.Parse(fs, args, "usage: pubsub-send --connection FILE|DIR [flags]\n       pubsub-send --driver dapr --config JSON [flags]\n\nSends violations through the Dapr sidecar found as the Dapr SDK finds it ($DAPR_GRPC_ENDPOINT, $DAPR_GRPC_PORT).\nExit status: 0 every violation accepted, 1 any lost or no sidecar, 2 usage or input error.",
		"every input is a flag (--connection FILE or --driver with --config)", stdout, stderr); code != cli.Continue {
		return code
	}
	if *showVersion {
		fmt.Fprintln(stdout, "pubsub-send", version.ModuleVersion())
		return 0
	}
	if f.deprecatedProvider {
		fmt.Fprintln(stderr, "pubsub-send: --provider is deprecated, use --driver")
	}
	if err := checkFlags(f); err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		fmt.Fprintln(stderr, "Run 'pubsub-send --help' for usage.")
		return 2
	}
	cc, err := loadConnection(f)
	if err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 2
	}
	msgs, err := loadViolations(f.file)
	if err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 2
	}
	policy, err := queue.ParsePolicy(f.policy)
	if err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	level := slog.LevelError + 1
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := waitForSidecar(ctx, f.sidecarWait); err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 1
	}
	opts := dapr.Options{Logger: logger, Queue: queue.Options{BatchSize: f.batch, Workers: f.workers, Policy: policy}}
	sys := pubsub.NewSystem(dapr.Driver(opts))
	if err := sys.Upsert(ctx, cc); err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 1
	}
	start := time.Now()
	queued := 0
	var pubErr error
loop:
	for i := 0; i < f.count; i++ {
		for _, m := range msgs {
			if pubErr = sys.Publish(ctx, cc.Name, f.channel, m); pubErr != nil {
				break loop
			}
			queued++
		}
	}
	flushErr := sys.Flush(ctx, cc.Name)
	elapsed := time.Since(start)
	conn, _ := sys.Connection(cc.Name)
	var stats queue.Stats
	if dc, ok := conn.(*dapr.Connection); ok {
		stats = dc.Stats()
	}
	closeErr := sys.Close(ctx)
	if f.shutdownSidecar {
		if err := dapr.ShutdownSidecar(context.Background(), dapr.Options{}); err != nil {
			fmt.Fprintln(stderr, "pubsub-send: shutting down the sidecar:", err)
		}
	}
	fmt.Fprintf(stdout, "sent %d of %d violation(s) to channel %q through connection %q (driver %s, config %s) in %s (%.0f/s)\n",
		stats.Published, f.count*len(msgs), f.channel, cc.Name, cc.Driver, mustJSON(cc.Config), elapsed.Round(time.Millisecond), float64(stats.Published)/elapsed.Seconds())
	if stats.Retried > 0 || stats.Lost() > 0 {
		fmt.Fprintf(stdout, "queue: %s\n", stats)
	}
	if err := errors.Join(pubErr, flushErr, closeErr); err != nil || stats.Lost() > 0 || int(stats.Published) != f.count*len(msgs) {
		if err != nil {
			fmt.Fprintln(stderr, "pubsub-send:", err)
		}
		fmt.Fprintf(stderr, "pubsub-send: %d of %d violation(s) were not accepted (queued %d)\n", f.count*len(msgs)-int(stats.Published), f.count*len(msgs), queued)
		return 1
	}
	return 0
}

// loadConnection reads the connection from a ConfigMap or Connection file,
// a mounted ConfigMap directory, or --driver/--config.
func loadConnection(f flags) (*connection.Connection, error) {
	var cc *connection.Connection
	if f.driver != "" {
		if err := checkDriver(f.driver); err != nil {
			return nil, err
		}
		cfg, err := connection.DecodeConfig(f.driver, []byte(f.config))
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		cc = &connection.Connection{Driver: f.driver, HasDriver: true, Config: cfg}
	} else {
		st, err := os.Stat(f.connection)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			cc, err = pubsub.ReadConnectionDir(f.connection)
		} else {
			var raw []byte
			if raw, err = os.ReadFile(f.connection); err != nil {
				return nil, err
			}
			cc, err = pubsub.ParseConnection(f.connection, raw)
		}
		if err != nil {
			return nil, err
		}
	}
	if f.connectionName != "" {
		cc.Name = f.connectionName
	}
	if cc.Name == "" {
		cc.Name = connection.DefaultName
	}
	return cc, nil
}

// checkFlags checks the flags that need no file: one of --connection and
// --driver, --config with --driver only, a channel and a count.
func checkFlags(f flags) error {
	switch {
	case f.connection != "" && (f.driver != "" || f.config != ""):
		return errors.New("--connection and --driver/--config both given: give one")
	case f.connection == "" && f.driver == "" && f.config != "":
		return fmt.Errorf("--config needs --driver, the driver it configures (%s)", strings.Join(pubsub.PublisherDrivers, ", "))
	case f.connection == "" && f.driver == "":
		return fmt.Errorf("no connection: give --connection FILE (a connection ConfigMap or Connection) or --driver (%s) with --config", strings.Join(pubsub.PublisherDrivers, ", "))
	case f.driver != "" && f.config == "":
		return fmt.Errorf(`--driver %s needs --config, its config as JSON, e.g. --config '{"component":"pubsub"}'`, f.driver)
	case f.channel == "":
		return errors.New("--channel must not be empty")
	case f.count < 1:
		return fmt.Errorf("--count %d: --count at least 1", f.count)
	case f.sidecarWait <= 0:
		return fmt.Errorf("--sidecar-wait %s: must be positive", f.sidecarWait)
	}
	return nil
}

// checkDriver tells an unknown driver from one Gatekeeper knows that
// pubsub-send cannot publish through.
func checkDriver(driver string) error {
	if !slices.Contains(schemas.Drivers(), driver) {
		return fmt.Errorf("--driver %q: unknown driver; Gatekeeper's drivers are %s, and pubsub-send publishes through %s",
			driver, strings.Join(schemas.Drivers(), ", "), strings.Join(pubsub.PublisherDrivers, ", "))
	}
	if !slices.Contains(pubsub.PublisherDrivers, driver) {
		return fmt.Errorf("--driver %s: %w: pubsub-send publishes through %s (with the disk driver the audit writes files, which pubsub-forward sends through dapr)",
			driver, pubsub.ErrDriverNotSupported, strings.Join(pubsub.PublisherDrivers, ", "))
	}
	return nil
}

// sidecarAddress is the Dapr sidecar's gRPC address as the SDK finds it,
// and where it came from.
func sidecarAddress() (addr, from string) {
	switch {
	case os.Getenv(dapr.EnvGRPCEndpoint) != "":
		return os.Getenv(dapr.EnvGRPCEndpoint), "$" + dapr.EnvGRPCEndpoint
	case os.Getenv(dapr.EnvGRPCPort) != "":
		return dapr.AddressFromEnv(), "$" + dapr.EnvGRPCPort
	}
	return dapr.AddressFromEnv(), "the default; set $" + dapr.EnvGRPCEndpoint + " or $" + dapr.EnvGRPCPort
}

// dialTarget is the network and address to dial for a sidecar address
// (host:port, http(s)://host:port, dns:///host:port, unix:///path); ok is
// false for a form it cannot probe, which is then left to the publisher.
func dialTarget(addr string) (network, address string, ok bool) {
	if !strings.Contains(addr, "://") {
		return "tcp", addr, true
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "", "", false
	}
	switch u.Scheme {
	case "http", "https":
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" || u.Query().Get("tls") == "true" {
				port = "443"
			}
			return "tcp", net.JoinHostPort(u.Hostname(), port), true
		}
		return "tcp", u.Host, true
	case "dns":
		return "tcp", strings.TrimPrefix(u.Path, "/"), true
	case "unix":
		return "unix", u.Path, true
	}
	return "", "", false
}

// waitForSidecar fails fast, naming the address, when nothing accepts
// connections at the sidecar's address within wait (a sidecar starting
// beside pubsub-send gets that long).
func waitForSidecar(ctx context.Context, wait time.Duration) error {
	addr, from := sidecarAddress()
	network, target, ok := dialTarget(addr)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, network, target)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no Dapr sidecar at %s (%s) after %s: %w; is daprd running beside pubsub-send?", addr, from, wait, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func loadViolations(path string) ([]violation.Violation, error) {
	if path == "" {
		return []violation.Violation{violation.Example(time.Now())}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	if err := validateViolations(path, b); err != nil {
		return nil, err
	}
	var list []violation.Violation
	if err := json.Unmarshal(b, &list); err == nil {
		if len(list) == 0 {
			return nil, fmt.Errorf("%s: no violations in the list", path)
		}
		return list, nil
	}
	var one violation.Violation
	if err := json.Unmarshal(b, &one); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: invalid JSON at offset %d: %w", path, se.Offset, err)
		}
		return nil, fmt.Errorf("%s: not a violation or a list of violations: %w", path, err)
	}
	return []violation.Violation{one}, nil
}

// validateViolations checks a --file against schemas/violation.schema.json:
// one violation, or each of a list. Syntax errors are left to the decoder,
// which gives their offset.
func validateViolations(path string, b []byte) error {
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil
	}
	docs := []any{doc}
	list, isList := doc.([]any)
	if isList {
		docs = list
	}
	for i, d := range docs {
		problems, err := schemas.Validate(schemas.Violation, d)
		if err != nil {
			return fmt.Errorf("%s: validating: %w", path, err)
		}
		if len(problems) == 0 {
			continue
		}
		msgs := make([]string, 0, len(problems))
		for _, p := range problems {
			ptr := p.Pointer
			if isList {
				ptr = fmt.Sprintf("/%d%s", i, p.Pointer)
			}
			if ptr == "" {
				ptr = "/"
			}
			msgs = append(msgs, ptr+": "+p.Message)
		}
		return fmt.Errorf("%s: not a violation as schemas/violation.schema.json describes it: %s", path, strings.Join(msgs, "; "))
	}
	return nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
