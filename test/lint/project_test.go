package lint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
)

// redisTLSValues are chart values with the default Redis over TLS, for the
// tests that lint the chart about other rules and want no finding at all.
var redisTLSValues = filepath.Join("testdata", "redis-tls-values.yaml")

// TestProjectIsClean lints what the project ships: the chart with its
// defaults, with pubsub on, with the subscriber and the consumer, exporting
// to disk through pubsub-forward, and every kustomize overlay on its own (the linter lints all its paths as one
// setup, and each overlay is a setup of its own). None may have a finding
// but the redis-no-tls warning on each Component of the default Redis (the
// quick start's, without TLS): plainRedis of them, no more, no fewer.
func TestProjectIsClean(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(root, "charts", "gatekeeper-pubsub")
	type tc struct {
		name       string
		opts       lint.Options
		plainRedis int
	}
	tests := []tc{
		{"chart running the audit", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{"audit.deploy=true"}}, 0},
		{"chart pubsub", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{"audit.enablePubsub=true"}}, 1},
		{"chart pubsub with Redis over TLS", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{"audit.enablePubsub=true", "subscriber.enabled=true", "consumer.enabled=true", "consumer.appId=violations"},
			ValueFiles: []string{redisTLSValues}}, 0},
		// networkPolicy.enabled changes no object the linter reads.
		{"chart pubsub with NetworkPolicies", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{"audit.enablePubsub=true", "subscriber.enabled=true", "networkPolicy.enabled=true"},
			ValueFiles: []string{redisTLSValues}}, 0},
		{"chart pubsub and subscriber", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{"audit.enablePubsub=true", "subscriber.enabled=true"}}, 2},
		{"chart pubsub and consumer", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{"audit.enablePubsub=true", "consumer.enabled=true"}}, 2},
		// Alert routes: the ConfigMap, its projected volume with the
		// Secrets' keys, and --alerts-config (consumer-alert-*).
		{"chart consumer with alerts", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{
			"audit.enablePubsub=true", "consumer.enabled=true", "consumer.alerts.routes[0].name=chat", "consumer.alerts.routes[0].slack.urlSecret.name=alert-slack",
			"consumer.alerts.routes[0].slack.urlSecret.key=url", "consumer.alerts.routes[1].name=hook", "consumer.alerts.routes[1].webhook.url=https://hooks.example/v",
			"consumer.alerts.routes[1].webhook.tokenSecret.name=alert-webhooks", "consumer.alerts.routes[1].webhook.tokenSecret.key=token"}}, 2},
		{"chart consumer with reports", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{"audit.enablePubsub=true", "consumer.enabled=true", "consumer.reports.enabled=true"}}, 2},
		{"chart consumer with postgres, replicas and scopes", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{
			"audit.enablePubsub=true", "consumer.enabled=true", "consumer.store.type=postgres", "consumer.store.postgres.existingSecret=violations-store",
			"consumer.replicas=3", "component.scopes={audit}"}}, 2},
		// The consumer needs an app-id of its own beside the subscriber
		// (consumer-app-id-shared; TestProjectChartConsumerAppID).
		{"chart pubsub, subscriber and consumer", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{
			"audit.enablePubsub=true", "subscriber.enabled=true", "consumer.enabled=true", "consumer.appId=violations", "component.scopes={audit}"}}, 3},
		// The disk export with pubsub-forward (forwarder-* rules, and the
		// Dapr rules on the forwarder's daprd).
		{"chart disk export", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{
			"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk"}}, 1},
		{"chart disk export with subscriber, consumer and scopes", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{
			"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk", "audit.channel=violations", "config.component=broker",
			"subscriber.enabled=true", "consumer.enabled=true", "consumer.appId=violations", "component.scopes={audit}"}}, 3},
		{"chart disk export for Gatekeeper's audit", lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: []string{
			"audit.enablePubsub=true", "gatekeeperVersion=v3.23.1", "audit.exportBackend=disk", "audit.deploy=false"}}, 1},
	}
	charts := len(tests)
	overlays, err := filepath.Glob(filepath.Join(root, "kustomize", "overlays", "*"))
	if err != nil {
		t.Fatal(err)
	}
	// The overlays on the quick start's Redis; quickstart-tls and
	// production-kafka (Kafka) have no plain Redis.
	plainRedis := map[string]int{"quickstart": 2, "consumer": 2, "consumer-alerts": 2, "export-disk": 1}
	for _, o := range overlays {
		if st, err := os.Stat(o); err == nil && st.IsDir() {
			tests = append(tests, tc{"overlay " + filepath.Base(o), lint.Options{Paths: []string{o}}, plainRedis[filepath.Base(o)]})
		}
	}
	if len(tests)-charts < 2 {
		t.Fatalf("found %d kustomize overlays, want at least 2", len(tests)-charts)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := lint.Run(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Objects == 0 {
				t.Fatal("linted no objects")
			}
			warned := 0
			for _, f := range res.Findings {
				if f.Rule == "redis-no-tls" && f.Severity == "warning" {
					warned++
					continue
				}
				t.Errorf("%s:%d:%d: %s %s: %s", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
			}
			if warned != tt.plainRedis {
				t.Errorf("%d redis-no-tls warnings, want %d (one per Component of the quick start's Redis, without TLS)", warned, tt.plainRedis)
			}
		})
	}
}

