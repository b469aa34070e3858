package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	daprclient "github.com/dapr/go-sdk/client"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
)

// Per broker: violations published through pkg/pubsub, and Gatekeeper's
// way (one PublishEvent each, sequential).
const (
	brokerN    = 10000
	brokerSeqN = 2000
	benchTopic = "audit-channel"
)

// benchBroker starts one broker and returns the pubsub Component for it
// and the daprd binary that has it.
type benchBroker struct {
	name  string
	start func(b *testing.B) (comp, daprd string)
}

func benchBrokers() []benchBroker {
	return []benchBroker{
		{"redis", func(b *testing.B) (string, string) {
			r := procstest.StartRedis(b, procs.RedisOptions{Password: "bench"})
			return r.Component("pubsub"), ""
		}},
		{"nats-jetstream", func(b *testing.B) (string, string) {
			bin, err := procs.DaprdJetStreamPath()
			if err != nil {
				b.Fatal(err)
			}
			n := procstest.StartNATS(b, procs.NATSOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := n.CreateStream(ctx, "GATEKEEPER", benchTopic); err != nil {
				b.Fatal(err)
			}
			return n.Component("pubsub", "GATEKEEPER", "violations"), bin
		}},
		{"rabbitmq", func(b *testing.B) (string, string) {
			r := procstest.StartRabbitMQ(b, procs.RabbitMQOptions{})
			return r.Component("pubsub"), ""
		}},
		{"mqtt-mosquitto", func(b *testing.B) (string, string) {
			m := procstest.StartMosquitto(b, procs.MosquittoOptions{})
			return m.Component("pubsub"), ""
		}},
	}
}

// BenchmarkPublishBrokers publishes the same violations through a daprd
// into each broker in turn, in one run, and prints per broker
//
//	publish-throughput: broker=NAME pubsub_per_s=A sequential_per_s=B
//
// Each broker holds what is published for a subscriber that is away: the
// subscriber's daprd subscribes once (creating RabbitMQ's durable queue,
// MQTT's persistent session, JetStream's durable consumer, Redis' consumer
// group) and is stopped before publishing, so the broker stores every
// message (durably, with the Components' settings) and no consumer competes
// for the CPU.
func BenchmarkPublishBrokers(b *testing.B) {
	vs := violations()[:brokerN]
	payloads := make([][]byte, len(vs))
	for i, v := range vs {
		payloads[i], _ = json.Marshal(v)
	}
	type result struct {
		name     string
		q, seq   float64
		comments string
	}
	var results []result
	b.ResetTimer()
	for _, br := range benchBrokers() {
		ok := b.Run(br.name, func(b *testing.B) {
			comp, bin := br.start(b)
			subscribeOnce(b, comp, bin)
			d := procstest.StartDaprd(b, procs.DaprdOptions{AppID: "audit", Bin: bin, LogLevel: "warn", ExtraArgs: benchArgs(),
				Resources: map[string]string{"pubsub.yaml": comp}})
			ctx := context.Background()
			client, err := daprclient.NewClientWithAddress(d.GRPCAddr)
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			for i := 0; i < 100; i++ { // warm up (connections, exchange or stream)
				if err := client.PublishEvent(ctx, "pubsub", benchTopic, payloads[i]); err != nil {
					b.Fatalf("%s: warm-up publish: %v", br.name, err)
				}
			}

			sys := pubsub.NewSystem(dapr.Driver(dapr.Options{Address: d.GRPCAddr, Queue: queue.Options{MaxItems: brokerN,
				BatchSize: envInt("BENCH_BATCH", 0), Workers: envInt("BENCH_WORKERS", 0)}}))
			defer sys.Close(ctx)
			if err := sys.UpsertConnection(ctx, map[string]any{"component": "pubsub"}, "audit-connection", "dapr"); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			for _, p := range payloads {
				if err := sys.Publish(ctx, "audit-connection", benchTopic, dapr.Message{Data: p, ContentType: dapr.GatekeeperContentType}); err != nil {
					b.Fatal(err)
				}
			}
			fctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
			defer cancel()
			if err := sys.Flush(fctx, "audit-connection"); err != nil {
				b.Fatal(err)
			}
			q := float64(brokerN) / time.Since(start).Seconds()
			c, _ := sys.Connection("audit-connection")
			s := c.(*dapr.Connection).Stats()
			if s.Lost() != 0 {
				b.Fatalf("%s: pkg/pubsub lost messages: %s", br.name, s)
			}

			start = time.Now()
			for _, p := range payloads[:brokerSeqN] {
				if err := client.PublishEvent(ctx, "pubsub", benchTopic, p); err != nil {
					b.Fatal(err)
				}
			}
			seq := float64(brokerSeqN) / time.Since(start).Seconds()
			results = append(results, result{name: br.name, q: q, seq: seq, comments: fmt.Sprintf("retried=%d", s.Retried)})
		})
		if !ok {
			b.Errorf("broker %s failed", br.name)
		}
	}
	b.StopTimer()
	for _, r := range results {
		fmt.Fprintf(os.Stdout, "publish-throughput: broker=%s pubsub_per_s=%.0f sequential_per_s=%.0f (%d and %d messages through daprd, stored for a stopped subscriber; %s)\n",
			r.name, r.q, r.seq, brokerN, brokerSeqN, r.comments)
	}
}

// subscribeOnce runs a subscriber daprd in front of a tiny app until the
// subscription is made, then stops it (the broker now keeps messages for
// it).
func subscribeOnce(b *testing.B, comp, bin string) {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	subscribed := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `[{"pubsubname":"pubsub","topic":%q,"route":"/in"}]`, benchTopic)
		select {
		case subscribed <- struct{}{}:
		default:
		}
	})
	mux.HandleFunc("POST /in", func(w http.ResponseWriter, r *http.Request) {
		// Not acked: the subscriber is gone before anything is published.
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	d := procstest.StartDaprd(b, procs.DaprdOptions{AppID: "subscriber", Bin: bin, AppPort: l.Addr().(*net.TCPAddr).Port, LogLevel: "warn",
		Resources: map[string]string{"pubsub.yaml": comp}})
	select {
	case <-subscribed:
	case <-time.After(time.Minute):
		b.Fatal("the subscriber's daprd never read the subscription")
	}
	// The subscription is made once daprd's metadata lists it.
	deadline := time.Now().Add(time.Minute)
	for {
		var md struct {
			Subscriptions []struct {
				Topic string `json:"topic"`
			} `json:"subscriptions"`
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/v1.0/metadata", d.HTTPPort))
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&md)
			resp.Body.Close()
		}
		if len(md.Subscriptions) > 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the subscriber's daprd lists no subscription: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // the component's subscribe (queue, session, consumer) settles
	d.Shutdown()
}
