// Command fake-subscriber is the subscriber side of the Gatekeeper pubsub
// quick start: a Dapr app that subscribes to the audit channel and logs each
// violation it receives as one line of JSON on standard output.
//
// Environment: AUDIT_CHANNEL (default audit-channel), PUBSUB_COMPONENT
// (default pubsub), APP_PORT (default 6002), HEALTH_PORT (default none: a
// port serving only /healthz on every interface, for the kubelet's probes);
// flags override them.
// APP_API_TOKEN (Dapr's dapr.io/app-token-secret), when set, is required of
// every delivery. It takes flags only (a stray argument is exit 2) and logs
// "listening" with the addresses once they are bound.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cli"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/subscriber"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/version"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: exit 0 after SIGTERM or Ctrl-C, 1 when it cannot
// serve, 2 on a usage error (a bad flag, a stray argument). Help goes to
// stdout with exit 0.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fake-subscriber", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.String("port", envOr("APP_PORT", "6002"), "port to listen on (the dapr.io/app-port annotation)")
	address := fs.String("address", "127.0.0.1", "address to listen on: loopback, as only the pod's daprd calls the app")
	healthPort := fs.String("health-port", os.Getenv("HEALTH_PORT"), "port serving only GET /healthz, on -health-address, for the kubelet's probes; empty: none")
	healthAddress := fs.String("health-address", "", "address of -health-port; empty: every interface (the kubelet probes the pod's IP)")
	pubsub := fs.String("pubsub", envOr("PUBSUB_COMPONENT", "pubsub"), "Dapr pubsub component to subscribe through")
	channel := fs.String("channel", envOr("AUDIT_CHANNEL", connection.DefaultChannel), "topic to subscribe to (Gatekeeper's --audit-channel)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if code := cli.Parse(fs, args, "usage: fake-subscriber [flags]\n\nA Dapr app that subscribes to the audit channel and prints each violation as a line of JSON.\nEnvironment: AUDIT_CHANNEL, PUBSUB_COMPONENT, APP_PORT, HEALTH_PORT, APP_API_TOKEN (flags override them).",
		"it takes flags only (--port, --channel, ...)", stdout, stderr); code != cli.Continue {
		return code
	}
	if *showVersion {
		fmt.Fprintln(stdout, "fake-subscriber", version.ModuleVersion())
		return 0
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var healthAddr string
	if *healthPort != "" {
		healthAddr = net.JoinHostPort(*healthAddress, *healthPort)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := subscriber.Run(ctx, subscriber.Options{
		Addr:       net.JoinHostPort(*address, *port),
		HealthAddr: healthAddr,
		Pubsub:     *pubsub,
		Topic:      *channel,
		Token:      os.Getenv("APP_API_TOKEN"),
		Out:        stdout,
		Logger:     logger,
	})
	var bad *subscriber.OptionsError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &bad):
		fmt.Fprintln(stderr, "fake-subscriber:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "fake-subscriber:", err)
		return 1
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
