package gatekeeper

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// streamAudits is how many audits BenchmarkRedisStream watches.
const streamAudits = 6

// BenchmarkRedisStream: Gatekeeper's real audit (v3.23.1, its Dapr driver)
// publishing through the chart's pubsub.redis Component, the stream's
// length and Redis' memory after each of several audits, side by side:
// with the stream unbounded (component.redisStream.violationsPerAudit 0,
// as Gatekeeper's documentation sets the Component up) and with the
// chart's bound sized for this run (violationsPerAudit N, auditsBehind 2).
// Each audit publishes every violation again; the subscriber acks them
// all and Dapr never deletes an entry, so unbounded the stream grows by N
// (+ 2 markers) every audit.
//
//	redis-stream: bound=none violations=N audits=6 xlen=… used_memory_mb=… bytes_per_entry=… entries_per_day_at_60s=…
//	redis-stream: bound=maxLenApprox=M violations=N audits=6 xlen=… used_memory_mb=…
func BenchmarkRedisStream(b *testing.B) {
	n := 1000
	if s := os.Getenv("BENCH_STREAM_VIOLATIONS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("BENCH_STREAM_VIOLATIONS=%q: want a positive number", s)
		}
	}
	type sample struct {
		xlen   int
		usedMB float64
	}
	results := map[string][]sample{}
	bounds := []struct {
		name   string
		stream map[string]any
	}{
		{"none", map[string]any{"violationsPerAudit": 0, "auditsBehind": 1}},
		{fmt.Sprintf("maxLenApprox=%d", (n+2)*2), map[string]any{"violationsPerAudit": n, "auditsBehind": 2}},
	}
	for _, bound := range bounds {
		ctx := context.Background()
		e := install(b, 10, func(vals map[string]any) {
			vals["component"].(map[string]any)["redisStream"] = bound.stream
		})
		func() {
			defer e.Stop()
			if err := e.CreateViolators(ctx, 0, n); err != nil {
				b.Fatal(err)
			}
			var after time.Time
			for range streamAudits {
				r, err := waitAudit(e, n, after, true)
				if err != nil {
					b.Fatalf("bound %s: %v", bound.name, err)
				}
				after = r.startedAt
				xlen, err := e.Redis.Do(ctx, "XLEN", "audit-channel")
				if err != nil {
					b.Fatal(err)
				}
				info, err := e.Redis.Do(ctx, "INFO", "memory")
				if err != nil {
					b.Fatal(err)
				}
				l, _ := strconv.Atoi(strings.TrimSpace(xlen))
				results[bound.name] = append(results[bound.name], sample{l, usedMemoryMB(info)})
			}
		}()
	}
	for _, bound := range bounds {
		s := results[bound.name]
		var xl, mem []string
		for _, x := range s {
			xl = append(xl, strconv.Itoa(x.xlen))
			mem = append(mem, fmt.Sprintf("%.1f", x.usedMB))
		}
		line := fmt.Sprintf("redis-stream: bound=%s violations=%d audits=%d xlen=%s used_memory_mb=%s", bound.name, n, streamAudits, strings.Join(xl, ","), strings.Join(mem, ","))
		if first, last := s[0], s[len(s)-1]; bound.name == "none" && last.xlen > first.xlen {
			perEntry := (last.usedMB - first.usedMB) * (1 << 20) / float64(last.xlen-first.xlen)
			line += fmt.Sprintf(" bytes_per_entry=%.0f entries_per_day_at_60s=%d", perEntry, (n+2)*24*60)
		}
		fmt.Println(line)
	}
}

// usedMemoryMB reads used_memory from INFO memory.
func usedMemoryMB(info string) float64 {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "used_memory:"); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n / (1 << 20)
		}
	}
	return 0
}
