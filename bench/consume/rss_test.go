package consume

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// stored is how many open violations the memory figure is taken with.
const stored = 1000000

// BenchmarkConsumerRSS: `violations serve` on a SQLite store (the default,
// the one that lives in the consumer's own memory) holding a run of
// 1,000,000 open violations and a newer completed run that it finalises
// itself (1% of them absent, so resolved); then its metrics are scraped
// and the open violations listed page by page. The figure is the
// process's peak RSS (VmHWM).
func BenchmarkConsumerRSS(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	if err := procs.GoBuild(ctx, dir, "./cmd/violations"); err != nil {
		b.Fatal(err)
	}
	dbURL := "sqlite://" + filepath.Join(dir, "rss.db")
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	run1 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	run2 := run1.Add(time.Minute)
	record := func(run time.Time, skipEvery int) {
		batch := make([]store.Message, 0, 1000)
		flush := func() {
			if _, err := st.Record(ctx, "bench", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
		for i := range stored {
			if skipEvery > 0 && i%skipEvery == 0 {
				continue
			}
			v := violation.Example(run)
			v.ResourceNamespace = fmt.Sprintf("ns-%03d", i%200)
			v.ResourceName = fmt.Sprintf("pod-%07d", i)
			batch = append(batch, store.Message{Kind: store.KindViolation, Run: run, Violation: v})
			if len(batch) == cap(batch) {
				flush()
			}
		}
		batch = append(batch, store.Message{Kind: store.KindCompleted, Run: run})
		flush()
	}
	fill := time.Now()
	record(run1, 0)
	if _, err := st.Finalize(ctx, "bench", run1, store.FinalizeOptions{ResolveAfter: 1, MaxResolveShare: 0.5}); err != nil {
		b.Fatal(err)
	}
	record(run2, 100)
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("stored 2 runs of %d violations in %s", stored, time.Since(fill).Round(time.Second))

	appPort, err1 := procs.FreePort()
	apiPort, err2 := procs.FreePort()
	if err1 != nil || err2 != nil {
		b.Fatal(err1, err2)
	}
	b.ResetTimer()
	start := time.Now()
	consumer, err := procs.StartAppWith(procs.AppOptions{Name: "violations", Path: filepath.Join(dir, "violations"), Args: []string{"serve",
		"--app-listen", fmt.Sprintf("127.0.0.1:%d", appPort), "--listen", fmt.Sprintf("127.0.0.1:%d", apiPort),
		"--store", dbURL, "--no-status", "--cluster", "bench", "--run-grace", "0s", "--reconcile-interval", "100ms", "--log-level", "warn"}})
	if err != nil {
		b.Fatal(err)
	}
	defer consumer.Stop()
	base := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	waitFor(b, consumer, 5*time.Minute, func() (bool, error) {
		resp, err := http.Get(base + "/api/v1/runs")
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		var l api.RunList
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
			return false, err
		}
		for _, r := range l.Items {
			if r.ID.Equal(run2) && r.State != store.RunPending {
				if r.Resolved != stored/100 {
					return false, fmt.Errorf("run 2 %s with %d resolved, want %d", r.State, r.Resolved, stored/100)
				}
				return true, nil
			}
		}
		return false, nil
	})
	finalized := time.Since(start)
	get := func(path string) []byte {
		resp, err := http.Get(base + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return body
	}
	get("/metrics")
	next, listed := "", 0
	for page := 0; page < 50; page++ {
		var l api.ViolationList
		if err := json.Unmarshal(get("/api/v1/violations?state=open&limit=500&continue="+next), &l); err != nil {
			b.Fatal(err)
		}
		listed += len(l.Items)
		if next = l.Continue; next == "" {
			break
		}
	}
	if listed != 50*500 {
		b.Fatalf("listed %d open violations in 50 pages of 500", listed)
	}
	peak, err := consumer.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	mb := float64(peak) / (1 << 20)
	b.ReportMetric(mb, "peak_rss_MB")
	fmt.Printf("consumer-memory: store=sqlite stored=%d peak_rss_mb=%.0f finalize_in_serve_s=%.1f\n", stored, mb, finalized.Seconds())
}
