// Package lint_test runs pubsub-lint on fixtures: the quick start in Gatekeeper's pubsub documentation
// (clean) and, per rule, a copy that triggers it (bad) and a near miss that
// does not (good), comparing every output format with golden files.
package lint_test

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/output"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
)

var update = flag.Bool("update", false, "rewrite the golden outputs")

const quickstart = "testdata/quickstart"

// goldenExt names the golden file of each format.
var goldenExt = map[string]string{"text": "want.txt", "json": "want.json", "sarif": "want.sarif", "github": "want.github"}

// cases: the rules each fixture must report, exactly.
var cases = []struct {
	dir  string
	want []string
}{
	{"connection-not-found/bad", []string{"connection-not-found"}},
	{"connection-not-found/good", nil},
	{"connection-wrong-namespace/bad", []string{"connection-wrong-namespace"}},
	{"connection-wrong-namespace/good", nil},
	{"connection-duplicate/bad", []string{"connection-duplicate"}},
	{"connection-duplicate/good", nil},
	{"connection-driver-missing/bad", []string{"connection-driver-missing"}},
	{"connection-driver-missing/good", nil},
	{"connection-driver-unknown/bad", []string{"connection-driver-unknown"}},
	{"connection-driver-unknown/good", nil},
	{"connection-config-json/bad", []string{"connection-config-json"}},
	{"connection-config-json/good", nil},
	{"connection-config-schema/bad", []string{"connection-config-schema"}},
	{"connection-config-schema/good", nil},
	{"component-not-found/bad", []string{"component-not-found"}},
	{"component-not-found/good", nil},
	{"component-not-pubsub/bad", []string{"component-not-pubsub"}},
	{"component-not-pubsub/good", nil},
	{"component-schema/bad", []string{"component-schema", "component-secret-plaintext"}},
	{"component-schema/good", nil},
	{"component-metadata-required/bad", []string{"component-metadata-required"}},
	{"component-metadata-required/good", nil},
	{"component-metadata-unknown/bad", []string{"component-metadata-required", "component-metadata-unknown"}},
	{"component-metadata-unknown/good", nil},
	{"component-metadata-type/bad", []string{"component-metadata-type"}},
	{"component-metadata-type/good", nil},
	{"component-secret-plaintext/bad", []string{"component-secret-plaintext"}},
	{"component-secret-plaintext/good", nil},
	{"component-scopes/bad", []string{"component-scopes"}},
	{"component-scopes/good", nil},
	{"audit-pubsub-disabled/bad", []string{"audit-pubsub-disabled"}},
	{"audit-pubsub-disabled/good", nil},
	{"audit-flag-value/bad", []string{"audit-flag-value"}},
	{"audit-flag-value/good", nil},
	{"audit-dapr-disabled/bad", []string{"audit-dapr-disabled"}},
	{"audit-dapr-disabled/good", nil},
	{"audit-sidecar-seccomp/bad", []string{"audit-sidecar-seccomp"}},
	{"audit-sidecar-seccomp/good", nil},
	{"audit-pod-security/bad", []string{"audit-pod-security"}},
	{"audit-pod-security/flag", []string{"audit-pod-security"}},
	{"audit-pod-security/good", nil},
	{"gatekeeper-version-mismatch/bad", []string{"gatekeeper-version-mismatch"}},
	{"gatekeeper-version-mismatch/good", nil},
	{"subscriber-broker-mismatch/bad", []string{"subscriber-broker-mismatch"}},
	{"subscriber-broker-mismatch/good", nil},
	{"subscriber-channel-mismatch/bad", []string{"subscriber-channel-mismatch"}},
	{"subscriber-channel-mismatch/good", nil},
	{"ignore-annotation/good", nil},
	// The engine's own findings: a suppressed finding with its reason
	// (SARIF suppressions), an ignore annotation naming no rule, a chart
	// whose values its schema or a fail check refuses (findings on the
	// values file's lines and the --set flag), and inputs without any
	// object of the setup.
	{"ignore-annotation/reason", nil},
	{"ignore-rule-unknown/bad", []string{"connection-driver-unknown", "ignore-rule-unknown"}},
	// (The chart's connection ConfigMap is not rendered, so the audit's
	// connection is not found.)
	{"chart-values-invalid/bad", []string{"chart-values-invalid", "connection-not-found"}},
	{"chart-values-invalid/fail", []string{"chart-values-invalid", "connection-not-found"}},
	{"chart-values-invalid/good", nil},
	{"setup-empty/bad", []string{"setup-empty"}},
	// Fixtures of the rules about how Gatekeeper reads the audit's command
	// line, what it needs to start, and the PodSecurity level of its
	// Namespace.
	{"audit-args-ignored/bad", []string{"audit-args-ignored"}},
	{"audit-args-ignored/good", nil},
	{"audit-start-requirements/bad", []string{"audit-start-requirements"}},
	{"audit-start-requirements/flag", []string{"audit-start-requirements"}},
	{"audit-start-requirements/good", nil},
	{"audit-generate-missing/bad", []string{"audit-generate-missing"}},
	{"audit-generate-missing/good", nil},
	{"audit-pod-security-unenforced/bad", []string{"audit-pod-security-unenforced"}},
	{"audit-pod-security-unenforced/privileged", []string{"audit-pod-security-unenforced"}},
	{"audit-pod-security-unenforced/good", nil},
	{"audit-pod-security/baseline", []string{"audit-pod-security", "audit-pod-security-unenforced"}},
	{"audit-sidecar-seccomp/namespace", []string{"audit-sidecar-seccomp"}},
	// Fixtures of Gatekeeper's export drivers and of the metadata facts
	// read from the components' Go source.
	{"component-metadata-deprecated/bad", []string{"component-metadata-deprecated"}},
	{"component-metadata-deprecated/good", nil},
	{"component-metadata-type/enum", []string{"component-metadata-type"}},
	{"driver-disk/good", nil},
	{"driver-disk/bad", []string{"connection-driver-unknown"}},
	{"driver-disk/schema", []string{"connection-config-schema"}},
	{"metadata-not-string/bad", []string{"metadata-not-string"}},
	{"metadata-not-string/good", nil},
	{"connection-config-json/yaml-map", []string{"connection-config-json"}},
	{"helm-values-unknown/bad", []string{"helm-values-unknown"}},
	{"helm-values-unknown/good", nil},
	{"assumed-audit/bad", []string{"connection-wrong-namespace"}},
	{"assumed-audit/good", nil},
	// Fixtures of the violations consumer (`violations serve`): its store,
	// its app-id, the scopes of its Component, and its alert routes.
	{"consumer-sqlite-replicas/bad", []string{"consumer-sqlite-replicas"}},
	{"consumer-sqlite-replicas/good", nil},
	{"consumer-store-plaintext/bad", []string{"consumer-store-plaintext"}},
	{"consumer-store-plaintext/good", nil},
	{"consumer-app-id-shared/bad", []string{"consumer-app-id-shared"}},
	{"consumer-app-id-shared/good", nil},
	{"component-scopes/consumer", []string{"component-scopes"}},
	{"consumer-alert-url-plain/bad", []string{"consumer-alert-url-plain"}},
	{"consumer-alert-url-plain/good", nil},
	{"consumer-alerts-config-unmounted/bad", []string{"consumer-alerts-config-unmounted"}},
	{"consumer-alerts-config-unmounted/good", nil},
	// Fixtures of the disk export with pubsub-forward beside the audit's
	// manager: the forwarder's path, volume, topic and the runs the driver
	// keeps, and the Dapr checks, which apply to the forwarder's daprd.
	{"driver-disk/forwarder", nil},
	{"driver-disk/forwarder-component", []string{"component-not-found"}},
	{"driver-disk/forwarder-dapr-disabled", []string{"audit-dapr-disabled"}},
	{"forwarder-path-mismatch/bad", []string{"forwarder-path-mismatch"}},
	{"forwarder-path-mismatch/good", nil},
	{"forwarder-path-mismatch/dapr-driver", []string{"forwarder-path-mismatch"}},
	{"forwarder-volume-not-shared/bad", []string{"forwarder-volume-not-shared"}},
	{"forwarder-volume-not-shared/good", nil},
	{"forwarder-volume-not-shared/manager", []string{"forwarder-volume-not-shared"}},
	{"forwarder-topic-mismatch/bad", []string{"forwarder-topic-mismatch"}},
	{"forwarder-topic-mismatch/good", nil},
	{"forwarder-topic-mismatch/command", []string{"forwarder-topic-mismatch"}},
	{"forwarder-retention-short/bad", []string{"forwarder-retention-short"}},
	{"forwarder-retention-short/good", nil},
	{"forwarder-retention-short/threshold", []string{"forwarder-retention-short"}},
	// Redis without TLS. The quick start's Components have none, which
	// TestQuickStart asserts; the other fixtures leave the rule out
	// (caseOptions) so that each reports its own rule only.
	{"redis-no-tls/bad", []string{"redis-no-tls"}},
	{"redis-no-tls/good", nil},
	{"redis-no-tls/unknown", nil},
	// The quick start's audit Component has no maxLenApprox either
	// (TestQuickStart); other fixtures leave the rule out likewise.
	{"redis-stream-unbounded/bad", []string{"redis-stream-unbounded"}},
	{"redis-stream-unbounded/good", nil},
	{"redis-stream-unbounded/zero", []string{"redis-stream-unbounded"}},
	{"jetstream-durable-missing/bad", []string{"jetstream-durable-missing"}},
	{"jetstream-durable-missing/good", nil},
	// What daprd and its injector do not load: a pubsub type or version it
	// does not have, secrets it cannot resolve, dapr.io/ annotations it
	// does not read.
	{"component-type-unknown/bad", []string{"component-type-unknown"}},
	{"component-type-unknown/good", nil},
	{"component-version-unknown/bad", []string{"component-version-unknown"}},
	{"component-version-unknown/good", nil},
	{"component-secret-key-missing/bad", []string{"component-secret-key-missing"}},
	{"component-secret-key-missing/good", nil},
	{"component-secret-not-found/bad", []string{"component-secret-not-found"}},
	{"component-secret-not-found/good", nil},
	{"component-secret-store-unknown/bad", []string{"component-secret-store-unknown"}},
	{"component-secret-store-unknown/good", nil},
	{"dapr-annotation-unknown/bad", []string{"dapr-annotation-unknown"}},
	{"dapr-annotation-unknown/good", nil},
	// Where a setup meets what is installed: the subscriber's namespace
	// without its Component, the whole setup in default beside an audit
	// in gatekeeper-system, Gatekeeper's documented closedConnectionTTL: 600
	// (ignored, not rejected; its quoted "600" is rejected), and a setup
	// rendered for another Gatekeeper version than the audit runs.
	{"subscriber-component-not-found/bad", []string{"subscriber-component-not-found"}},
	{"subscriber-component-not-found/good", nil},
	{"component-wrong-namespace/bad", []string{"component-wrong-namespace", "connection-wrong-namespace"}},
	{"component-wrong-namespace/good", nil},
	{"connection-config-ignored/bad", []string{"connection-config-ignored"}},
	{"connection-config-ignored/good", nil},
	{"connection-config-schema/ttl-string", []string{"connection-config-schema"}},
	{"setup-gatekeeper-version-mismatch/bad", []string{"setup-gatekeeper-version-mismatch"}},
	{"setup-gatekeeper-version-mismatch/good", nil},
	{"subscriber-app-port/bad", []string{"subscriber-app-port"}},
	{"subscriber-app-port/good", nil},
	{"dapr-app-protocol/bad", []string{"dapr-app-protocol"}},
	{"dapr-app-protocol/good", nil},
}

