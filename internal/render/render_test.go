package render

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestSplitYAML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // "Kind name @line"
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "only separators and comments", in: "---\n# c\n---\n\n---\n", want: nil},
		{name: "null document", in: "---\nnull\n", want: nil},
		{
			name: "two documents",
			in:   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# comment\n\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n",
			want: []string{"ConfigMap a @1", "Secret b @8"},
		},
		{
			name: "leading separator and trailing marker comment",
			in:   "--- # first\nkind: A\nmetadata: {name: x}\n...\n---\nkind: B\nmetadata: {name: yy}\n",
			want: []string{"A x @2", "B yy @6"},
		},
		{
			name: "json",
			in:   `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}`,
			want: []string{"ConfigMap j @1"},
		},
		{
			name: "list is expanded",
			in:   "apiVersion: v1\nkind: List\nitems:\n- kind: A\n  metadata: {name: a}\n- kind: B\n  metadata: {name: b}\n",
			want: []string{"A a @1", "B b @1"},
		},
		{
			name:    "syntax error names file and absolute line",
			in:      "kind: A\n---\nkind: B\nmetadata:\n  name: [x\n",
			wantErr: "in.yaml:5: ",
		},
		{
			name:    "scalar document",
			in:      "kind: A\n---\njust a string\n",
			wantErr: "in.yaml:3: document is a string, not a mapping",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := SplitYAML("in.yaml", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.Kind()+" "+o.Name()+" @"+itoa(o.Line))
				if o.Source != "in.yaml" {
					t.Errorf("source = %q", o.Source)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSplitYAMLErrorLine(t *testing.T) {
	_, err := SplitYAML("f.yaml", []byte("kind: A\n---\nkind: B\nmetadata:\n  name: [x\n  other: 1\n"))
	if err == nil {
		t.Fatal("no error")
	}
	// The document starts on line 3; the unclosed list is on line 5 of the
	// file (line 3 of the document, which the YAML library reports).
	if !strings.HasPrefix(err.Error(), "f.yaml:5: ") {
		t.Errorf("error %q does not point at f.yaml:5", err)
	}
}

func TestSplitYAMLIntegers(t *testing.T) {
	objs, err := SplitYAML("x", []byte("kind: A\nspec:\n  replicas: 3\n  ratio: 0.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := Lookup(objs[0].Obj, "spec", "replicas"); v != int64(3) {
		t.Errorf("replicas = %#v, want int64(3)", v)
	}
	if v, _ := Lookup(objs[0].Obj, "spec", "ratio"); v != 0.5 {
		t.Errorf("ratio = %#v, want 0.5", v)
	}
}

func TestChart(t *testing.T) {
	dir := filepath.Join("testdata", "chart")
	tests := []struct {
		name    string
		opts    ChartOptions
		want    []string // "Kind namespace/name source:line"
		wantErr string
	}{
		{
			name: "defaults in install order without tests or notes",
			opts: ChartOptions{},
			want: []string{
				"ServiceAccount demo mini/templates/sa.yaml:1",
				"ConfigMap demo-cm mini/templates/deploy.yaml:11",
				"Deployment default/demo mini/templates/deploy.yaml:3",
			},
		},
		{
			name: "namespace, set and tests",
			opts: ChartOptions{Namespace: "ns", Set: []string{"name=x"}, IncludeTests: true},
			want: []string{
				"ServiceAccount x mini/templates/sa.yaml:1",
				"ConfigMap x-cm mini/templates/deploy.yaml:11",
				"Deployment ns/x mini/templates/deploy.yaml:3",
				"Pod x-test mini/templates/tests/test.yaml:1",
			},
		},
		{
			name: "values file then set-string",
			opts: ChartOptions{ValueFiles: []string{filepath.Join("testdata", "values-override.yaml")}},
			want: []string{
				"ServiceAccount fromfile mini/templates/sa.yaml:1",
				"ConfigMap fromfile-cm mini/templates/deploy.yaml:11",
				"Deployment default/fromfile mini/templates/deploy.yaml:3",
			},
		},
		{name: "schema names the unknown key", opts: ChartOptions{Set: []string{"nmae=x"}}, wantErr: "nmae"},
		{name: "schema names the wrong type", opts: ChartOptions{SetString: []string{"replicas=2"}}, wantErr: "/replicas"},
		{name: "template fail", opts: ChartOptions{Set: []string{"fail=true"}}, wantErr: "fail is set: unset it"},
		{name: "kube version", opts: ChartOptions{KubeVersion: "not-a-version"}, wantErr: "kube version"},
		{name: "missing values file", opts: ChartOptions{ValueFiles: []string{"testdata/nope.yaml"}}, wantErr: "nope.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Chart(context.Background(), dir, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.String()+" "+o.Position())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestRenderChartNotesAndManifest(t *testing.T) {
	r, err := RenderChart(context.Background(), filepath.Join("testdata", "chart"), ChartOptions{ReleaseName: "rel"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(r.Notes) != "Installed demo." {
		t.Errorf("notes = %q", r.Notes)
	}
	if !strings.Contains(r.Manifest, "# Source: mini/templates/deploy.yaml\n") || !strings.Contains(r.Manifest, "release: rel") {
		t.Errorf("manifest = %s", r.Manifest)
	}
	if strings.Contains(r.Manifest, "NOTES") {
		t.Errorf("manifest has NOTES: %s", r.Manifest)
	}
}

func TestChartCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Chart(ctx, filepath.Join("testdata", "chart"), ChartOptions{}); err == nil {
		t.Fatal("no error for a cancelled context")
	}
}

func TestKustomize(t *testing.T) {
	tests := []struct {
		name    string
		dir     string
		want    []string // "Kind namespace/name source"
		wantErr string
	}{
		{
			name: "legacy order",
			dir:  "testdata/kustomize/base",
			want: []string{
				"Namespace demo testdata/kustomize/base/ns.yaml",
				"ConfigMap demo/settings testdata/kustomize/base/deploy.yaml",
				"Deployment demo/web testdata/kustomize/base/deploy.yaml",
			},
		},
		{
			// Origins are recorded even though the kustomization does not
			// ask for them: Source is the base's file the object came from.
			name: "overlay with labels and patch",
			dir:  "testdata/kustomize/overlay",
			want: []string{
				"Namespace demo testdata/kustomize/base/ns.yaml",
				"ConfigMap demo/settings testdata/kustomize/base/deploy.yaml",
				"Deployment demo/web testdata/kustomize/base/deploy.yaml",
			},
		},
		{
			name: "origin annotations give the file",
			dir:  "testdata/kustomize/origin",
			want: []string{"ConfigMap origin testdata/kustomize/origin/cm.yaml"},
		},
		{name: "missing", dir: "testdata/kustomize/nope", wantErr: "testdata/kustomize/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Kustomize(context.Background(), tt.dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.String()+" "+o.Source)
				if len(o.Annotations()) != 0 {
					t.Errorf("%s keeps annotations %v", o, o.Annotations())
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	objs, err := Kustomize(context.Background(), "testdata/kustomize/overlay")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Kind() == "Deployment" {
			if v, _ := Lookup(o.Obj, "spec", "replicas"); v != int64(3) {
				t.Errorf("replicas = %#v, want int64(3)", v)
			}
			if o.Labels()["team"] != "a" {
				t.Errorf("labels = %v", o.Labels())
			}
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestDefaultKubeVersion keeps DefaultKubeVersion in step with the
// Kubernetes libraries in go.mod, as Helm's Makefile does for its binary.
func TestDefaultKubeVersion(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal("no go.mod:", err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/api v0\.(\d+)\.`).FindSubmatch(data)
	if m == nil {
		t.Fatal("k8s.io/api not in go.mod")
	}
	if want := "v1." + string(m[1]) + ".0"; DefaultKubeVersion != want {
		t.Errorf("DefaultKubeVersion = %s, but go.mod has k8s.io/api v0.%s: set it to %s", DefaultKubeVersion, m[1], want)
	}
}

// TestChartSymlinkOutside: a chart whose symlink leads out of it (here to
// a file beside it, standing for ~/.kube/config) is refused before Helm's
// loader reads it; a symlink inside the chart is fine.
func TestChartSymlinkOutside(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		refused      bool
	}{
		{"outside", "../secret.txt", true},
		{"inside", "values.yaml", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			chartDir := filepath.Join(dir, "c")
			if err := os.MkdirAll(filepath.Join(chartDir, "templates"), 0o755); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{
				filepath.Join(dir, "secret.txt"):                  "token: hunter2\n",
				filepath.Join(chartDir, "Chart.yaml"):             "apiVersion: v2\nname: c\nversion: 0.1.0\n",
				filepath.Join(chartDir, "values.yaml"):            "{}\n",
				filepath.Join(chartDir, "templates", "leak.yaml"): "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\n  annotations:\n    x: {{ .Files.Get \"link\" | quote }}\n",
			}
			for p, c := range files {
				if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(tc.target, filepath.Join(chartDir, "link")); err != nil {
				t.Fatal(err)
			}
			objs, err := Chart(context.Background(), chartDir, ChartOptions{})
			if !tc.refused {
				if err != nil {
					t.Fatalf("chart with an inside symlink refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "link is a symlink to") || !strings.Contains(err.Error(), "outside the chart") {
				t.Fatalf("objects %v, error %v: want the symlink refused", objs, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error prints the file: %v", err)
			}
		})
	}
}
