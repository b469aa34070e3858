package lint_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

// moduleDir downloads a module version through the module proxy (or finds
// it in the module cache) and returns its directory and go.mod file.
func moduleDir(t *testing.T, module, version string) (dir, gomodFile string) {
	t.Helper()
	m, err := gomod.Download(context.Background(), module, version)
	if err != nil {
		t.Fatal(err)
	}
	return m.Dir, m.GoMod
}

func findingsOf(res *lint.Result, rules ...string) []lint.Finding {
	var out []lint.Finding
	for _, f := range res.Findings {
		if len(rules) == 0 || slices.Contains(rules, f.Rule) {
			out = append(out, f)
		}
	}
	return out
}

// TestGatekeeperChartDiskExport lints Gatekeeper's own v3.23.1 chart with
// violation export to disk: a Connection with driver disk and an audit
// without Dapr. It is clean (no unknown driver, no "Dapr not enabled");
// a config Gatekeeper refuses is still caught.
func TestGatekeeperChartDiskExport(t *testing.T) {
	dir, _ := moduleDir(t, "github.com/open-policy-agent/gatekeeper/v3", "v3.23.1")
	chart := filepath.Join(dir, "charts", "gatekeeper")
	set := []string{"enableViolationExport=true", "exportBackend=disk", "audit.connection=audit-connection"}
	tests := []struct {
		name  string
		extra []string
		want  []string // rules
	}{
		{"disk export", nil, nil},
		{"most audit results", []string{"audit.exportConnection.maxAuditResults=5"}, nil},
		{"too many audit results", []string{"audit.exportConnection.maxAuditResults=9"}, []string{"connection-config-schema"}},
		{"path with ..", []string{"audit.exportConnection.path=/tmp/../violations"}, []string{"connection-config-schema"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := lint.Run(context.Background(), lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system",
				Set: append(append([]string(nil), set...), tc.extra...)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.Rule)
				if tc.want == nil {
					t.Errorf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rules %v, want %v", got, tc.want)
			}
		})
	}
	// Without audit.connection, which its values.yaml does not set, the
	// chart renders a Connection without a name: the finding says so and
	// what to set, and suggests no empty name.
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system", Set: set[:2]})
	if err != nil {
		t.Fatal(err)
	}
	found := findingsOf(res, "connection-not-found")
	if len(found) != 1 || !strings.Contains(found[0].Message, "set it to audit-connection") || strings.Contains(found[0].Message, `did you mean ""`) ||
		!strings.HasSuffix(found[0].Message, "the checks of the Dapr side were not run") {
		t.Errorf("connection-not-found findings %+v, want one saying to set audit.connection", found)
	}
}

// TestConnectionMissingDriverUnknown lints Gatekeeper's own charts with
// export on and no connection config among the inputs. v3.17.0 knows only
// the dapr driver, so the missing Dapr annotation is reported too; v3.23.1
// also knows disk, so the driver is unknown: the Dapr checks are not run and
// the connection-not-found finding says so.
func TestConnectionMissingDriverUnknown(t *testing.T) {
	tests := []struct {
		version string
		set     []string
		want    []string // rules, in output order
		says    string   // in the connection-not-found message
		saysNot string
	}{
		{"v3.17.0", []string{"audit.enablePubsub=true"}, []string{"audit-dapr-disabled", "connection-not-found"}, `connection "audit-connection"`, "drivers"},
		{"v3.23.1", []string{"enableViolationExport=true"}, []string{"connection-not-found"}, "knows the drivers dapr, disk, so without the connection config the checks of the Dapr side were not run", ""},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			dir, _ := moduleDir(t, "github.com/open-policy-agent/gatekeeper/v3", tc.version)
			res, err := lint.Run(context.Background(), lint.Options{Paths: []string{filepath.Join(dir, "charts", "gatekeeper")},
				Namespace: "gatekeeper-system", Set: tc.set})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.Rule)
				if f.Rule != "connection-not-found" {
					continue
				}
				if !strings.Contains(f.Message, tc.says) || tc.saysNot != "" && strings.Contains(f.Message, tc.saysNot) || strings.Contains(f.Message, "bytes in all") {
					t.Errorf("connection-not-found says %q; want it to say %q and not %q", f.Message, tc.says, tc.saysNot)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rules %v, want %v", got, tc.want)
			}
		})
	}
}

// TestUpstreamTestComponents lints the pubsub Components that Dapr v1.14.0
// and the components-contrib version it requires use in their own tests
// (tests/config). Keys their code reads are known, deprecated keys are
// reported as such with their replacement, no value is called invalid.
func TestUpstreamTestComponents(t *testing.T) {
	daprDir, gomod := moduleDir(t, "github.com/dapr/dapr", "v1.14.0")
	b, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	version := ""
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/dapr/components-contrib" {
			version = f[1]
		}
	}
	if version == "" {
		t.Fatal("dapr v1.14.0 does not require components-contrib")
	}
	contribDir, _ := moduleDir(t, "github.com/dapr/components-contrib", version)
	var paths []string
	for _, root := range []string{filepath.Join(daprDir, "tests", "config"), filepath.Join(contribDir, "tests", "config", "pubsub")} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return err
			}
			data, err := os.ReadFile(p)
			if err == nil && bytes.Contains(data, []byte("kind: Component")) && bytes.Contains(data, []byte("type: pubsub.")) {
				paths = append(paths, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(paths) < 15 {
		t.Fatalf("found %d upstream pubsub Components files, want at least 15", len(paths))
	}
	var deprecated []string
	for _, p := range paths {
		rel := strings.TrimPrefix(p, filepath.Dir(filepath.Dir(daprDir))+string(filepath.Separator))
		res, err := lint.Run(context.Background(), lint.Options{Paths: []string{p}})
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		for _, f := range findingsOf(res, "component-metadata-unknown", "component-metadata-type", "component-metadata-deprecated") {
			switch {
			case f.Rule == "component-metadata-deprecated":
				deprecated = append(deprecated, f.Message)
			// Dapr's rabbitmq reads reconnectWaitSeconds, not
			// reconnectWait (mapstructure tag in pubsub/rabbitmq/metadata.go):
			// a true finding, and nothing is suggested in its place.
			case f.Rule == "component-metadata-unknown" && strings.Contains(f.Message, `"reconnectWait": Dapr ignores it`) &&
				!strings.Contains(f.Message, "did you mean"):
			default:
				t.Errorf("%s:%d: %s: %s", rel, f.Line, f.Rule, f.Message)
			}
		}
	}
	for _, want := range []string{
		`pubsub.rabbitmq metadata key "host" is deprecated: use "connectionString" instead`,
		`pubsub.kafka metadata key "authRequired" is deprecated: use "authType" instead`,
	} {
		if !slices.ContainsFunc(deprecated, func(m string) bool { return strings.Contains(m, want) }) {
			t.Errorf("no finding %q among %q", want, deprecated)
		}
	}
}