// TestQuickStart: the quick-start manifests of Gatekeeper's pubsub
// documentation have no error; their weaknesses are Redis without TLS,
// warned about on both Components, and the audit's unbounded stream.
func TestQuickStart(t *testing.T) {
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{quickstart}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s %s %s %s", filepath.ToSlash(f.File), f.Line, f.Severity, f.Rule, f.Object, f.Field))
	}
	want := []string{
		"testdata/quickstart/components.yaml:11 warning redis-no-tls Component fake-subscriber/pubsub spec.metadata",
		"testdata/quickstart/components.yaml:27 warning redis-no-tls Component gatekeeper-system/pubsub spec.metadata",
		"testdata/quickstart/components.yaml:27 warning redis-stream-unbounded Component gatekeeper-system/pubsub spec.metadata",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Objects != 5 || res.Files != 4 {
		t.Errorf("read %d objects in %d files, want 5 in 4", res.Objects, res.Files)
	}
}

// TestEveryRuleHasFixtures: each rule has a bad and a good fixture.
func TestEveryRuleHasFixtures(t *testing.T) {
	have := map[string]bool{}
	for _, c := range cases {
		have[c.dir] = true
	}
	// Rules about what only a cluster shows are tested against the real
	// API server in test/cluster (TestLintLiveCluster).
	liveOnly := map[string]bool{"audit-sidecar-not-injected": true, "component-secret-unchecked": true}
	for _, r := range rules.All() {
		if liveOnly[r.ID] {
			continue
		}
		for _, v := range []string{"bad", "good"} {
			if !have[r.ID+"/"+v] {
				t.Errorf("rule %s has no %s fixture", r.ID, v)
			}
		}
	}
}

