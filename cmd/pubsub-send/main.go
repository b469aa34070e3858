// Command pubsub-send sends violations through a connection, to check a
// pubsub setup end to end:
//
//	pubsub-send --connection FILE --channel NAME [--count N] [--file violations.json]
//
// FILE is a connection ConfigMap (YAML or JSON). Without --file it sends the
// documentation's example violation. The Dapr sidecar is found as the Dapr
// SDK finds it (DAPR_GRPC_ENDPOINT, DAPR_GRPC_PORT, DAPR_API_TOKEN). It
// reports what was sent and exits non-zero on failure.
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
	"syscall"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pubsub-send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	connFile := fs.String("connection", "", "connection ConfigMap file (YAML or JSON); required")
	channel := fs.String("channel", "audit-channel", "channel (topic) to publish to, as Gatekeeper's --audit-channel")
	count := fs.Int("count", 1, "how many times to send each violation")
	file := fs.String("file", "", "JSON file with a violation or a list of violations (default: the documentation's example)")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *connFile == "" || *channel == "" || *count < 1 {
		fmt.Fprintln(stderr, "pubsub-send: --connection is required, --channel must not be empty and --count must be at least 1")
		fs.Usage()
		return 2
	}
	raw, err := os.ReadFile(*connFile)
	if err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 2
	}
	cc, err := pubsub.ParseConnectionConfigMap(*connFile, raw)
	if err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 2
	}
	msgs, err := loadViolations(*file)
	if err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	sys := pubsub.NewSystem(dapr.Provider(dapr.Options{}))
	defer sys.Close()
	if err := sys.UpsertConnection(ctx, cc.Config, cc.Name, cc.Provider); err != nil {
		fmt.Fprintln(stderr, "pubsub-send:", err)
		return 1
	}
	start := time.Now()
	sent := 0
	for i := 0; i < *count; i++ {
		for _, m := range msgs {
			if err := sys.Publish(ctx, cc.Name, *channel, m); err != nil {
				fmt.Fprintf(stderr, "pubsub-send: sent %d of %d: %v\n", sent, *count*len(msgs), err)
				return 1
			}
			sent++
		}
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "sent %d violation(s) to channel %q through connection %q (provider %s, config %s) in %s (%.0f/s)\n",
		sent, *channel, cc.Name, cc.Provider, mustJSON(cc.Config), elapsed.Round(time.Millisecond), float64(sent)/elapsed.Seconds())
	return 0
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
