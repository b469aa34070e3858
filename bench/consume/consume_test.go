// Package consume benchmarks the violations consumer, SQLite and a real
// PostgreSQL side by side in one run:
//
//   - consume-throughput: violations per second through the Dapr app's
//     HTTP handler into the store, each acked after its commit, with 10
//     deliveries in flight (daprd's Redis workers by default) and with 100
//     (the Component's concurrency metadata raised, as the chart does for
//     the consumer);
//
//   - reconcile: the time to finalise a run of 100,000 open violations
//     (1% of them absent, so resolved).
//
//     make bench   (or: go test -run '^$' -bench . -benchtime 1x ./bench/consume/)
package consume

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/receive"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

const (
	delivered = 20000
	openN     = 100000
)

// inFlights are the deliveries in flight measured side by side.
var inFlights = []int{10, 100}

func stores(b *testing.B) map[string]func(name string) store.Store {
	pg := procs.StartPostgresT(b, procs.PostgresOptions{})
	return map[string]func(string) store.Store{
		"sqlite": func(name string) store.Store {
			s, err := store.Open(context.Background(), "sqlite://"+filepath.Join(b.TempDir(), name+".db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		},
		"postgres": func(name string) store.Store {
			if err := procs.CreateDatabase(context.Background(), pg, name); err != nil {
				b.Fatal(err)
			}
			s, err := store.Open(context.Background(), pg.URLFor(name))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
}

// body is one delivery as daprd makes it of Gatekeeper's publish.
func body(run time.Time, i int) []byte {
	v := violation.Example(run)
	v.ResourceName = fmt.Sprintf("pod-%06d", i)
	inner, _ := json.Marshal(v)
	ce, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": fmt.Sprint(i), "datacontenttype": "text/plain", "data": string(inner)})
	return ce
}

func BenchmarkConsume(b *testing.B) {
	run := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	bodies := make([][]byte, delivered)
	for i := range bodies {
		bodies[i] = body(run, i)
	}
	type result struct{ perS, perCommit float64 }
	results := map[string]result{}
	for _, name := range []string{"sqlite", "postgres"} {
		open := stores(b)[name]
		for _, inFlight := range inFlights {
			b.Run(fmt.Sprintf("store=%s/in_flight=%d", name, inFlight), func(b *testing.B) {
				st := open(fmt.Sprintf("throughput%d", inFlight))
				m := metrics.New(st, nil)
				r, err := receive.New(receive.Options{Pubsub: "pubsub", Topic: "audit-channel", Cluster: "bench", Store: st, Metrics: m})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go r.Run(ctx)
				srv := httptest.NewServer(r.Handler())
				defer srv.Close()
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inFlight}}
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				next := make(chan []byte)
				for range inFlight {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for body := range next {
							resp, err := client.Post(srv.URL+"/violations", "application/cloudevents+json", bytes.NewReader(body))
							if err != nil {
								b.Error(err)
								return
							}
							got, _ := io.ReadAll(resp.Body)
							resp.Body.Close()
							if !bytes.Contains(got, []byte("SUCCESS")) {
								b.Errorf("answer %s", got)
								return
							}
						}
					}()
				}
				for _, body := range bodies {
					next <- body
				}
				close(next)
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				vs, err := st.Violations(context.Background(), store.Filter{Limit: 1000})
				if err != nil || len(vs) != 1000 {
					b.Fatalf("stored %d (%v)", len(vs), err)
				}
				var h dto.Metric
				if err := m.Batch.Write(&h); err != nil {
					b.Fatal(err)
				}
				res := result{float64(delivered) / elapsed.Seconds(), h.GetHistogram().GetSampleSum() / float64(h.GetHistogram().GetSampleCount())}
				results[fmt.Sprintf("%s/%d", name, inFlight)] = res
				b.ReportMetric(res.perS, "violations/s")
				b.ReportMetric(res.perCommit, "msgs/commit")
			})
		}
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, inFlight := range inFlights {
			r := results[fmt.Sprintf("%s/%d", name, inFlight)]
			fmt.Printf("consume-throughput: store=%s in_flight=%d handler_per_s=%.0f msgs_per_commit=%.1f ratio_to_sqlite_10=%.2f\n",
				name, inFlight, r.perS, r.perCommit, r.perS/results["sqlite/10"].perS)
		}
	}
}

func BenchmarkReconcile(b *testing.B) {
	run1 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	run2 := run1.Add(time.Minute)
	msgs := func(run time.Time, skipEvery int) []store.Message {
		var out []store.Message
		for i := range openN {
			if skipEvery > 0 && i%skipEvery == 0 {
				continue
			}
			v := violation.Example(run)
			v.ResourceName = fmt.Sprintf("pod-%06d", i)
			out = append(out, store.Message{Kind: store.KindViolation, Run: run, Violation: v})
		}
		return out
	}
	results := map[string]float64{}
	for _, name := range []string{"sqlite", "postgres"} {
		open := stores(b)[name]
		b.Run("store="+name, func(b *testing.B) {
			st := open("reconcile")
			ctx := context.Background()
			record := func(all []store.Message) {
				for i := 0; i < len(all); i += 1000 {
					if _, err := st.Record(ctx, "bench", all[i:min(i+1000, len(all))]); err != nil {
						b.Fatal(err)
					}
				}
			}
			record(msgs(run1, 0))
			opts := store.FinalizeOptions{ResolveAfter: 1, MaxResolveShare: 0.5}
			if _, err := st.Finalize(ctx, "bench", run1, opts); err != nil {
				b.Fatal(err)
			}
			record(msgs(run2, 100))
			b.ResetTimer()
			start := time.Now()
			r, err := st.Finalize(ctx, "bench", run2, opts)
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if r.Resolved != openN/100 || r.StillOpen != openN-openN/100 {
				b.Fatalf("run 2: %+v, want %d resolved", r, openN/100)
			}
			results[name] = elapsed.Seconds()
			b.ReportMetric(elapsed.Seconds(), "finalize_s")
		})
	}
	fmt.Printf("reconcile: store=sqlite open=%d finalize_s=%.2f\n", openN, results["sqlite"])
	fmt.Printf("reconcile: store=postgres open=%d finalize_s=%.2f\n", openN, results["postgres"])
}