// TestProjectChartMisconfigured proves the chart is really linted: values
// that make the subscriber listen on another channel are caught.
func TestProjectChartMisconfigured(t *testing.T) {
	chart, err := filepath.Abs(filepath.Join("..", "..", "charts", "gatekeeper-pubsub"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system",
		Set: []string{"audit.enablePubsub=true", "subscriber.enabled=true", "subscriber.channel=other-channel"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Findings {
		if f.Rule == "subscriber-channel-mismatch" {
			found = true
			if f.File == "" || f.Line == 0 {
				t.Errorf("finding without a position: %+v", f)
			}
		}
	}
	if !found {
		t.Fatalf("no subscriber-channel-mismatch finding; got %+v", res.Findings)
	}
}

// TestProjectChartConsumerAppID: the chart's consumer and subscriber with
// one app-id would share a consumer group on the same Redis (the rule
// consumer-app-id-shared): the chart refuses to render it, and the linter
// passes the chart's message on, as a finding on the --set that gave the
// value (chart-values-invalid).
func TestProjectChartConsumerAppID(t *testing.T) {
	chart, err := filepath.Abs(filepath.Join("..", "..", "charts", "gatekeeper-pubsub"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system",
		Set: []string{"audit.enablePubsub=true", "subscriber.enabled=true", "subscriber.appId=subscriber", "consumer.enabled=true", "consumer.appId=subscriber"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Findings {
		if f.Rule == lint.ChartValuesRule && f.Severity == "error" && strings.HasPrefix(f.Message, "--set consumer.appId=subscriber: ") &&
			strings.Contains(f.Message, "consumer.appId subscriber is also subscriber.appId") {
			found = true
		}
	}
	if !found {
		t.Fatalf("lint of the chart with one app-id for both: %+v, want the chart's refusal on --set consumer.appId", res.Findings)
	}
}

// TestKustomizePositions: a finding in kustomize output points at the
// original file and field, through the origin annotations kustomize
// records (the kustomization does not have to ask for them).
func TestKustomizePositions(t *testing.T) {
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{filepath.Join("testdata", "kustomize-origin")}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s", filepath.ToSlash(f.File), f.Line, f.Rule))
	}
	want := "testdata/kustomize-origin/connection.yaml:8 connection-config-json"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("findings %q, want [%q]", got, want)
	}
}

// TestProjectKustomizeTree: `pubsub-lint kustomize/` lints each
// kustomization deployed on its own (the overlays) as its own setup, leaves
// the components and the base to the overlays that use them, and reports a
// finding of a file two overlays share once. Linted as one setup, the tree
// gave 14 errors, 21 warnings (repeated) and 4 inputs that could not load.
func TestProjectKustomizeTree(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "kustomize")
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	overlays, err := filepath.Glob(filepath.Join(dir, "overlays", "*", "kustomization.yaml"))
	if err != nil || len(overlays) < 2 {
		t.Fatalf("overlays %v %v", overlays, err)
	}
	if res.InputErrors() != 0 || res.Count(rules.Error) != 0 {
		for _, f := range res.Findings {
			t.Errorf("%s:%d: %s %s: %s", f.File, f.Line, f.Severity, f.Rule, f.Message)
		}
		t.Fatalf("%d input errors, %d errors", res.InputErrors(), res.Count(rules.Error))
	}
	seen := map[string]bool{}
	plainRedis := 0
	for _, f := range res.Findings {
		k := fmt.Sprintf("%s:%d:%d %s %s", f.File, f.Line, f.Column, f.Rule, f.Message)
		if seen[k] {
			t.Errorf("reported twice: %s", k)
		}
		seen[k] = true
		if f.Rule == "redis-no-tls" {
			plainRedis++
		} else {
			t.Errorf("%s: %s %s: %s", f.File, f.Severity, f.Rule, f.Message)
		}
	}
	// The components with the quick start's plain Redis, each once.
	if plainRedis != 3 {
		t.Errorf("%d redis-no-tls warnings, want 3 (audit-pubsub, subscriber, consumer)", plainRedis)
	}
	want := fmt.Sprintf("holds %d setups", len(overlays))
	found := false
	for _, n := range res.Notes {
		found = found || strings.Contains(n, want)
	}
	if !found {
		t.Errorf("no note that the tree %s: %q", want, res.Notes)
	}
}
