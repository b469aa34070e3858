package lint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// endless is an endless stream of "a: b\n".
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "a: b\n"[i%5]
	}
	return len(p), nil
}

func TestNote(t *testing.T) {
	var r Result
	r.Note("assumed %s is %d", "x", 1)
	r.Note("plain")
	if want := []string{"assumed x is 1", "plain"}; !slices.Equal(r.Notes, want) {
		t.Errorf("notes %q, want %q", r.Notes, want)
	}
	// Notes of loading come first, and a slice given is not aliased.
	load := make([]string, 1, 4)
	load[0] = "skipped a"
	if err := r.addInputs(load, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"skipped a", "assumed x is 1", "plain"}; !slices.Equal(r.Notes, want) {
		t.Errorf("notes %q, want %q", r.Notes, want)
	}
	if load[:2][1] != "" {
		t.Error("addInputs wrote into the caller's slice")
	}
}

const badConnection = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {provider: Dapr, config: '{\"component\": \"pubsub\"}'}\n"

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunCollectsInputErrors: an input that cannot be loaded is reported
// with its path and cause; every other input is still linted.
func TestRunCollectsInputErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"conn.yaml":                        badConnection,
		"bad.yaml":                         "a: b\n c: d\n",
		"list.json":                        "[1, 2",
		"broken-chart/Chart.yaml":          "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
		"broken-chart/templates/x.yaml":    "{{ .Values.nope.deeper }}\n",
		"broken-kust/kustomization.yaml":   "resources: [missing.yaml]\n",
		"good-kust/kustomization.yaml":     "resources: [cm.yaml]\n",
		"good-kust/cm.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n",
		"sub/deeper/also-bad.yml":          "kind: [\n",
		"sub/deeper/fine.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n",
		"sub/deeper/not-a-manifest.txt":    "a: b\n c: d\n",
		"sub/.hidden/bad.yaml":             "a: b\n c: d\n",
		"sub/deeper/.also-hidden-bad.yaml": "a: b\n c: d\n",
	})
	res, err := Run(context.Background(), Options{Paths: []string{dir}})
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	for _, f := range res.Findings {
		t.Logf("%s:%d: %s %s", f.File, f.Line, f.Rule, f.Message)
	}
	want := []struct {
		path, inMessage string
		line            int
	}{
		{filepath.Join(dir, "bad.yaml"), "invalid YAML", 2},
		{filepath.Join(dir, "broken-chart"), "nope", 0},
		{filepath.Join(dir, "broken-kust"), "missing.yaml", 0},
		{filepath.Join(dir, "list.json"), "invalid YAML", 1},
		{filepath.Join(dir, "sub", "deeper", "also-bad.yml"), "invalid YAML", 1},
	}
	if len(res.Errors) != len(want) {
		t.Fatalf("%d input errors, want %d: %v", len(res.Errors), len(want), res.Errors)
	}
	if err == nil || res.InputErrors() != len(want) {
		t.Errorf("Run error %v, %d input-error findings; want the input errors", err, res.InputErrors())
	}
	for i, w := range want {
		var ie *InputError
		if !errors.As(res.Errors[i], &ie) || ie.Path != w.path || ie.Line != w.line || !strings.Contains(ie.Error(), w.inMessage) || !strings.Contains(ie.Error(), w.path) {
			t.Errorf("input error %d: %#v (%v), want %s line %d with %q", i, ie, res.Errors[i], w.path, w.line, w.inMessage)
		}
		if !slices.ContainsFunc(res.Findings, func(f Finding) bool {
			return f.Rule == InputErrorRule && f.Severity == "error" && f.File == w.path && f.Line == w.line && strings.Contains(f.Message, w.inMessage)
		}) {
			t.Errorf("no input-error finding for %s", w.path)
		}
	}
	if !slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.Rule == "connection-driver-unknown" }) {
		t.Error("the valid connection ConfigMap was not linted")
	}
	// conn.yaml, the good kustomization's cm.yaml and fine.yaml.
	if res.Files != 3 || res.Objects != 3 {
		t.Errorf("linted %d objects in %d files, want 3 in 3", res.Objects, res.Files)
	}
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[len(res.Notes)-1], "5 inputs could not be loaded") {
		t.Errorf("notes %q: want one saying 5 inputs could not be loaded", res.Notes)
	}
}

func TestRunInputErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"conn.yaml": badConnection, "big.yaml": badConnection + strings.Repeat("# padding\n", 100)})
	conn, big := filepath.Join(dir, "conn.yaml"), filepath.Join(dir, "big.yaml")
	for _, tt := range []struct {
		name     string
		opts     Options
		want     []string // in the input errors, in order
		is       error
		findings bool // conn.yaml's finding is there
	}{
		{"missing PATH", Options{Paths: []string{filepath.Join(dir, "none.yaml"), conn}}, []string{"none.yaml: no such file"}, os.ErrNotExist, true},
		{"file over the limit", Options{Paths: []string{big, conn}, MaxInputBytes: 512}, []string{"reading " + big + ": input too large: more than 512 bytes, the --max-input-bytes limit"}, ErrInputTooLarge, true},
		{"file within the limit", Options{Paths: []string{big}, MaxInputBytes: 64 << 10}, nil, nil, true},
		{"stdin over the limit", Options{Paths: []string{StdinPath, conn}, Stdin: endless{}, MaxInputBytes: 1 << 10}, []string{"reading standard input: input too large: more than 1Ki (1024 bytes)"}, ErrInputTooLarge, true},
		{"stdin syntax", Options{Paths: []string{StdinPath}, Stdin: strings.NewReader("a: b\n c: d\n")}, []string{"<stdin>:2: invalid YAML"}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), tt.opts)
			if res == nil {
				t.Fatalf("no result: %v", err)
			}
			if len(res.Errors) != len(tt.want) || (err == nil) != (len(tt.want) == 0) {
				t.Fatalf("errors %v (Run: %v), want %q", res.Errors, err, tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(res.Errors[i].Error(), w) {
					t.Errorf("error %q, want %q", res.Errors[i], w)
				}
				if tt.is != nil && !errors.Is(res.Errors[i], tt.is) {
					t.Errorf("error %v is not %v", res.Errors[i], tt.is)
				}
			}
			if got := slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.Rule == "connection-driver-unknown" }); got != tt.findings {
				t.Errorf("connection linted: %v, want %v", got, tt.findings)
			}
		})
	}
}

// tinyChart writes a chart that renders a ConfigMap with its values and the
// Kubernetes version it was rendered for.
func tinyChart(t *testing.T, dir string) {
	t.Helper()
	writeFiles(t, dir, map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: tiny\nversion: 0.1.0\nkubeVersion: \">=1.25.0-0\"\n",
		"values.yaml": "config: none\nother: none\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tiny, namespace: {{ .Release.Namespace }}}\n" +
			"data:\n  config: {{ .Values.config | quote }}\n  other: {{ .Values.other | quote }}\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n",
	})
}

