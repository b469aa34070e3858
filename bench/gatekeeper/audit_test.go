// Package gatekeeper benchmarks Gatekeeper's own audit (v3.23.1, real
// binary, against a real kube-apiserver) with each export backend side by
// side in one run: off; dapr, its one-call-per-violation publishing through
// the Dapr sidecar; disk, its disk driver with pubsub-forward sending the
// files through the sidecar. It measures what exporting costs the audit and
// how long the violations take to reach the subscriber.
//
//	make bench   (or: go test -run '^$' -bench . -benchtime 1x ./bench/gatekeeper/)
//
// It prints, for each size N (BENCH_AUDIT_SIZES, default 1000,10000):
//
//	gatekeeper-audit: version=v3.23.1 backend=off violations=N audit_s=A
//	gatekeeper-audit: version=v3.23.1 backend=dapr violations=N audit_s=A delivered=N deliver_s=D
//	gatekeeper-audit: version=v3.23.1 backend=disk violations=N audit_s=A delivered=N deliver_s=D
//	gatekeeper-audit-cost: violations=N dapr_over_off=R disk_over_off=R deliver_disk_over_dapr=R
//
// audit_s is from Gatekeeper's own log (audit_started to audit_finished of
// the first run that counts all N); deliver_s is from audit_started until
// the subscriber has printed all N violations of that run.
package gatekeeper

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
)

const version = "v3.23.1"

type result struct {
	n                  int
	auditS, deliverS   float64
	delivered          int
	auditID            string
	startedAt, endedAt time.Time
}

// interval is the audit interval in seconds (BENCH_AUDIT_INTERVAL, default
// 20): long enough that pubsub-forward has sent one run before the next
// begins, as with Gatekeeper's default of 60 s. With audits back to back
// (5 s, the 10,000-violation audit taking about as long), the forwarder
// sending the last run shares these 2 cores with the next audit.
func interval(b *testing.B) int {
	spec := os.Getenv("BENCH_AUDIT_INTERVAL")
	if spec == "" {
		return 20
	}
	n, err := strconv.Atoi(spec)
	if err != nil || n <= 0 {
		b.Fatalf("BENCH_AUDIT_INTERVAL=%q: want a positive number of seconds", spec)
	}
	return n
}

func sizes(b *testing.B) []int {
	spec := os.Getenv("BENCH_AUDIT_SIZES")
	if spec == "" {
		spec = "1000,10000"
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_AUDIT_SIZES=%q: %q is not a positive number", spec, f)
		}
		out = append(out, n)
	}
	return out
}

func BenchmarkGatekeeperAudit(b *testing.B) {
	ns := sizes(b)
	res := map[string][]result{}
	for _, backend := range []string{"off", "dapr", "disk"} {
		res[backend] = run(b, backend, ns)
	}
	for i, n := range ns {
		off, dapr, disk := res["off"][i], res["dapr"][i], res["disk"][i]
		fmt.Printf("gatekeeper-audit: version=%s backend=off violations=%d audit_s=%.2f\n", version, n, off.auditS)
		for _, r := range []struct {
			name string
			r    result
		}{{"dapr", dapr}, {"disk", disk}} {
			fmt.Printf("gatekeeper-audit: version=%s backend=%s violations=%d audit_s=%.2f delivered=%d deliver_s=%.2f\n", version, r.name, n, r.r.auditS, r.r.delivered, r.r.deliverS)
		}
		fmt.Printf("gatekeeper-audit-cost: violations=%d audit_interval_s=%d dapr_over_off=%.2f disk_over_off=%.2f deliver_disk_over_dapr=%.2f\n",
			n, interval(b), dapr.auditS/off.auditS, disk.auditS/off.auditS, disk.deliverS/dapr.deliverS)
	}
}

