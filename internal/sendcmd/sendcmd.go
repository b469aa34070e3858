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
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

type flags struct {
	connection, connectionName, provider, config string
	channel, file, policy                        string
	count, batch, workers                        int
	timeout                                      time.Duration
	shutdownSidecar, verbose                     bool
}

// Run runs pubsub-send with args and returns its exit code: 0 when every
// violation was accepted, 1 when any was lost, 2 for bad input.
func Run(args []string, stdout, stderr io.Writer) int {
	var f flags
	fs := flag.NewFlagSet("pubsub-send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.connection, "connection", "", "connection ConfigMap: a YAML/JSON file or a mounted ConfigMap directory")
	fs.StringVar(&f.connectionName, "connection-name", "", "connection name (default: the ConfigMap's name, or audit-connection)")
	fs.StringVar(&f.provider, "provider", "", "provider, instead of --connection (with --config)")
	fs.StringVar(&f.config, "config", "", `provider config as JSON, instead of --connection, e.g. {"component":"pubsub"}`)
	fs.StringVar(&f.channel, "channel", connection.DefaultChannel, "channel (topic) to publish to, as Gatekeeper's --audit-channel")
	fs.IntVar(&f.count, "count", 1, "how many times to send each violation (for load)")
	fs.StringVar(&f.file, "file", "", "JSON file with a violation or a list of violations (default: the documentation's example)")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "give up after this long")
	fs.IntVar(&f.batch, "batch-size", 0, "messages per bulk publish (default 200)")
	fs.IntVar(&f.workers, "workers", 0, "bulk publishes in flight (default 4)")
	fs.StringVar(&f.policy, "queue-full", "block", "when the queue is full: block or drop")
	fs.BoolVar(&f.shutdownSidecar, "shutdown-sidecar", false, "ask the Dapr sidecar to shut down when done (for Jobs and helm test pods)")
	fs.BoolVar(&f.verbose, "v", false, "log retries and failures")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (f.connection == "") == (f.provider == "") || f.channel == "" || f.count < 1 {
		fmt.Fprintln(stderr, "pubsub-send: give --connection or --provider with --config; --channel must not be empty; --count at least 1")
		fs.Usage()
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
	opts := dapr.Options{Logger: logger, Queue: queue.Options{BatchSize: f.batch, Workers: f.workers, Policy: policy}}
	sys := pubsub.NewSystem(dapr.Provider(opts))
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
	fmt.Fprintf(stdout, "sent %d of %d violation(s) to channel %q through connection %q (provider %s, config %s) in %s (%.0f/s)\n",
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
// a mounted ConfigMap directory, or --provider/--config.
func loadConnection(f flags) (*connection.Connection, error) {
	var cc *connection.Connection
	if f.provider != "" {
		cfg, err := connection.DecodeConfig(f.provider, []byte(f.config))
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		cc = &connection.Connection{Driver: f.provider, HasDriver: true, Config: cfg}
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

func loadViolations(path string) ([]violation.Violation, error) {
	if path == "" {
		return []violation.Violation{violation.Example(time.Now())}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
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

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
