// Command fake-subscriber is the subscriber side of the Gatekeeper pubsub
// quick start: a Dapr app that subscribes to the audit channel and logs each
// violation it receives as one line of JSON on standard output.
//
// Environment: AUDIT_CHANNEL (default audit-channel), PUBSUB_COMPONENT
// (default pubsub), APP_PORT (default 6002); flags override them.
// APP_API_TOKEN (Dapr's dapr.io/app-token-secret), when set, is required of
// every delivery.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/subscriber"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

func main() {
	os.Exit(run())
}

func run() int {
	port := flag.String("port", envOr("APP_PORT", "6002"), "port to listen on (the dapr.io/app-port annotation)")
	address := flag.String("address", "127.0.0.1", "address to listen on: loopback, as only the pod's daprd calls the app")
	pubsub := flag.String("pubsub", envOr("PUBSUB_COMPONENT", "pubsub"), "Dapr pubsub component to subscribe through")
	channel := flag.String("channel", envOr("AUDIT_CHANNEL", connection.DefaultChannel), "topic to subscribe to (Gatekeeper's --audit-channel)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := subscriber.New(subscriber.Options{
		Addr:   net.JoinHostPort(*address, *port),
		Pubsub: *pubsub,
		Topic:  *channel,
		Token:  os.Getenv("APP_API_TOKEN"),
		Out:    os.Stdout,
		Logger: logger,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake-subscriber:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = s.Stop()
	}()
	if err := s.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "fake-subscriber:", err)
		return 1
	}
	return 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