// run measures one environment with one export backend (off, dapr or
// disk), growing the number of violating objects through sizes.
func run(b *testing.B, backend string, sizes []int) []result {
	ctx := context.Background()
	if err := os.RemoveAll("/tmp/violations"); err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll("/tmp/violations")
	pubsub := backend != "off"
	e := install(b, interval(b), func(vals map[string]any) {
		if pubsub {
			vals["audit"] = map[string]any{"enablePubsub": true, "deploy": true, "exportBackend": backend}
		} else {
			vals["audit"] = map[string]any{"enablePubsub": false, "deploy": true}
			vals["subscriber"] = map[string]any{"enabled": false}
		}
	})
	defer e.Stop()
	var out []result
	prev := 0
	for _, n := range sizes {
		if err := e.CreateViolators(ctx, prev, n); err != nil {
			b.Fatal(err)
		}
		prev = n
		created := time.Now()
		r, err := waitAudit(e, n, created, pubsub)
		if err != nil {
			b.Fatalf("backend=%s, %d violations: %v\nkubelet stand-in:\n%s", backend, n, err, e.Kubelet.Events())
		}
		out = append(out, r)
	}
	return out
}

// install starts the cluster environment with Gatekeeper's audit (version)
// and the chart, its values adjusted, and applies the policy; the caller
// stops it.
func install(b *testing.B, auditInterval int, adjust func(vals map[string]any)) *cluster.Env {
	ctx := context.Background()
	e, err := cluster.Start(ctx, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	if err != nil {
		b.Fatal(err)
	}
	ok := false
	defer func() {
		if !ok {
			e.Stop()
		}
	}()
	if err := e.PrepareNamespaces(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := e.InstallGatekeeper(ctx, version, nil); err != nil {
		b.Fatal(err)
	}
	chart, err := cluster.ChartDir()
	if err != nil {
		b.Fatal(err)
	}
	vals := e.ChartValues(version, auditInterval)
	adjust(vals)
	if _, err := e.HelmInstall(ctx, chart, "gatekeeper-pubsub", cluster.GatekeeperNS, vals, true); err != nil {
		b.Fatal(err)
	}
	if err := e.ApplyPolicy(ctx, version); err != nil {
		b.Fatal(err)
	}
	ok = true
	return e
}

// waitAudit waits for the first audit run that started after created and
// counted n violations, and (with pubsub) for all of them at the subscriber.
func waitAudit(e *cluster.Env, n int, created time.Time, pubsub bool) (result, error) {
	r := result{n: n}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if time.Now().After(deadline) {
			return r, fmt.Errorf("timed out; the audit log ends:\n%s", tail(e.AuditLog(), 20))
		}
		time.Sleep(250 * time.Millisecond)
		if r.auditID == "" {
			if run, ok := findRun(e.AuditLog(), n, created); ok {
				r.auditID, r.startedAt, r.endedAt = run.id, run.started, run.finished
				r.auditS = run.finished.Sub(run.started).Seconds()
			}
			continue
		}
		if !pubsub {
			return r, nil
		}
		got := 0
		for _, v := range cluster.Received(e.SubscriberOutput()) {
			if v.ID == r.auditID {
				got++
			}
		}
		if got >= n {
			r.delivered = got
			r.deliverS = time.Since(r.startedAt).Seconds()
			return r, nil
		}
	}
}

type auditRun struct {
	id                string
	started, finished time.Time
	violations        int
}

// findRun reads Gatekeeper's JSON log for a finished audit run that
// started after after and whose constraint counted n violations.
func findRun(log string, n int, after time.Time) (auditRun, bool) {
	runs := map[string]*auditRun{}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `"event_type":"audit_`) && !strings.Contains(line, `"event_type":"constraint_audited"`) {
			continue
		}
		var l struct {
			TS         float64 `json:"ts"`
			AuditID    string  `json:"audit_id"`
			EventType  string  `json:"event_type"`
			Violations string  `json:"constraint_violations"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.AuditID == "" {
			continue
		}
		r := runs[l.AuditID]
		if r == nil {
			r = &auditRun{id: l.AuditID}
			runs[l.AuditID] = r
		}
		at := time.Unix(0, int64(l.TS*1e9))
		switch l.EventType {
		case "audit_started":
			r.started = at
		case "audit_finished":
			r.finished = at
		case "constraint_audited":
			r.violations, _ = strconv.Atoi(l.Violations)
		}
	}
	for _, r := range runs {
		if r.violations == n && r.started.After(after) && !r.finished.IsZero() {
			return *r, true
		}
	}
	return auditRun{}, false
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
