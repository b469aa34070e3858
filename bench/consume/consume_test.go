// Package consume benchmarks the violations consumer, SQLite and a real
// PostgreSQL side by side in one run:
//
//   - consume-throughput: violations per second through the Dapr app's
//     HTTP handler into the store, each acked after its commit, with 10
//     deliveries in flight (daprd's Redis workers by default) and with 100
//     (the Component's concurrency metadata raised, as the chart does for
//     the consumer), and in bulk requests of 100 one at a time (Dapr's
//     bulk subscribe, the consumer's default: daprd sends a subscription's
//     bulk requests one after another);
//
//     Beside each rate, the processor time per first-sight violation: the
//     bench process's (the handler, and the client that plays daprd) and,
//     for PostgreSQL, the server's (postmaster and backends). On these two
//     cores the server's share bounds what one commit stream can reach:
//     daprd sends one bulk request at a time and each is acked after its
//     commit, so the server's time per violation is in the critical path.
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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/receive"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

const (
	delivered = 20000
	openN     = 100000
)

// mode is one way daprd delivers, measured side by side.
type mode struct {
	name     string
	inFlight int // requests in flight at once
	bulk     int // messages per request; 0 for one message in a CloudEvent
}

var modes = []mode{{"single", 10, 0}, {"single", 100, 0}, {"bulk", 1, 100}}

func (m mode) String() string {
	if m.bulk > 0 {
		return fmt.Sprintf("delivery=bulk%d in_flight=%d", m.bulk, m.inFlight)
	}
	return fmt.Sprintf("delivery=single in_flight=%d", m.inFlight)
}

// requests groups the deliveries as the mode sends them.
func (m mode) requests(bodies [][]byte) [][]byte {
	if m.bulk == 0 {
		return bodies
	}
	var out [][]byte
	for i := 0; i < len(bodies); i += m.bulk {
		var b bytes.Buffer
		b.WriteString(`{"id":"b","type":"com.dapr.event.sent.bulk","topic":"audit-channel","pubsubname":"pubsub","metadata":{},"entries":[`)
		for j, body := range bodies[i:min(i+m.bulk, len(bodies))] {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"entryId":"%d","event":%s,"metadata":{},"contentType":"application/cloudevents+json"}`, i+j, body)
		}
		b.WriteString(`]}`)
		out = append(out, b.Bytes())
	}
	return out
}

// cpuFunc reads the processor time a store's server has used so far.
type cpuFunc func() (time.Duration, error)

// stores returns openers of a fresh store of each kind, and for the ones
// with a server process, how to read its processor time.
func stores(b *testing.B) (map[string]func(name string) store.Store, map[string]cpuFunc) {
	pg := procstest.StartPostgres(b, procs.PostgresOptions{})
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
	}, map[string]cpuFunc{"postgres": pg.CPU}
}

// selfCPU is the processor time this process has used so far.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
	again := make([][]byte, delivered)
	for i := range again {
		again[i] = body(run.Add(time.Minute), i)
	}
	type result struct{ perS, steadyPerS, perCommit, selfUS, serverUS float64 }
	results := map[string]result{}
	openers, servers := stores(b)
	for _, name := range []string{"sqlite", "postgres"} {
		open := openers[name]
		for i, md := range modes {
			b.Run(fmt.Sprintf("store=%s/%s", name, strings.ReplaceAll(md.String(), " ", "/")), func(b *testing.B) {
				st := open(fmt.Sprintf("throughput%d", i))
				m := metrics.New(st, nil)
				r, err := receive.New(receive.Options{Pubsub: "pubsub", Topic: "audit-channel", Cluster: "bench", Store: st, Metrics: m,
					Bulk: receive.Bulk{MaxMessages: md.bulk}})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go r.Run(ctx)
				srv := httptest.NewServer(r.Handler())
				defer srv.Close()
				url, want := srv.URL+"/violations", []byte("SUCCESS")
				if md.bulk > 0 {
					url += receive.BulkRoute
				}
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: md.inFlight}}
				// send delivers bodies as the mode does and returns the time taken.
				send := func(bodies [][]byte) time.Duration {
					reqs := md.requests(bodies)
					start := time.Now()
					var wg sync.WaitGroup
					next := make(chan []byte)
					for range md.inFlight {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for body := range next {
								resp, err := client.Post(url, "application/json", bytes.NewReader(body))
								if err != nil {
									b.Error(err)
									return
								}
								got, _ := io.ReadAll(resp.Body)
								resp.Body.Close()
								if n := bytes.Count(got, want); n != max(md.bulk, 1) {
									b.Errorf("%d SUCCESS in the answer %.200s", n, got)
									return
								}
							}
						}()
					}
					for _, body := range reqs {
						next <- body
					}
					close(next)
					wg.Wait()
					return time.Since(start)
				}
				serverCPU := func() time.Duration {
					if servers[name] == nil {
						return 0
					}
					d, err := servers[name]()
					if err != nil {
						b.Fatal(err)
					}
					return d
				}
				b.ResetTimer()
				self0, server0 := selfCPU(b), serverCPU()
				elapsed := send(bodies)
				self1, server1 := selfCPU(b), serverCPU()
				// The next audit republishes them all: what the consumer
				// takes every audit interval from then on.
				steady := send(again)
				b.StopTimer()
				vs, err := st.Violations(context.Background(), store.Filter{Limit: 1000})
				if err != nil || len(vs) != 1000 {
					b.Fatalf("stored %d (%v)", len(vs), err)
				}
				var h dto.Metric
				if err := m.Batch.Write(&h); err != nil {
					b.Fatal(err)
				}
				perViolation := func(d time.Duration) float64 { return float64(d.Microseconds()) / delivered }
				res := result{float64(delivered) / elapsed.Seconds(), float64(delivered) / steady.Seconds(), h.GetHistogram().GetSampleSum() / float64(h.GetHistogram().GetSampleCount()),
					perViolation(self1 - self0), perViolation(server1 - server0)}
				results[name+" "+md.String()] = res
				b.ReportMetric(res.perS, "violations/s")
				b.ReportMetric(res.steadyPerS, "republished/s")
				b.ReportMetric(res.perCommit, "msgs/commit")
				b.ReportMetric(res.selfUS, "bench-cpu-us/violation")
				if servers[name] != nil {
					b.ReportMetric(res.serverUS, "server-cpu-us/violation")
				}
			})
		}
	}
	base := results["sqlite "+modes[0].String()].perS
	for _, name := range []string{"sqlite", "postgres"} {
		for _, md := range modes {
			r := results[name+" "+md.String()]
			server := ""
			if r.serverUS > 0 {
				// One commit stream cannot go faster than the server
				// spends on each violation.
				server = fmt.Sprintf(" server_cpu_us_per_violation=%.1f server_bound_per_s=%.0f", r.serverUS, 1e6/r.serverUS)
			}
			fmt.Printf("consume-throughput: store=%s %s handler_per_s=%.0f republished_per_s=%.0f msgs_per_commit=%.1f ratio_to_sqlite_single_10=%.2f bench_cpu_us_per_violation=%.1f%s\n",
				name, md, r.perS, r.steadyPerS, r.perCommit, r.perS/base, r.selfUS, server)
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
	openers, _ := stores(b)
	for _, name := range []string{"sqlite", "postgres"} {
		open := openers[name]
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