func TestRules(t *testing.T) {
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "cases", c.dir)
			opts := caseOptions(t, dir)
			res, err := lint.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := ruleSet(res); !reflect.DeepEqual(got, c.want) {
				for _, f := range res.Findings {
					t.Logf("%s:%d:%d: %s %s", f.File, f.Line, f.Column, f.Rule, f.Message)
				}
				t.Errorf("rules found %v, want %v", got, c.want)
			}
			for format, name := range goldenExt {
				var buf bytes.Buffer
				if err := output.Write(format, &buf, res); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join(dir, name), buf.Bytes())
			}
		})
	}
}

// caseOptions lints the quick start with the case's files replacing (or,
// for NAME.omit, removing) the quick start's files of the same name;
// "flags" holds name=value lines.
func caseOptions(t *testing.T, dir string) (opts lint.Options) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]bool{}
	var paths []string
	for _, e := range entries {
		n := e.Name()
		switch {
		case strings.HasSuffix(n, ".omit"):
			own[strings.TrimSuffix(n, ".omit")] = true
		case strings.HasSuffix(n, ".yaml"):
			own[n] = true
			paths = append(paths, filepath.Join(dir, n))
		case e.IsDir():
			// A chart of the case's own.
			if _, err := os.Stat(filepath.Join(dir, n, "Chart.yaml")); err == nil {
				paths = append(paths, filepath.Join(dir, n))
			}
		}
	}
	base, err := os.ReadDir(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range base {
		if !own[e.Name()] {
			paths = append(paths, filepath.Join(quickstart, e.Name()))
		}
	}
	sort.Strings(paths)
	opts = lint.Options{Paths: paths}
	// The quick start's Components have no TLS: outside its own fixtures
	// redis-no-tls is left out, so that each fixture reports its rule only.
	for _, rule := range []string{"redis-no-tls", "redis-stream-unbounded"} {
		if !strings.HasPrefix(filepath.ToSlash(dir), "testdata/cases/"+rule+"/") {
			defer func() {
				if opts.Config == nil {
					opts.Config = &lint.Config{}
				}
				opts.Config.Disable = append(opts.Config.Disable, rule)
			}()
		}
	}
	f, err := os.Open(filepath.Join(dir, "flags"))
	if os.IsNotExist(err) {
		return opts
	} else if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		switch k {
		case "namespace":
			opts.Namespace = v
		case "gatekeeper-namespace":
			opts.Assume.GatekeeperNamespace = v
		case "audit-connection":
			opts.Assume.AuditConnection = v
		case "audit-channel":
			opts.Assume.AuditChannel = v
		case "set":
			opts.Set = append(opts.Set, v)
		case "values":
			// A -f file of the case's chart, relative to the case.
			opts.ValueFiles = append(opts.ValueFiles, filepath.Join(dir, v))
		case "dapr-drop-all-capabilities":
			b := v == "true"
			opts.Assume.DaprDropAllCapabilities = &b
		case "forwarder-min-retention":
			// .pubsub-lint.yaml's settings.forwarderMinRetention.
			c, err := lint.ParseConfig([]byte("settings: {forwarderMinRetention: " + v + "}"))
			if err != nil {
				t.Fatal(err)
			}
			opts.Config = c
		case "":
		default:
			t.Fatalf("flags: unknown %q", k)
		}
	}
	return opts
}

func ruleSet(res *lint.Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range res.Findings {
		if !seen[f.Rule] {
			seen[f.Rule] = true
			out = append(out, f.Rule)
		}
	}
	sort.Strings(out)
	return out
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./test/lint -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output:\n%s", path, got)
	}
}
