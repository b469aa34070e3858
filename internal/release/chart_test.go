package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const valuesDoc = `# Top comment.
tests:
  enabled: true

  image:
    # pubsub-send image repository.
    repository: gatekeeper-pubsub/pubsub-send
    # empty means the chart's version.
    tag: ""   # trailing comment
    pullPolicy: IfNotPresent
list:
  - a
`

func TestPinValues(t *testing.T) {
	for _, c := range []struct {
		name    string
		pins    map[string]string
		want    []string // lines that must be in the output
		wantErr string
	}{
		{name: "repository and tag", pins: map[string]string{
			"tests.image.repository": "127.0.0.1:5000/gatekeeper-pubsub/pubsub-send",
			"tests.image.tag":        "0.1.0@sha256:abc",
		}, want: []string{
			`    repository: "127.0.0.1:5000/gatekeeper-pubsub/pubsub-send"` + "\n",
			`    tag: "0.1.0@sha256:abc"   # trailing comment` + "\n",
		}},
		{name: "plain scalar", pins: map[string]string{"tests.image.pullPolicy": "Always"}, want: []string{`    pullPolicy: "Always"` + "\n"}},
		{name: "missing key", pins: map[string]string{"tests.image.digest": "x"}, wantErr: "values.yaml has no tests.image.digest"},
		{name: "not a mapping", pins: map[string]string{"tests.enabled.x": "x"}, wantErr: "tests.enabled is not a mapping"},
		{name: "not a scalar", pins: map[string]string{"list": "x"}, wantErr: "list is not a one-line scalar"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := PinValues([]byte(valuesDoc), c.pins)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// Everything else is unchanged, blank lines and comments included.
			in, got := strings.Split(valuesDoc, "\n"), strings.Split(string(out), "\n")
			if len(in) != len(got) {
				t.Fatalf("%d lines, want %d", len(got), len(in))
			}
			changed := 0
			for i := range in {
				if in[i] != got[i] {
					changed++
				}
			}
			if changed != len(c.pins) {
				t.Errorf("%d lines changed, want %d:\n%s", changed, len(c.pins), out)
			}
		})
	}
}

func TestChartPins(t *testing.T) {
	pins := ChartPins([]Image{
		{Name: "pubsub-send", Repository: "r/gatekeeper-pubsub/pubsub-send", Tag: "1.0.0", Digest: "sha256:aa"},
		{Name: "fake-subscriber", Repository: "r/gatekeeper-pubsub/fake-subscriber", Tag: "1.0.0", Digest: "sha256:bb"},
		{Name: "pubsub-lint", Repository: "r/gatekeeper-pubsub/pubsub-lint", Tag: "1.0.0", Digest: "sha256:cc"},
		{Name: "violations", Repository: "r/gatekeeper-pubsub/violations", Tag: "1.0.0", Digest: "sha256:dd"},
		{Name: "pubsub-forward", Repository: "r/gatekeeper-pubsub/pubsub-forward", Tag: "1.0.0", Digest: "sha256:ee"},
		{Name: GatekeeperImageName, Repository: "mirror.example:5000/hub/openpolicyagent/gatekeeper", Tag: "v3.18.3", Digest: "sha256:ff"},
	})
	want := map[string]string{
		"image.registry":                   "mirror.example:5000",
		"image.repository":                 "hub/openpolicyagent/gatekeeper",
		"image.release":                    "v3.18.3",
		"image.digest":                     "sha256:ff",
		"tests.image.repository":           "r/gatekeeper-pubsub/pubsub-send",
		"tests.image.tag":                  "1.0.0@sha256:aa",
		"subscriber.image.repository":      "r/gatekeeper-pubsub/fake-subscriber",
		"subscriber.image.tag":             "1.0.0@sha256:bb",
		"subscriber.image.pullPolicy":      "IfNotPresent",
		"consumer.image.repository":        "r/gatekeeper-pubsub/violations",
		"consumer.image.tag":               "1.0.0@sha256:dd",
		"consumer.image.pullPolicy":        "IfNotPresent",
		"audit.forwarder.image.repository": "r/gatekeeper-pubsub/pubsub-forward",
		"audit.forwarder.image.tag":        "1.0.0@sha256:ee",
		"audit.forwarder.image.pullPolicy": "IfNotPresent",
	}
	if len(pins) != len(want) {
		t.Errorf("pins %v, want %v", pins, want)
	}
	for k, v := range want {
		if pins[k] != v {
			t.Errorf("%s = %q, want %q", k, pins[k], v)
		}
	}
}

// TestPackageChart packages the repository's chart with pins: the pinned
// values pass the chart's schema, and a version other than the chart's is
// refused.
func TestPackageChart(t *testing.T) {
	dir := filepath.Join("..", "..", "charts", "gatekeeper-pubsub")
	imgs := []Image{
		{Name: "pubsub-send", Repository: "127.0.0.1:5000/gatekeeper-pubsub/pubsub-send", Tag: "x", Digest: "sha256:" + strings.Repeat("a", 64)},
		{Name: "fake-subscriber", Repository: "127.0.0.1:5000/gatekeeper-pubsub/fake-subscriber", Tag: "x", Digest: "sha256:" + strings.Repeat("b", 64)},
		{Name: "pubsub-forward", Repository: "127.0.0.1:5000/gatekeeper-pubsub/pubsub-forward", Tag: "x", Digest: "sha256:" + strings.Repeat("e", 64)},
	}
	gk, err := ChartGatekeeperVersion(dir)
	if err != nil {
		t.Fatal(err)
	}
	imgs = append(imgs, Image{Name: GatekeeperImageName, Repository: "127.0.0.1:5000/openpolicyagent/gatekeeper", Tag: gk, Digest: "sha256:" + strings.Repeat("f", 64)})
	version := chartVersion(t, dir)
	for _, c := range []struct {
		name, version, wantErr string
	}{
		{"the chart's version", version, ""},
		{"another version", version + "-other", "version"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file, err := PackageChart(dir, c.version, ChartPins(imgs), imgs, t.TempDir())
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(file) != "gatekeeper-pubsub-"+c.version+".tgz" {
				t.Errorf("file %s", file)
			}
			if err := CheckChartVersion(dir, c.version); err != nil {
				t.Error(err)
			}
		})
	}
}

func chartVersion(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "version: "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("Chart.yaml has no version")
	return ""
}
