package consume

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	daprclient "github.com/dapr/go-sdk/client"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/quickstart"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

const (
	// endToEnd violations go through the publisher's daprd, Redis and the
	// consumer's daprd into `violations serve`.
	endToEnd = 20000
	// sequential is how many Gatekeeper's way (one blocking PublishEvent
	// each) sends for its rate.
	sequential = 2000
)

// BenchmarkConsumeEndToEnd: a run's violations published faster than
// Gatekeeper does (pkg/pubsub through the audit's daprd into Redis) and
// consumed by `violations serve` behind its own daprd (Redis' 10 delivery
// workers), SQLite and PostgreSQL side by side; the rate is the last
// violation stored, counted from the first publish. Gatekeeper's own
// publishing rate is measured beside it, and the consumer's peak RSS.
func BenchmarkConsumeEndToEnd(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	if err := procs.GoBuild(ctx, dir, "./cmd/violations"); err != nil {
		b.Fatal(err)
	}
	redis := procstest.StartRedis(b, procs.RedisOptions{Password: "bench"})
	secrets, err := quickstart.WriteSecrets(b.TempDir(), redis.Password)
	if err != nil {
		b.Fatal(err)
	}
	resources := quickstart.ResourcesWith(redis.Addr, secrets, nil)
	// The consumer's Component with 100 Redis delivery workers
	// (metadata concurrency) instead of the default 10, so a commit holds
	// up to 100 messages; the chart does not set it yet
	// (BENCH_CONCURRENCY=10 measures the default).
	concurrency := os.Getenv("BENCH_CONCURRENCY")
	if concurrency == "" {
		concurrency = "100"
	}
	subResources := quickstart.ResourcesWith(redis.Addr, secrets, map[string]string{"concurrency": concurrency})
	audit := procstest.StartDaprd(b, procs.DaprdOptions{AppID: "audit", Resources: resources, LogLevel: "warn"})
	pg := procstest.StartPostgres(b, procs.PostgresOptions{})
	storeURL := map[string]string{}
	for _, label := range []string{deliveryLabel(0), deliveryLabel(bulkMessages)} {
		if err := procs.CreateDatabase(ctx, pg, "endtoend"+label); err != nil {
			b.Fatal(err)
		}
		storeURL["sqlite"+label] = "sqlite://" + filepath.Join(dir, "e2e-"+label+".db")
		storeURL["postgres"+label] = pg.URLFor("endtoend" + label)
	}

	// Gatekeeper's way, for the ratio.
	client, err := daprclient.NewClientWithAddress(audit.GRPCAddr)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	run := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	start := time.Now()
	for i := range sequential {
		v := violation.Example(run)
		v.ResourceName = fmt.Sprintf("seq-%06d", i)
		payload, _ := json.Marshal(v)
		if err := client.PublishEvent(ctx, quickstart.Component, "bench-nobody", payload); err != nil {
			b.Fatal(err)
		}
	}
	gatekeeperRate := float64(sequential) / time.Since(start).Seconds()

	sys := pubsub.NewSystem(dapr.Driver(dapr.Options{Address: audit.GRPCAddr, Queue: queue.Options{MaxItems: endToEnd}}))
	defer sys.Close(ctx)
	if err := sys.UpsertConnection(ctx, map[string]any{"component": quickstart.Component}, "audit-connection", "dapr"); err != nil {
		b.Fatal(err)
	}
	rates, rss := map[string]float64{}, map[string]float64{}
	publish := func(b *testing.B, topic string) {
		for i := range endToEnd {
			v := violation.Example(run)
			v.ResourceName = fmt.Sprintf("pod-%06d", i)
			if err := sys.Publish(ctx, "audit-connection", topic, v); err != nil {
				b.Fatal(err)
			}
		}
	}
	// daprd's ceiling: the same deliveries to an app that only answers
	// SUCCESS, one per request and in bulk.
	for _, bulk := range []int{0, bulkMessages} {
		label := deliveryLabel(bulk)
		b.Run("app=noop/delivery="+label, func(b *testing.B) {
			var got atomic.Int64
			topic := "bench-e2e-noop-" + label
			noop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/dapr/subscribe" && bulk == 0:
					fmt.Fprintf(w, `[{"pubsubname":%q,"topic":%q,"route":"/noop"}]`, quickstart.Component, topic)
				case r.URL.Path == "/dapr/subscribe":
					fmt.Fprintf(w, `[{"pubsubname":%q,"topic":%q,"route":"/noop","bulkSubscribe":{"enabled":true,"maxMessagesCount":%d,"maxAwaitDurationMs":5}}]`, quickstart.Component, topic, bulk)
				case bulk == 0:
					_, _ = io.Copy(io.Discard, r.Body)
					got.Add(1)
					_, _ = io.WriteString(w, `{"status":"SUCCESS"}`)
				default:
					var req struct {
						Entries []struct {
							EntryID string `json:"entryId"`
						} `json:"entries"`
					}
					_ = json.NewDecoder(r.Body).Decode(&req)
					var out []byte
					out = append(out, `{"statuses":[`...)
					for i, e := range req.Entries {
						if i > 0 {
							out = append(out, ',')
						}
						out = fmt.Appendf(out, `{"entryId":%q,"status":"SUCCESS"}`, e.EntryID)
					}
					out = append(out, `]}`...)
					got.Add(int64(len(req.Entries)))
					_, _ = w.Write(out)
				}
			}))
			defer noop.Close()
			port := noop.Listener.Addr().(*net.TCPAddr).Port
			d := procstest.StartDaprd(b, procs.DaprdOptions{AppID: "noop-" + label, AppPort: port, Resources: subResources, LogLevel: "warn"})
			defer d.Stop()
			b.ResetTimer()
			start := time.Now()
			publish(b, topic)
			deadline := time.Now().Add(5 * time.Minute)
			for got.Load() < endToEnd {
				if time.Now().After(deadline) {
					b.Fatalf("the no-op app got %d of %d", got.Load(), endToEnd)
				}
				time.Sleep(20 * time.Millisecond)
			}
			rates["noop "+label] = float64(endToEnd) / time.Since(start).Seconds()
			b.ReportMetric(rates["noop "+label], "violations/s")
		})
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, bulk := range []int{0, bulkMessages} {
			label := deliveryLabel(bulk)
			key := name + " " + label
			b.Run("store="+name+"/delivery="+label, func(b *testing.B) {
				topic := "bench-e2e-" + name + "-" + label
				appPort, err1 := procs.FreePort()
				apiPort, err2 := procs.FreePort()
				if err1 != nil || err2 != nil {
					b.Fatal(err1, err2)
				}
				consumer, err := procs.StartAppWith(procs.AppOptions{Name: "violations-" + name, Path: filepath.Join(dir, "violations"), Args: []string{"serve",
					"--app-listen", fmt.Sprintf("127.0.0.1:%d", appPort), "--listen", fmt.Sprintf("127.0.0.1:%d", apiPort),
					"--store", storeURL[name+label], "--no-status", "--pubsub", quickstart.Component, "--topic", topic, "--cluster", "bench", "--log-level", "warn",
					"--bulk-max-messages", fmt.Sprint(bulk)}})
				if err != nil {
					b.Fatal(err)
				}
				defer consumer.Stop()
				d := procstest.StartDaprd(b, procs.DaprdOptions{AppID: "violations-" + name + "-" + label, AppPort: appPort, Resources: subResources, LogLevel: "warn"})
				defer d.Stop()
				base := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
				waitFor(b, consumer, 60*time.Second, func() (bool, error) {
					resp, err := http.Get(base + "/readyz")
					if err != nil {
						return false, nil
					}
					resp.Body.Close()
					return resp.StatusCode == http.StatusOK, nil
				})
				b.ResetTimer()
				start := time.Now()
				publish(b, topic)
				waitFor(b, consumer, 5*time.Minute, func() (bool, error) {
					n, err := received(base, run)
					return n >= endToEnd, err
				})
				elapsed := time.Since(start)
				b.StopTimer()
				if n, err := received(base, run); err != nil || n != endToEnd {
					b.Fatalf("consumer counted %d violations (%v), want %d", n, err, endToEnd)
				}
				peak, err := consumer.PeakRSS()
				if err != nil {
					b.Fatal(err)
				}
				rates[key], rss[key] = float64(endToEnd)/elapsed.Seconds(), float64(peak)/(1<<20)
				b.ReportMetric(rates[key], "violations/s")
				b.ReportMetric(rss[key], "peak_rss_MB")
			})
		}
	}
	for _, bulk := range []int{0, bulkMessages} {
		label := deliveryLabel(bulk)
		fmt.Printf("consume-ceiling: delivery=%s daprd_to_noop_app_per_s=%.0f redis_concurrency=%s\n", label, rates["noop "+label], concurrency)
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, bulk := range []int{0, bulkMessages} {
			label := deliveryLabel(bulk)
			key := name + " " + label
			fmt.Printf("consume-throughput: store=%s delivery=%s end_to_end_per_s=%.0f gatekeeper_publish_per_s=%.0f ratio_to_gatekeeper=%.1f ratio_to_noop_single=%.2f violations=%d consumer_peak_rss_mb=%.0f\n",
				name, label, rates[key], gatekeeperRate, rates[key]/gatekeeperRate, rates[key]/rates["noop single"], endToEnd, rss[key])
		}
	}
}

// bulkMessages is the consumer's default --bulk-max-messages.
const bulkMessages = 100

func deliveryLabel(bulk int) string {
	if bulk == 0 {
		return "single"
	}
	return fmt.Sprintf("bulk%d", bulk)
}

// received is the number of distinct violations the consumer stored for run.
func received(base string, run time.Time) (int, error) {
	resp, err := http.Get(base + "/api/v1/runs")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var l api.RunList
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return 0, fmt.Errorf("GET /api/v1/runs: %w", err)
	}
	for _, r := range l.Items {
		if r.ID.Equal(run) {
			return r.Received, nil
		}
	}
	return 0, nil
}

// waitFor polls done until it is true, failing with the consumer's output
// if it has not become true within d or the consumer ended.
func waitFor(b *testing.B, consumer *procs.App, d time.Duration, done func() (bool, error)) {
	b.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, err := done()
		if ok {
			return
		}
		select {
		case <-consumer.Done():
			b.Fatalf("violations serve ended:\n%s", consumer.Logs())
		default:
		}
		if time.Now().After(deadline) {
			fmt.Fprint(os.Stderr, consumer.Logs())
			b.Fatalf("not within %s (last error: %v)", d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
