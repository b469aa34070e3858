package procs

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// MosquittoPath returns mosquitto: $MOSQUITTO, else from PATH or Debian's
// /usr/sbin/mosquitto.
func MosquittoPath() (string, error) {
	if p := os.Getenv("MOSQUITTO"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: MOSQUITTO=%s not found: unset it and run `make mosquitto` (installs Debian's mosquitto)", ErrMissing, p)
		}
		return p, nil
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto", nil
	}
	return "", fmt.Errorf("%w: mosquitto not found on PATH nor in /usr/sbin: run `make mosquitto` (installs Debian's mosquitto)", ErrMissing)
}

// MosquittoOptions configure a mosquitto broker.
type MosquittoOptions struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// Tee receives the broker's output as it is written.
	Tee func([]byte)
}

// Mosquitto is a running mosquitto on 127.0.0.1 with a config file and a
// persistence directory of its own: persistent sessions (cleanSession
// false) and the QoS 1 messages queued for them are saved when the broker
// stops and read back when it starts again.
type Mosquitto struct {
	// URL is what pubsub.mqtt3's url takes: tcp://127.0.0.1:PORT.
	URL  string
	Port int
	broker
}

// StartMosquitto writes the config and starts the broker.
func StartMosquitto(ctx context.Context, opts MosquittoOptions) (*Mosquitto, error) {
	m := &Mosquitto{Port: opts.Port}
	bin, err := m.prepare(MosquittoPath, &m.Port, "", "procs-mosquitto-")
	if err != nil {
		return nil, err
	}
	m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
	// As root, mosquitto 2 switches to the user `mosquitto` unless told
	// otherwise; this broker runs as whoever runs the tests, so that it
	// can write its directory.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root\n"
	}
	// max_queued_messages 0: no limit on the QoS 1 messages kept for a
	// disconnected persistent session (the default, 1000, drops the rest,
	// less than one audit of a large cluster).
	conf := fmt.Sprintf(`%slistener %d 127.0.0.1
allow_anonymous true
persistence true
persistence_location %s/
autosave_interval 1
max_queued_messages 0
log_dest stdout
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
`, user, m.Port, m.dir)
	cfg := filepath.Join(m.dir, "mosquitto.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	m.proc = &process{name: "mosquitto", path: bin, args: []string{"-c", cfg}, dir: m.dir, out: &syncBuffer{tee: opts.Tee}}
	// Ready when it accepts an MQTT connection. SIGTERM: it saves its
	// persistence file.
	m.ready, m.probe, m.wait, m.grace = "MQTT on "+m.URL, m.connack, 20*time.Second, 10*time.Second
	if err := m.launch(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// connack sends an MQTT 3.1.1 CONNECT (clean session, a throwaway client
// id) and expects CONNACK accepted.
func (m *Mosquitto) connack(ctx context.Context) error {
	return talk(ctx, m.Port, 2*time.Second, func(c net.Conn) error {
		id := "procs-ready"
		body := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 10, 0, byte(len(id))} //nolint:gosec // G115: the constant id is 11 bytes
		body = append(body, id...)
		if _, err := c.Write(append([]byte{0x10, byte(len(body))}, body...)); err != nil { //nolint:gosec // G115: a 23-byte CONNECT packet
			return err
		}
		b := make([]byte, 4)
		if _, err := io.ReadFull(c, b); err != nil {
			return err
		}
		if b[0] != 0x20 || b[3] != 0 {
			return fmt.Errorf("CONNACK % x", b)
		}
		_, _ = c.Write([]byte{0xe0, 0}) // DISCONNECT
		return nil
	})
}