func TestChartFlags(t *testing.T) {
	dir := t.TempDir()
	chart := filepath.Join(dir, "charts", "tiny")
	tinyChart(t, chart)
	writeFiles(t, dir, map[string]string{
		"plain/conn.yaml": badConnection,
		"config.json":     `{"component": "pubsub"}`,
		"values.yaml":     "other: from-values\n",
		"big-values.yaml": "other: " + strings.Repeat("x", 4096) + "\n",
	})
	plain := filepath.Join(dir, "plain")
	cfg, vals, bigVals := filepath.Join(dir, "config.json"), filepath.Join(dir, "values.yaml"), filepath.Join(dir, "big-values.yaml")
	for _, tt := range []struct {
		name string
		opts Options
		// want: data of the chart's ConfigMap; err: Run's error without a
		// result; inputErr: an input error; note: a note.
		want                map[string]any
		err, inputErr, note string
		errIs, inputErrIs   error
		objectNamespace     string
	}{
		{name: "set-file", opts: Options{Paths: []string{chart}, SetFile: []string{"config=" + cfg}, ValueFiles: []string{vals}, Namespace: "ns"},
			want: map[string]any{"config": `{"component": "pubsub"}`, "other": "from-values", "kube": "v1.37.0"}, objectNamespace: "ns"},
		{name: "kube-version", opts: Options{Paths: []string{chart}, KubeVersion: "v1.30.2", Set: []string{"config=a"}, SetString: []string{"other=1"}},
			want: map[string]any{"config": "a", "other": "1", "kube": "v1.30.2"}},
		{name: "kube-version the chart refuses", opts: Options{Paths: []string{chart}, KubeVersion: "v1.20.0"},
			inputErr: "incompatible with Kubernetes v1.20.0"},
		{name: "chart found in a directory", opts: Options{Paths: []string{dir}, Set: []string{"config=b"}},
			want: map[string]any{"config": "b", "other": "none", "kube": "v1.37.0"}},
		{name: "set without a chart", opts: Options{Paths: []string{plain}, Set: []string{"a=b"}}, err: "no Helm chart among the inputs", errIs: ErrNoChart},
		{name: "values without a chart", opts: Options{Paths: []string{plain}, ValueFiles: []string{vals}}, errIs: ErrNoChart},
		{name: "set-string without a chart", opts: Options{Paths: []string{StdinPath}, Stdin: strings.NewReader(""), SetString: []string{"a=b"}}, errIs: ErrNoChart},
		{name: "set-file without a chart", opts: Options{Paths: []string{plain}, SetFile: []string{"a=" + cfg}}, errIs: ErrNoChart},
		{name: "a missing PATH says more than no chart", opts: Options{Paths: []string{filepath.Join(dir, "chart-typo")}, Set: []string{"a=b"}}, inputErr: "chart-typo", inputErrIs: os.ErrNotExist},
		{name: "kube-version without a chart", opts: Options{Paths: []string{plain}, KubeVersion: "v1.30.0"}, note: "--kube-version v1.30.0 has no effect: no Helm chart among the inputs"},
		{name: "values file over the limit", opts: Options{Paths: []string{chart}, ValueFiles: []string{bigVals}, MaxInputBytes: 1024},
			inputErr: "--values " + bigVals + ": input too large: more than 1Ki (1024 bytes)", inputErrIs: ErrInputTooLarge},
		{name: "set-file over the limit", opts: Options{Paths: []string{chart}, SetFile: []string{`a\,b=x,config=` + bigVals}, MaxInputBytes: 1024},
			inputErr: "--set-file " + bigVals, inputErrIs: ErrInputTooLarge},
		{name: "values file is a directory", opts: Options{Paths: []string{chart}, ValueFiles: []string{plain}},
			inputErr: "--values " + plain + ": not a regular file but a directory", inputErrIs: ErrNotRegular},
		{name: "values from stdin and stdin a PATH", opts: Options{Paths: []string{chart, StdinPath}, ValueFiles: []string{"-"}, Stdin: strings.NewReader("")}, err: "--values -: standard input is already a PATH"},
		{name: "set-file from stdin and stdin a PATH", opts: Options{Paths: []string{chart, StdinPath}, SetFile: []string{"config=-"}, Stdin: strings.NewReader("")}, err: "--set-file -: standard input is already a PATH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			all, _, loadErr := Load(context.Background(), tt.opts)
			res, err := Run(context.Background(), tt.opts)
			if tt.err != "" || tt.errIs != nil {
				if res != nil || err == nil || !strings.Contains(err.Error(), tt.err) || (tt.errIs != nil && !errors.Is(err, tt.errIs)) {
					t.Fatalf("Run = %v, %v; want no result and an error %q (%v)", res, err, tt.err, tt.errIs)
				}
				if loadErr == nil || loadErr.Error() != err.Error() {
					t.Errorf("Load error %v, want Run's", loadErr)
				}
				return
			}
			if res == nil {
				t.Fatalf("no result: %v", err)
			}
			if tt.inputErr != "" {
				if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), tt.inputErr) || (tt.inputErrIs != nil && !errors.Is(res.Errors[0], tt.inputErrIs)) {
					t.Fatalf("input errors %v, want one with %q (%v)", res.Errors, tt.inputErr, tt.inputErrIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.note != "" && !slices.Contains(res.Notes, tt.note) {
				t.Errorf("notes %q, want %q", res.Notes, tt.note)
			}
			if tt.want == nil {
				return
			}
			i := slices.IndexFunc(all, func(o render.Object) bool { return o.Name() == "tiny" })
			if i < 0 {
				t.Fatalf("no ConfigMap tiny among %d objects", len(all))
			}
			data, _ := all[i].Obj["data"].(map[string]any)
			for k, v := range tt.want {
				if data[k] != v {
					t.Errorf("data.%s = %q, want %q", k, data[k], v)
				}
			}
			if tt.objectNamespace != "" && all[i].Namespace() != tt.objectNamespace {
				t.Errorf("namespace %q, want %q", all[i].Namespace(), tt.objectNamespace)
			}
		})
	}
}
