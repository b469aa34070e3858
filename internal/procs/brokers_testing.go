package procs

import (
	"context"
	"testing"
	"time"
)

// StartNATST starts nats-server with JetStream for t and stops it when t
// ends; when t fails, its log is printed. A missing nats-server fails t
// with the make target that builds it.
func StartNATST(t testing.TB, opts NATSOptions) *NATS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := StartNATS(ctx, opts)
	if err != nil {
		t.Fatalf("starting nats-server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nats-server %s output:\n%s", n.URL, n.Logs())
		}
		n.Stop()
	})
	return n
}

// StartRabbitMQT starts a RabbitMQ node for t and stops it when t ends;
// when t fails, its log is printed. A missing rabbitmq-server fails t with
// the make target that installs it.
func StartRabbitMQT(t testing.TB, opts RabbitMQOptions) *RabbitMQ {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	r, err := StartRabbitMQ(ctx, opts)
	if err != nil {
		t.Fatalf("starting rabbitmq-server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rabbitmq-server %s output:\n%s", r.Node, r.Logs())
		}
		r.Stop()
	})
	return r
}

// StartMosquittoT starts mosquitto for t and stops it when t ends; when t
// fails, its log is printed. A missing mosquitto fails t with the make
// target that installs it.
func StartMosquittoT(t testing.TB, opts MosquittoOptions) *Mosquitto {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := StartMosquitto(ctx, opts)
	if err != nil {
		t.Fatalf("starting mosquitto: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mosquitto %s output:\n%s", m.URL, m.Logs())
		}
		m.Stop()
	})
	return m
}
