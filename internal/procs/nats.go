package procs

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSServerPath returns nats-server: $NATS_SERVER, else bin/nats-server
// (`make tools-nats` builds it from its Go module into the tools cache).
func NATSServerPath() (string, error) {
	return toolPath("nats-server", "NATS_SERVER", "run `make tools-nats` (builds nats-server v2.15.3 from its Go module into the tools cache and links it into bin/)")
}

// NATSOptions configure a nats-server with JetStream.
type NATSOptions struct {
	// Port for clients; 0 picks a free one.
	Port int
	// Dir for JetStream's files; default a new temporary directory.
	Dir string
	// Tee receives the server's output as it is written.
	Tee func([]byte)
}

// NATS is a running nats-server with JetStream on file storage, so that
// streams, their messages and durable consumers survive a Pause and Start.
type NATS struct {
	// URL is what pubsub.jetstream's natsURL takes: nats://127.0.0.1:PORT.
	URL         string
	Port        int
	MonitorPort int
	broker
}

// StartNATS starts nats-server -js on 127.0.0.1 and waits until JetStream
// is ready (the monitoring endpoint's /healthz).
func StartNATS(ctx context.Context, opts NATSOptions) (*NATS, error) {
	n := &NATS{Port: opts.Port}
	bin, err := n.prepare(NATSServerPath, &n.Port, opts.Dir, "procs-nats-", &n.MonitorPort)
	if err != nil {
		return nil, err
	}
	n.URL = fmt.Sprintf("nats://127.0.0.1:%d", n.Port)
	args := []string{"-a", "127.0.0.1", "-p", itoa(n.Port), "-m", itoa(n.MonitorPort),
		"-js", "-sd", n.dir, "--server_name", "procs-nats-" + itoa(n.Port)}
	n.proc = &process{name: "nats-server", path: bin, args: args, dir: n.dir, out: &syncBuffer{tee: opts.Tee}}
	// Ready when JetStream answers /healthz (streams recovered). SIGTERM:
	// a clean shutdown, as for a deleted pod.
	n.ready, n.probe, n.wait, n.grace = "JetStream healthy on "+n.URL, httpOK(n.MonitorPort, "/healthz"), 30*time.Second, 10*time.Second
	if err := n.launch(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// CreateStream creates (or updates) a JetStream stream on file storage
// capturing subjects, as the chart must before daprd starts: Dapr's
// pubsub.jetstream (components-contrib v1.14) creates none, and a
// subscriber's daprd fails to subscribe to a subject no stream captures
// ("no stream matches subject"). Messages are kept by limits (a day), not
// removed on ack, so a durable consumer's restart resumes from its own ack
// floor while another consumer may read the same stream.
func (n *NATS) CreateStream(ctx context.Context, name string, subjects ...string) error {
	return n.withJetStream(ctx, func(js jetstream.JetStream) error {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:     name,
			Subjects: subjects,
			Storage:  jetstream.FileStorage,
			MaxAge:   24 * time.Hour,
		})
		if err != nil {
			return fmt.Errorf("creating JetStream stream %s for %v: %w", name, subjects, err)
		}
		return nil
	})
}

// StreamMessages returns how many messages the stream holds.
func (n *NATS) StreamMessages(ctx context.Context, name string) (uint64, error) {
	var msgs uint64
	err := n.withJetStream(ctx, func(js jetstream.JetStream) error {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		msgs = info.State.Msgs
		return nil
	})
	return msgs, err
}

func (n *NATS) withJetStream(ctx context.Context, f func(jetstream.JetStream) error) error {
	nc, err := nats.Connect(n.URL, nats.Name("procs"), nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", n.URL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	return f(js)
}

// DaprdJetStreamPath returns the daprd that has pubsub.jetstream:
// $DAPRD_JETSTREAM, else bin/daprd-jetstream (`make tools-daprd-jetstream`).
// The project's bin/daprd is built with -tags stablecomponents, which in
// Dapr v1.14 leaves pubsub.jetstream out.
func DaprdJetStreamPath() (string, error) {
	return toolPath("daprd-jetstream", "DAPRD_JETSTREAM", "run `make tools-daprd-jetstream` (builds daprd v1.14.0 with pubsub.jetstream into the tools cache and links it into bin/)")
}
