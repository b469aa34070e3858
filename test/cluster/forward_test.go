package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// diskRoot is where Gatekeeper's disk driver writes (the chart's
// /tmp/violations/topics): the stand-in runs the audit and pubsub-forward
// as processes of this machine, so both see the path as it is.
const diskRoot = "/tmp/violations"

// TestExportBackends runs Gatekeeper v3.23.1's real audit with each export
// backend, the violations consumer receiving: with `disk`, the audit
// writes each run to a file and pubsub-forward sends it; with `dapr`, the
// audit publishes through daprd itself. Each run's violations and both
// markers arrive. Then Redis is stopped for 30 s across audits: through
// the forwarder every run of the outage arrives once Redis is back; through
// Gatekeeper's Dapr driver what is lost is counted (and logged for the
// note).
func TestExportBackends(t *testing.T) {
	const version, n, interval = "v3.23.1", 6, 10
	lost := map[string]int{}
	received := map[string][]string{}
	for _, backend := range []string{"disk", "dapr"} {
		t.Run(backend, func(t *testing.T) {
			if err := os.RemoveAll(diskRoot); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(diskRoot) })
			e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
			prepare(t, e, version, nil)
			ctx := context.Background()
			values := e.ChartValues(version, interval)
			values["audit"] = map[string]any{"enablePubsub": true, "deploy": true, "exportBackend": backend}
			values["subscriber"] = map[string]any{"enabled": false}
			values["consumer"] = map[string]any{"enabled": true, "namespace": cluster.SubscriberNS, "createNamespace": false, "runGrace": "3s"}
			if _, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, values, false); err != nil {
				t.Fatal(err)
			}
			applyPolicy(t, e, version, n)
			server := consumerAPI(t, e)
			for _, v := range waitViolations(t, e, server, "open", n, "") {
				// What each backend delivered, field for field but the times.
				v.ID, v.Key, v.FirstSeen, v.LastSeen, v.RunCount = 0, "", time.Time{}, time.Time{}, 0
				b, _ := json.Marshal(v)
				received[backend] = append(received[backend], string(b))
			}
			sort.Strings(received[backend])
			first := waitRun(t, e, server, store.RunFinalized)
			if first.Received != n || !first.Started || first.CompletedAt == nil {
				t.Fatalf("run %+v: want %d violations and both markers", first, n)
			}

			// Redis away for 30 s: three audits at 10 s.
			e.Redis.Pause()
			down := time.Now()
			time.Sleep(30 * time.Second)
			if err := e.Redis.Start(ctx); err != nil {
				t.Fatal(err)
			}
			up := time.Now()
			// Wait for two runs that started after Redis came back to be
			// finalised, then judge the runs that started while it was down.
			deadline := time.Now().Add(4 * time.Minute)
			var runs []store.Run
			for {
				runs = consumerRuns(t, server)
				after := 0
				for _, r := range runs {
					if r.ID.After(up) && r.State == store.RunFinalized {
						after++
					}
				}
				if after >= 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no two runs finalised after Redis came back; runs %+v; consumer log:\n%s", runs,
						e.Kubelet.Logs(cluster.SubscriberNS, "violations-", "violations"))
				}
				time.Sleep(time.Second)
			}
			during, missing := 0, 0
			for _, r := range runs {
				// Runs that started while Redis was down (ids are to the second).
				if r.ID.Before(down.Truncate(time.Second)) || r.ID.After(up) {
					continue
				}
				during++
				if r.State != store.RunFinalized || r.Received != n || !r.Started || r.CompletedAt == nil {
					missing += n + 2 - r.Received - b2i(r.Started) - b2i(r.CompletedAt != nil)
					t.Logf("%s: run %s during the outage: %s, %d of %d violations, started marker %v, completed marker %v",
						backend, r.ID.Format(time.RFC3339), r.State, r.Received, n, r.Started, r.CompletedAt != nil)
				}
			}
			// Runs whose every message was lost never reach the consumer:
			// count them from the audit's own log.
			audited := auditRunsBetween(e.AuditLog(), down.Truncate(time.Second), up)
			if unseen := audited - during; unseen > 0 {
				missing += unseen * (n + 2)
				t.Logf("%s: %d runs of the outage never reached the consumer", backend, unseen)
			}
			lost[backend] = missing
			t.Logf("%s: Redis down %s; %d audit runs started meanwhile, %d reached the consumer; messages lost: %d",
				backend, up.Sub(down).Round(time.Second), audited, during, missing)
			if backend == "disk" && (missing != 0 || audited == 0) {
				t.Fatalf("through pubsub-forward %d messages of %d runs during the outage were lost, want none", missing, audited)
			}
		})
	}
	t.Logf("Redis stopped 30 s across audits of %d violations every %d s: lost through pubsub-forward %d, through Gatekeeper's Dapr driver %d",
		n, interval, lost["disk"], lost["dapr"])
	if a, b := strings.Join(received["disk"], "\n"), strings.Join(received["dapr"], "\n"); a != b {
		t.Fatalf("the violations differ by backend:\ndisk:\n%s\ndapr:\n%s", a, b)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func consumerRuns(t *testing.T, server string) []store.Run {
	t.Helper()
	var l api.RunList
	if err := getJSON(server+"/api/v1/runs?limit=100", &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// auditRunsBetween counts the audit runs Gatekeeper's log says started in
// [from, to].
func auditRunsBetween(log string, from, to time.Time) int {
	n := 0
	for _, id := range auditIDs(log) {
		at, err := time.Parse(time.RFC3339, id)
		if err == nil && !at.Before(from) && !at.After(to) {
			n++
		}
	}
	return n
}

// auditIDs are the ids of the audit runs Gatekeeper's JSON log says
// started (event_type audit_started).
func auditIDs(log string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		i := strings.Index(line, "{")
		if i < 0 || !strings.Contains(line, `"event_type":"audit_started"`) {
			continue
		}
		var l struct {
			AuditID string `json:"audit_id"`
		}
		if json.Unmarshal([]byte(line[i:]), &l) == nil && l.AuditID != "" && !seen[l.AuditID] {
			seen[l.AuditID] = true
			ids = append(ids, l.AuditID)
		}
	}
	return ids
}

func getJSON(url string, into any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return json.Unmarshal(b, into)
}

// TestGatekeeperChartWithForwarder: Gatekeeper's own chart (v3.23.1) with
// the values of docs/gatekeeper-chart-disk-values.yaml, which the chart's
// NOTES print, runs its audit with the disk driver and pubsub-forward as
// its export sidecar; our chart (audit.deploy=false) adds the Component
// and the consumer, which receives every violation and both markers.
func TestGatekeeperChartWithForwarder(t *testing.T) {
	const version, n = "v3.23.1", 4
	if err := os.RemoveAll(diskRoot); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(diskRoot) })
	e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}})
	ctx := context.Background()
	if err := e.PrepareNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	gk := map[string]any{}
	if err := yaml.Unmarshal(readRepoFile(t, "docs", "gatekeeper-chart-disk-values.yaml"), &gk); err != nil {
		t.Fatal(err)
	}
	cluster.MergeValues(gk, map[string]any{"disableAudit": false, "auditInterval": 5})
	if _, err := e.InstallGatekeeper(ctx, version, gk); err != nil {
		t.Fatal(err)
	}
	values := e.ChartValues(version, 5)
	values["audit"] = map[string]any{"enablePubsub": true, "deploy": false, "exportBackend": "disk"}
	values["subscriber"] = map[string]any{"enabled": false}
	values["consumer"] = map[string]any{"enabled": true, "namespace": cluster.SubscriberNS, "createNamespace": false, "runGrace": "2s"}
	if _, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, values, false); err != nil {
		t.Fatal(err)
	}
	applyPolicy(t, e, version, n)
	server := consumerAPI(t, e)
	waitViolations(t, e, server, "open", n, "")
	r := waitRun(t, e, server, store.RunFinalized)
	if r.Received != n || !r.Started || r.CompletedAt == nil {
		t.Fatalf("run %+v: want %d violations and both markers through Gatekeeper's chart's sidecar", r, n)
	}
	if !strings.Contains(e.Kubelet.Logs(cluster.GatekeeperNS, "gatekeeper-audit-", "pubsub-forward"), `"msg":"run forwarded"`) {
		t.Fatalf("pubsub-forward in Gatekeeper's audit pod forwarded no run:\n%s", e.Kubelet.Logs(cluster.GatekeeperNS, "gatekeeper-audit-", "pubsub-forward"))
	}
}

func readRepoFile(t *testing.T, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
