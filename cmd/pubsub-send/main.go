// Command pubsub-send sends violations through a connection, to check a
// pubsub setup end to end:
//
//	pubsub-send --connection PATH --channel NAME [--count N] [--file violations.json]
//	pubsub-send --driver dapr --config '{"component":"pubsub"}' [flags]
//
// PATH is a YAML or JSON file holding a connection ConfigMap or (Gatekeeper
// v3.20+) a Connection, or a mounted ConfigMap directory (files provider or
// driver, and config). --driver with --config gives the same inline
// (--provider is a deprecated spelling of --driver: it works and prints a
// note on stderr). Without --file it sends the documentation's example
// violation. The Dapr sidecar is found as the Dapr
// SDK finds it (DAPR_GRPC_ENDPOINT, DAPR_GRPC_PORT, DAPR_API_TOKEN); when
// nothing accepts connections there within --sidecar-wait (20s) it fails,
// naming the address. --file is checked against
// schemas/violation.schema.json. It waits until every message is accepted
// or has failed, reports the counts and the rate, and exits 1 when any was
// lost or the sidecar was not there, 2 on bad input (an unknown driver, a
// missing --config, stray arguments).
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
	"syscall"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cli"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/send"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run turns the flags into a send.Config and sends. It returns the exit
// code: 0 when every violation was accepted, 1 when any was lost or there
// was no sidecar, 2 for bad input.
func run(args []string, stdout, stderr io.Writer) int {
	var c send.Config
	deprecatedProvider := false
	fs := flag.NewFlagSet("pubsub-send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Connection, "connection", "", "connection ConfigMap: a YAML/JSON file or a mounted ConfigMap directory")
	fs.StringVar(&c.ConnectionName, "connection-name", "", "connection name (default: the ConfigMap's name, or audit-connection)")
	fs.StringVar(&c.Driver, "driver", "", "driver, instead of --connection, with --config: "+strings.Join(pubsub.PublisherDrivers, ", "))
	fs.Func("provider", "deprecated: use --driver (Gatekeeper v3.13-v3.18's word for it)", func(v string) error {
		c.Driver, deprecatedProvider = v, true
		return nil
	})
	fs.StringVar(&c.DriverConfig, "config", "", `driver config as JSON, instead of --connection, e.g. {"component":"pubsub"}`)
	fs.StringVar(&c.Channel, "channel", connection.DefaultChannel, "channel (topic) to publish to, as Gatekeeper's --audit-channel")
	fs.IntVar(&c.Count, "count", 1, "how many times to send each violation (for load)")
	fs.StringVar(&c.File, "file", "", "JSON file with a violation or a list of violations (default: the documentation's example)")
	fs.DurationVar(&c.Timeout, "timeout", 60*time.Second, "give up after this long")
	fs.DurationVar(&c.SidecarWait, "sidecar-wait", 20*time.Second, "how long to wait for the Dapr sidecar's address to accept connections before failing (it may be starting)")
	fs.IntVar(&c.BatchSize, "batch-size", 0, "messages per bulk publish (default 200)")
	fs.IntVar(&c.Workers, "workers", 0, "bulk publishes in flight (default 4)")
	fs.StringVar(&c.QueueFull, "queue-full", "block", "when the queue is full: block or drop")
	fs.BoolVar(&c.ShutdownSidecar, "shutdown-sidecar", false, "ask the Dapr sidecar to shut down when done (for Jobs and helm test pods)")
	fs.BoolVar(&c.Verbose, "v", false, "log retries and failures")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if code := cli.Parse(fs, args, "usage: pubsub-send --connection FILE|DIR [flags]\n       pubsub-send --driver dapr --config JSON [flags]\n\nSends violations through the Dapr sidecar found as the Dapr SDK finds it ($DAPR_GRPC_ENDPOINT, $DAPR_GRPC_PORT).\nExit status: 0 every violation accepted, 1 any lost or no sidecar, 2 usage or input error.",
		"every input is a flag (--connection FILE or --driver with --config)", stdout, stderr); code != cli.Continue {
		return code
	}
	if *showVersion {
		fmt.Fprintln(stdout, "pubsub-send", version.ModuleVersion())
		return 0
	}
	if deprecatedProvider {
		fmt.Fprintln(stderr, "pubsub-send: --provider is deprecated, use --driver")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := send.Run(ctx, c, stdout, stderr)
	if err == nil {
		return 0
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, "pubsub-send:", line)
	}
	var input *send.InputError
	if errors.As(err, &input) {
		fmt.Fprintln(stderr, "Run 'pubsub-send --help' for usage.")
		return 2
	}
	return 1
}
