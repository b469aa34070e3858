// Package publish benchmarks the publisher through a real daprd into a real
// Redis, side by side in one run: Gatekeeper's way (one PublishEvent per
// violation, sequential) against pkg/pubsub (bulk publish, a bounded queue,
// several batches in flight), plus the sidecar's own ceiling measured by a
// client that does nothing but bulk publish pre-encoded messages.
//
//	make bench   (or: go test -run '^$' -bench . -benchtime 1x ./bench/publish/)
//
// The last line printed is
//
//	publish-throughput: sequential_per_s=A pubsub_per_s=B ratio=R
//
// BenchmarkPublishBrokers (brokers_test.go) prints one line per broker
// before it, the same violations through daprd into Redis, NATS JetStream,
// RabbitMQ and Mosquitto in one run:
//
//	publish-throughput: broker=NAME pubsub_per_s=A sequential_per_s=B
//
// Knobs for experiments (defaults: the publisher's and Dapr's own):
// BENCH_BATCH and BENCH_WORKERS (pkg/pubsub's batch size and sends in
// flight), BENCH_CEIL_BATCH and BENCH_CEIL_INFLIGHT (the bare client's),
// BENCH_POOL (the Component's poolSize) and BENCH_DAPRD_ARGS (extra daprd
// flags, e.g. --enable-metrics=false).
package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	daprclient "github.com/dapr/go-sdk/client"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/quickstart"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

const n = 20000

func violations() []violation.Violation {
	out := make([]violation.Violation, n)
	for i := range out {
		v := violation.Example(time.Now())
		v.ResourceName = fmt.Sprintf("pod-%06d", i)
		out[i] = v
	}
	return out
}

// envInt reads a tuning knob for experiments (0: the publisher's default).
func envInt(key string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(key), &v); err != nil {
		return def
	}
	return v
}

func benchMetadata() map[string]string {
	m := map[string]string{}
	if v := os.Getenv("BENCH_POOL"); v != "" {
		m["poolSize"] = v
	}
	return m
}

// benchArgs are extra daprd flags for experiments, e.g.
// BENCH_DAPRD_ARGS="--enable-metrics=false".
func benchArgs() []string { return strings.Fields(os.Getenv("BENCH_DAPRD_ARGS")) }

func BenchmarkPublishThroughput(b *testing.B) {
	ctx := context.Background()
	redis := procstest.StartRedis(b, procs.RedisOptions{Password: "bench"})
	secrets, err := quickstart.WriteSecrets(b.TempDir(), redis.Password)
	if err != nil {
		b.Fatal(err)
	}
	d := procstest.StartDaprd(b, procs.DaprdOptions{AppID: "audit", Resources: quickstart.ResourcesWith(redis.Addr, secrets, benchMetadata()), LogLevel: "warn", ExtraArgs: benchArgs()})
	vs := violations()

	client, err := daprclient.NewClientWithAddress(d.GRPCAddr)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()

	// Warm both paths (connections, Redis stream creation).
	for i := 0; i < 200; i++ {
		payload, _ := json.Marshal(vs[i])
		if err := client.PublishEvent(ctx, quickstart.Component, "warmup", payload); err != nil {
			b.Fatal(err)
		}
	}

	b.ResetTimer()
	// Gatekeeper's way: marshal, then one blocking PublishEvent each.
	start := time.Now()
	for _, v := range vs {
		payload, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		if err := client.PublishEvent(ctx, quickstart.Component, "bench-sequential", payload); err != nil {
			b.Fatal(err)
		}
	}
	seq := float64(n) / time.Since(start).Seconds()

	// pkg/pubsub: Publish queues, Flush waits for every acknowledgement.
	sys := pubsub.NewSystem(dapr.Driver(dapr.Options{Address: d.GRPCAddr, Queue: queue.Options{MaxItems: n, BatchSize: envInt("BENCH_BATCH", 0), Workers: envInt("BENCH_WORKERS", 0)}}))
	defer sys.Close(ctx)
	if err := sys.UpsertConnection(ctx, map[string]any{"component": quickstart.Component}, "audit-connection", "dapr"); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	for _, v := range vs {
		if err := sys.Publish(ctx, "audit-connection", "bench-pubsub", v); err != nil {
			b.Fatal(err)
		}
	}
	if err := sys.Flush(ctx, "audit-connection"); err != nil {
		b.Fatal(err)
	}
	q := float64(n) / time.Since(start).Seconds()
	c, _ := sys.Connection("audit-connection")
	if s := c.(*dapr.Connection).Stats(); s.Published != n || s.Lost() != 0 {
		b.Fatalf("pkg/pubsub published %s, want %d and none lost", s, n)
	}

	// The sidecar's ceiling: pre-encoded batches of 500, 4 in flight, no
	// queue, no encoding.
	payloads := make([][]byte, n)
	for i, v := range vs {
		payloads[i], _ = json.Marshal(v)
	}
	start = time.Now()
	var wg sync.WaitGroup
	batch, inflight := envInt("BENCH_CEIL_BATCH", 500), envInt("BENCH_CEIL_INFLIGHT", 4)
	next := make(chan int)
	go func() {
		for i := 0; i < n; i += batch {
			next <- i
		}
		close(next)
	}()
	for w := 0; w < inflight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from := range next {
				entries := make([]*runtimev1pb.BulkPublishRequestEntry, 0, batch)
				for i := from; i < min(from+batch, n); i++ {
					entries = append(entries, &runtimev1pb.BulkPublishRequestEntry{EntryId: fmt.Sprint(i), Event: payloads[i], ContentType: "application/json"})
				}
				res, err := client.GrpcClient().BulkPublishEventAlpha1(ctx, &runtimev1pb.BulkPublishRequest{PubsubName: quickstart.Component, Topic: "bench-ceiling", Entries: entries})
				if err != nil || len(res.GetFailedEntries()) > 0 {
					b.Errorf("ceiling client: %v %v", err, res.GetFailedEntries())
				}
			}
		}()
	}
	wg.Wait()
	ceiling := float64(n) / time.Since(start).Seconds()
	b.StopTimer()

	b.ReportMetric(seq, "sequential/s")
	b.ReportMetric(q, "pubsub/s")
	b.ReportMetric(ceiling, "ceiling/s")
	fmt.Fprintf(os.Stdout, "publish-ceiling: bulk_client_per_s=%.0f (batches of %d, %d in flight, pre-encoded)\n", ceiling, batch, inflight)
	fmt.Fprintf(os.Stdout, "publish-throughput: sequential_per_s=%.0f pubsub_per_s=%.0f ratio=%.1f\n", seq, q, q/seq)
}
