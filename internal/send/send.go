// Package send sends violations through a connection to check a pubsub
// setup end to end: the work of cmd/pubsub-send, whose main turns its flags
// into a Config and calls Run.
package send

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// Config is what to send and how. The connection comes from Connection (a
// connection ConfigMap or Connection file, or a mounted ConfigMap
// directory) or from Driver and DriverConfig; one of the two.
type Config struct {
	Connection     string
	ConnectionName string // default: the ConfigMap's name, or audit-connection
	Driver         string
	DriverConfig   string // the driver's config as JSON
	Channel        string
	// File holds a violation or a list of them; empty: the documentation's
	// example.
	File  string
	Count int // times each violation is sent
	// BatchSize, Workers and QueueFull ("block" or "drop") tune the
	// publisher's queue; zero values take its defaults.
	BatchSize, Workers int
	QueueFull          string
	Timeout            time.Duration // for the whole run
	// SidecarWait bounds the wait for the sidecar's address to accept
	// connections.
	SidecarWait time.Duration
	// ShutdownSidecar asks the sidecar to shut down when done (for Jobs and
	// helm test pods).
	ShutdownSidecar bool
	Verbose         bool // log retries and failures
}

// InputError is a mistake in the configuration or the files it names,
// found before anything is sent.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputError(err error) error { return &InputError{Err: err} }

// Run sends the violations, reports on stdout what was accepted and
// returns nil when every one was. It returns an *InputError for bad input
// (nothing is sent), and another error when the sidecar is not there or
// any violation was not accepted. stderr gets the publisher's log and
// warnings that do not fail the run.
func Run(ctx context.Context, c Config, stdout, stderr io.Writer) error {
	if err := c.check(); err != nil {
		return inputError(err)
	}
	cc, err := loadConnection(c)
	if err != nil {
		return inputError(err)
	}
	msgs, err := loadViolations(c.File)
	if err != nil {
		return inputError(err)
	}
	policy, err := queue.ParsePolicy(c.QueueFull)
	if err != nil {
		return inputError(err)
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	level := slog.LevelError + 1
	if c.Verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := waitForSidecar(ctx, c.SidecarWait); err != nil {
		return err
	}
	opts := dapr.Options{Logger: logger, Queue: queue.Options{BatchSize: c.BatchSize, Workers: c.Workers, Policy: policy}}
	sys := pubsub.NewSystem(dapr.Driver(opts))
	if err := sys.Upsert(ctx, cc); err != nil {
		return err
	}
	start := time.Now()
	queued := 0
	var pubErr error
loop:
	for i := 0; i < c.Count; i++ {
		for _, m := range msgs {
			if pubErr = sys.Publish(ctx, cc.Name, c.Channel, m); pubErr != nil {
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
	if c.ShutdownSidecar {
		if err := dapr.ShutdownSidecar(context.WithoutCancel(ctx), dapr.Options{}); err != nil {
			fmt.Fprintln(stderr, "pubsub-send: shutting down the sidecar:", err)
		}
	}
	want := c.Count * len(msgs)
	fmt.Fprintf(stdout, "sent %d of %d violation(s) to channel %q through connection %q (driver %s, config %s) in %s (%.0f/s)\n",
		stats.Published, want, c.Channel, cc.Name, cc.Driver, mustJSON(cc.Config), elapsed.Round(time.Millisecond), float64(stats.Published)/elapsed.Seconds())
	if stats.Retried > 0 || stats.Lost() > 0 {
		fmt.Fprintf(stdout, "queue: %s\n", stats)
	}
	if err := errors.Join(pubErr, flushErr, closeErr); err != nil || stats.Lost() > 0 || int(stats.Published) != want {
		return errors.Join(err, fmt.Errorf("%d of %d violation(s) were not accepted (queued %d)", want-int(stats.Published), want, queued))
	}
	return nil
}

// loadConnection reads the connection from a ConfigMap or Connection file,
// a mounted ConfigMap directory, or --driver/--config.
func loadConnection(f Config) (*connection.Connection, error) {
	var cc *connection.Connection
	if f.Driver != "" {
		if err := checkDriver(f.Driver); err != nil {
			return nil, err
		}
		cfg, err := connection.DecodeConfig(f.Driver, []byte(f.DriverConfig))
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		cc = &connection.Connection{Driver: f.Driver, HasDriver: true, Config: cfg}
	} else {
		st, err := os.Stat(f.Connection)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			cc, err = pubsub.ReadConnectionDir(f.Connection)
		} else {
			var raw []byte
			if raw, err = os.ReadFile(f.Connection); err != nil {
				return nil, err
			}
			cc, err = pubsub.ParseConnection(f.Connection, raw)
		}
		if err != nil {
			return nil, err
		}
	}
	if f.ConnectionName != "" {
		cc.Name = f.ConnectionName
	}
	if cc.Name == "" {
		cc.Name = connection.DefaultName
	}
	return cc, nil
}

// check checks what needs no file: one of --connection and --driver,
// --config with --driver only, a channel and a count. Messages name the
// flags of cmd/pubsub-send.
func (f Config) check() error {
	switch {
	case f.Connection != "" && (f.Driver != "" || f.DriverConfig != ""):
		return errors.New("--connection and --driver/--config both given: give one")
	case f.Connection == "" && f.Driver == "" && f.DriverConfig != "":
		return fmt.Errorf("--config needs --driver, the driver it configures (%s)", strings.Join(pubsub.PublisherDrivers, ", "))
	case f.Connection == "" && f.Driver == "":
		return fmt.Errorf("no connection: give --connection FILE (a connection ConfigMap or Connection) or --driver (%s) with --config", strings.Join(pubsub.PublisherDrivers, ", "))
	case f.Driver != "" && f.DriverConfig == "":
		return fmt.Errorf(`--driver %s needs --config, its config as JSON, e.g. --config '{"component":"pubsub"}'`, f.Driver)
	case f.Channel == "":
		return errors.New("--channel must not be empty")
	case f.Count < 1:
		return fmt.Errorf("--count %d: --count at least 1", f.Count)
	case f.SidecarWait <= 0:
		return fmt.Errorf("--sidecar-wait %s: must be positive", f.SidecarWait)
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
