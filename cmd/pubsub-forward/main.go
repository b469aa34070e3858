// Command pubsub-forward is the sidecar of Gatekeeper's audit for its disk
// export driver (v3.20+): it follows the files the audit writes under
// --path/--topic, one per run, and sends every line, run markers included,
// through the pod's daprd to the broker, as Gatekeeper's Dapr driver would,
// with batching, retries, a bounded queue and a durable checkpoint.
//
// Exit codes: 0 stopped by a signal, 1 daprd or the checkpoint failed, 2
// usage or configuration error.
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

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/forward"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
)

const usage = `pubsub-forward sends Gatekeeper's disk export to a Dapr pubsub component.

Usage:
  pubsub-forward --path DIR --topic NAME [flags]

The audit's connection config (driver disk) names the path; its
--audit-channel is the topic. The sidecar's daprd is found as the Dapr SDK
finds it (DAPR_GRPC_ENDPOINT, else DAPR_GRPC_PORT).

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	c := forward.DefaultConfig()
	fs := flag.NewFlagSet("pubsub-forward", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Path, "path", "", "the disk driver's path (the connection config's \"path\"); runs are read from PATH/TOPIC")
	fs.StringVar(&c.Topic, "topic", "", "the audit's channel (--audit-channel), published to")
	fs.StringVar(&c.Pubsub, "pubsub", c.Pubsub, "Dapr pubsub component to publish through")
	fs.StringVar(&c.Checkpoint, "checkpoint", "", "checkpoint file, on the volume shared with the audit (default .pubsub-forward/TOPIC.json beside PATH); never inside PATH/TOPIC")
	fs.StringVar(&c.Listen, "listen", c.Listen, "address of /healthz, /readyz and /metrics")
	fs.StringVar(&c.DaprAddress, "dapr-address", "", "daprd's gRPC address (default as the Dapr SDK: $DAPR_GRPC_ENDPOINT, else 127.0.0.1:$DAPR_GRPC_PORT, else 127.0.0.1:50001)")
	fs.DurationVar(&c.StartupTimeout, "startup-timeout", c.StartupTimeout, "how long to wait for daprd and its pubsub component at start")
	fs.DurationVar(&c.Poll, "poll", c.Poll, "how often the directory is looked at when caught up")
	fs.DurationVar(&c.Settle, "settle", c.Settle, "send a run being written once its file has not grown for this long (or 16 MiB are unsent), so sending does not take the audit's CPU while it runs; 0 sends lines as they are appended")
	fs.IntVar(&c.BatchLines, "batch-lines", c.BatchLines, "most lines between two checkpoints (a restart sends at most these again)")
	fs.IntVar(&c.MaxLineBytes, "max-line-bytes", c.MaxLineBytes, "longer lines are skipped and counted lost")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "pubsub-forward", version.ModuleVersion())
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pubsub-forward: no arguments are taken, got %q\n", fs.Args())
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "pubsub-forward: --log-level %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	if err := c.Validate(); err != nil {
		fmt.Fprintf(stderr, "pubsub-forward: %v\n", err)
		return 2
	}
	c.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := forward.Run(ctx, c); err != nil {
		c.Logger.Error("pubsub-forward stopped", "error", err)
		fmt.Fprintf(stderr, "pubsub-forward: %v\n", err)
		return 1
	}
	return 0
}
