package procs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// RabbitMQServerPath returns the RabbitMQ server start script:
// $RABBITMQ_SERVER, else Debian's /usr/lib/rabbitmq/bin/rabbitmq-server.
// Debian's /usr/sbin/rabbitmq-server is a wrapper that, as root, switches to
// the rabbitmq user, cds to /var/lib/rabbitmq and sends the output to
// /var/log/rabbitmq; the script under /usr/lib runs the node as it is, with
// the environment the harness gives it (it runs as root when HOME is set).
func RabbitMQServerPath() (string, error) {
	p := os.Getenv("RABBITMQ_SERVER")
	if p == "" {
		p = "/usr/lib/rabbitmq/bin/rabbitmq-server"
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: %s not found: run `make rabbitmq` (installs Debian's rabbitmq-server)", ErrMissing, p)
	}
	return p, nil
}

// EPMDPath returns Erlang's port mapper daemon (installed with
// rabbitmq-server's erlang-base).
func EPMDPath() (string, error) {
	return lookPath("epmd", "run `make rabbitmq` (installs Debian's rabbitmq-server and Erlang)")
}

// RabbitMQOptions configure a RabbitMQ node.
type RabbitMQOptions struct {
	// Port for AMQP; 0 picks a free one.
	Port int
	// Tee receives the node's output as it is written.
	Tee func([]byte)
}

// RabbitMQ is a running RabbitMQ node on 127.0.0.1 with a directory of its
// own (Mnesia, message stores, logs, config, cookie), its own node name,
// AMQP and distribution ports, and its own epmd on a port of its own, so it
// neither meets a system node nor another test's. No plugins are enabled
// (no management UI). The default user guest/guest may connect (over
// loopback only, RabbitMQ's default).
type RabbitMQ struct {
	// URL is the AMQP URL, as pubsub.rabbitmq's connectionString takes it.
	URL      string
	Port     int
	DistPort int
	EPMDPort int
	Node     string
	broker
}

// StartRabbitMQ starts epmd and then the node, and waits until the node
// accepts AMQP connections.
func StartRabbitMQ(ctx context.Context, opts RabbitMQOptions) (*RabbitMQ, error) {
	epmdBin, err := EPMDPath()
	if err != nil {
		return nil, err
	}
	r := &RabbitMQ{Port: opts.Port}
	bin, err := r.prepare(RabbitMQServerPath, &r.Port, "", "procs-rabbitmq-", &r.DistPort, &r.EPMDPort)
	if err != nil {
		return nil, err
	}
	r.URL = fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d", r.Port)
	r.Node = fmt.Sprintf("procs-%d@localhost", r.Port)
	cookie := make([]byte, 16)
	_, _ = rand.Read(cookie)
	// The cookie is read from $HOME/.erlang.cookie and must be private.
	if err := os.WriteFile(filepath.Join(r.dir, ".erlang.cookie"), []byte(hex.EncodeToString(cookie)), 0o400); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d\n", r.Port)
	if err := os.WriteFile(filepath.Join(r.dir, "rabbitmq.conf"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(r.dir, "enabled_plugins"), []byte("[].\n"), 0o600); err != nil {
		return nil, err
	}
	out := &syncBuffer{tee: opts.Tee}
	// epmd in the foreground, as a child the harness stops: a node would
	// otherwise start a daemon epmd that outlives the test.
	r.deps = []*process{{name: "epmd", path: epmdBin, dir: r.dir, out: out,
		args: []string{"-port", itoa(r.EPMDPort), "-address", "127.0.0.1"}}}
	r.proc = &process{name: "rabbitmq-server", path: bin, dir: r.dir, out: out, env: []string{
		"HOME=" + r.dir,
		"ERL_EPMD_PORT=" + itoa(r.EPMDPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_NODENAME=" + r.Node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT=" + itoa(r.Port),
		"RABBITMQ_DIST_PORT=" + itoa(r.DistPort),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(r.dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(r.dir, "log"),
		"RABBITMQ_LOGS=-",
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(r.dir, "rabbitmq"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(r.dir, "enabled_plugins"),
		"RABBITMQ_PID_FILE=" + filepath.Join(r.dir, "rabbitmq.pid"),
	}}
	// Ready when it answers the AMQP protocol header (the listener opens
	// last in its boot, after the queues are recovered). SIGTERM: RabbitMQ
	// shuts down cleanly, as for a deleted pod.
	r.ready, r.probe, r.wait, r.grace = "AMQP on 127.0.0.1:"+itoa(r.Port), r.amqpReady, 90*time.Second, 30*time.Second
	if err := r.launch(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RabbitMQ) amqpReady(ctx context.Context) error {
	return talk(ctx, r.Port, 3*time.Second, func(c net.Conn) error {
		if _, err := c.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
			return err
		}
		// The server answers with a method frame (type 1): connection.start.
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err != nil {
			return err
		}
		if b[0] != 1 {
			return fmt.Errorf("AMQP handshake answered frame type %d", b[0])
		}
		return nil
	})
}
