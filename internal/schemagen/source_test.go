package schemagen

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/schemagen/gosource"
	"golang.org/x/mod/modfile"
)

// TestExtractWithSource: source facts are merged into the schema.
func TestExtractWithSource(t *testing.T) {
	f, err := Extract("testdata/contrib", "v0.0.0", GoSource{Dir: "testdata/contribsrc", Version: "v0.0.0-src", ModCache: "testdata/modcache"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Source.GoModule != "github.com/dapr/components-contrib" || f.Source.GoVersion != "v0.0.0-src" {
		t.Errorf("source = %+v", f.Source)
	}
	files, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
		XDapr      struct {
			Deprecated []string          `json:"deprecated"`
			ReplacedBy map[string]string `json:"replacedBy"`
			GoSource   string            `json:"goSource"`
		} `json:"x-dapr"`
	}
	if err := json.Unmarshal(files["pubsub/pubsub.fake.queue.schema.json"], &s); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"source-only key added", s.Properties["exchange"]["enum"], []any{"fanout", "direct"}},
		{"metadata.yaml enum kept, source says it is an error", s.Properties["mode"]["x-otherValues"], "error"},
		{"yaml spelling kept", s.Properties["retries"]["$ref"], "#/$defs/number"},
		{"caseless values are a pattern", s.Properties["auth"]["pattern"], "^(?:[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]|[Nn][Oo][Nn][Ee])$"},
		{"caseless values listed", s.Properties["auth"]["x-allowedValues"], []any{"password", "none"}},
		{"source type", s.Properties["timeout"]["$ref"], "#/$defs/duration"},
		{"deprecated key kept", s.Properties["server"]["deprecated"], true},
		{"replacement", s.Properties["server"]["x-replacedBy"], "host"},
		{"deprecated list", s.XDapr.Deprecated, []string{"old", "legacy", "server", "useAzureAD"}},
		{"replacements", s.XDapr.ReplacedBy, map[string]string{"server": "host", "useAzureAD": "useEntraID"}},
		{"go source", s.XDapr.GoSource, "github.com/dapr/components-contrib v0.0.0-src pubsub/fake"},
	}
	for _, tc := range tests {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	re := regexp.MustCompile(s.Properties["auth"]["pattern"].(string))
	if !re.MatchString("PASSWORD") || re.MatchString("passwords") {
		t.Error("caseless pattern does not match as Dapr compares")
	}
}

func TestCaselessPattern(t *testing.T) {
	for value, tests := range map[string]map[string]bool{
		"SHA-256":   {"sha-256": true, "SHA-256": true, "SHA256": false},
		"a.b":       {"A.B": true, "axb": false},
		"AzurePub1": {"azurepub1": true, "azurepub": false},
	} {
		re := regexp.MustCompile("^" + caselessPattern(value) + "$")
		for in, want := range tests {
			if re.MatchString(in) != want {
				t.Errorf("%q against %s: want %v", in, caselessPattern(value), want)
			}
		}
	}
}

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

func goModCache(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// contribSource returns the components-contrib module that dapr/dapr
// v1.14.0 requires, from the module proxy.
func contribSource(t *testing.T) (*gosource.Tree, string) {
	t.Helper()
	_, gomod := moduleDir(t, "github.com/dapr/dapr", "v1.14.0")
	b, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax(gomod, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	version := ""
	for _, r := range mf.Require {
		if r.Mod.Path == "github.com/dapr/components-contrib" {
			version = r.Mod.Version
		}
	}
	if version == "" {
		t.Fatal("dapr/dapr v1.14.0 does not require components-contrib")
	}
	dir, _ := moduleDir(t, "github.com/dapr/components-contrib", version)
	tree, err := gosource.Open(dir, goModCache(t))
	if err != nil {
		t.Fatal(err)
	}
	return tree, version
}

// TestCommittedSourceFactsAreUpstream: the committed facts' source part is
// what gosource.Keys reads from the components-contrib module daprd v1.14.0
// is built with, and the keys that matter to users are there.
func TestCommittedSourceFactsAreUpstream(t *testing.T) {
	tree, version := contribSource(t)
	f, _ := committedFacts(t)
	if f.Source.GoVersion != version {
		t.Errorf("facts read Go source %s, dapr v1.14.0 requires %s", f.Source.GoVersion, version)
	}
	byType := map[string][]gosource.Key{}
	for _, c := range f.Components {
		if c.Source == nil {
			t.Errorf("%s has no source facts", c.Type)
			continue
		}
		got, err := gosource.Keys(tree, c.Source.Dir)
		if err != nil {
			t.Fatalf("%s: %v", c.Type, err)
		}
		if !reflect.DeepEqual(got, c.Source.Keys) {
			t.Errorf("%s: committed source facts differ from %s; regenerate them (hack/schemagen -data ... -source ...)", c.Type, c.Source.Dir)
		}
		byType[c.Type] = got
	}
	find := func(typ, name string) gosource.Key {
		for _, k := range byType[typ] {
			if k.Name == name {
				k.From, k.ValuesFrom = "", ""
				return k
			}
		}
		return gosource.Key{}
	}
	tests := []struct {
		typ  string
		want gosource.Key
	}{
		{"pubsub.rabbitmq", gosource.Key{Name: "concurrencyMode", AllowedValues: []string{"single", "parallel"}, OtherValues: "error"}},
		{"pubsub.rabbitmq", gosource.Key{Name: "host", Deprecated: true, ReplacedBy: "connectionString"}},
		{"pubsub.rabbitmq", gosource.Key{Name: "exchangeKind", AllowedValues: []string{"fanout", "topic", "direct", "headers"}, OtherValues: "error"}},
		{"pubsub.kafka", gosource.Key{Name: "authRequired", Deprecated: true, ReplacedBy: "authType"}},
		{"pubsub.kafka", gosource.Key{Name: "authType", AllowedValues: []string{"none", "password", "oidc", "mtls", "certificate", "awsiam"}, CaseInsensitive: true, OtherValues: "error"}},
		{"pubsub.kafka", gosource.Key{Name: "initialOffset", AllowedValues: []string{"oldest", "newest"}, CaseInsensitive: true, OtherValues: "error"}},
		{"pubsub.redis", gosource.Key{Name: "redisType", AllowedValues: []string{"cluster", "node"}, OtherValues: "ignored"}},
		{"pubsub.aws.snssqs", gosource.Key{Name: "concurrencyMode", AllowedValues: []string{"single", "parallel"}, OtherValues: "error"}},
		{"pubsub.azure.servicebus.topics", gosource.Key{Name: "publishInitialRetryInternalInMs", Deprecated: true, ReplacedBy: "publishInitialRetryIntervalInMs"}},
		{"pubsub.jetstream", gosource.Key{Name: "deliverPolicy", AllowedValues: []string{"all", "last", "new", "sequence", "time"}, OtherValues: "error"}},
	}
	for _, tc := range tests {
		if got := find(tc.typ, tc.want.Name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s: got %+v, want %+v", tc.typ, tc.want.Name, got, tc.want)
		}
	}
	// redis's state-store-only legacy keys are not pubsub keys.
	for _, k := range []string{"maxRetries", "maxRetryBackoff", "queryIndexes", "ttlInSeconds"} {
		if find("pubsub.redis", k).Name != "" {
			t.Errorf("pubsub.redis must not read %s", k)
		}
	}
}

// TestRuntimeKeysMatchDapr: RuntimeKeys are the keys daprd v1.14.0's
// pubsub processor reads for every component (pkg/scopes included).
func TestRuntimeKeysMatchDapr(t *testing.T) {
	dir, _ := moduleDir(t, "github.com/dapr/dapr", "v1.14.0")
	tree, err := gosource.Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := gosource.Keys(tree, "pkg/runtime/processor/pubsub")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, strings.ToLower(k.Name))
	}
	var want []string
	for _, k := range RuntimeKeys {
		want = append(want, strings.ToLower(k))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("daprd reads %v, RuntimeKeys are %v", got, want)
	}
}

// TestDriversMatchGatekeeper checks Drivers against Gatekeeper's source:
// the providers of v3.13.0, v3.17.0 and v3.18.0 (ConfigMap), the drivers of
// v3.23.1 (Connection), and the disk driver's keys and bounds.
func TestDriversMatchGatekeeper(t *testing.T) {
	byForm := map[string][]string{}
	var disk Driver
	for _, d := range Drivers() {
		for _, f := range d.Forms {
			byForm[f] = append(byForm[f], d.Name)
		}
		if d.Name == "disk" {
			disk = d
		}
	}
	tests := []struct {
		version, file, mapVar, form string
	}{
		{"v3.13.0", "pkg/pubsub/provider/provider.go", "pubSubs", FormConfigMap},
		{"v3.17.0", "pkg/pubsub/provider/provider.go", "pubSubs", FormConfigMap},
		{"v3.18.0", "pkg/pubsub/provider/provider.go", "pubSubs", FormConfigMap},
		{"v3.23.1", "pkg/export/system.go", "supportedDrivers", FormConnection},
	}
	var gk231 string
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			dir, _ := moduleDir(t, "github.com/open-policy-agent/gatekeeper/v3", tc.version)
			if tc.version == "v3.23.1" {
				gk231 = dir
			}
			got := mapKeyNames(t, dir, tc.file, tc.mapVar)
			slices.Sort(got)
			want := append([]string(nil), byForm[tc.form]...)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s registers %v; Drivers() for %s: %v", tc.version, tc.file, got, tc.form, want)
			}
		})
	}
	if gk231 == "" {
		return
	}
	consts := fileConsts(t, filepath.Join(gk231, "pkg/export/disk/disk.go"))
	src, err := os.ReadFile(filepath.Join(gk231, "pkg/export/disk/disk.go"))
	if err != nil {
		t.Fatal(err)
	}
	props := disk.Config.vals["properties"].(*object)
	if consts["maxAuditResults"] != "maxAuditResults" || consts["violationPath"] != "path" || !bytes.Contains(src, []byte(`cfg["closedConnectionTTL"]`)) {
		t.Errorf("disk's keys changed: %v", consts)
	}
	if max := props.vals["maxAuditResults"].(*object).vals["maximum"]; strconv.Itoa(max.(int)) != consts["maxAllowedAuditRuns"] {
		t.Errorf("maxAuditResults maximum %v, Gatekeeper's maxAllowedAuditRuns %s", max, consts["maxAllowedAuditRuns"])
	}
	rng := props.vals["closedConnectionTTL"].(*object).vals["x-durationRange"].(*object)
	for k, c := range map[string]string{"minimum": "minConnectionAge", "maximum": "maxConnectionAge"} {
		d, _ := time.ParseDuration(rng.vals[k].(string))
		if got := consts[c]; got != strconv.FormatInt(int64(d), 10) {
			t.Errorf("closedConnectionTTL %s %s, Gatekeeper's %s is %s ns", k, d, c, got)
		}
	}
}

// mapKeyNames returns the keys of a package-level map literal whose keys
// are pkg.Name constants, resolved in the imported packages.
func mapKeyNames(t *testing.T, root, file, varName string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, file), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]string{}
	for _, is := range f.Imports {
		p, _ := strconv.Unquote(is.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if is.Name != nil {
			name = is.Name.Name
		}
		imports[name] = strings.TrimPrefix(p, "github.com/open-policy-agent/gatekeeper/v3/")
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != varName || len(vs.Values) != 1 {
			return true
		}
		ast.Inspect(vs.Values[0], func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			sel, ok := kv.Key.(*ast.SelectorExpr)
			if !ok {
				t.Errorf("%s: key %T is not pkg.Name", file, kv.Key)
				return false
			}
			pkg := imports[sel.X.(*ast.Ident).Name]
			entries, _ := os.ReadDir(filepath.Join(root, pkg))
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
					if v, ok := fileConsts(t, filepath.Join(root, pkg, e.Name()))[sel.Sel.Name]; ok {
						out = append(out, v)
					}
				}
			}
			return false
		})
		return false
	})
	return out
}

// fileConsts evaluates a file's string constants and simple duration and
// integer constants (n, n * time.Unit) to strings (durations in ns).
func fileConsts(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]int64{"Second": int64(time.Second), "Minute": int64(time.Minute), "Hour": int64(time.Hour)}
	var eval func(e ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				s, err := strconv.Unquote(e.Value)
				return s, err == nil
			}
			return e.Value, e.Kind == token.INT
		case *ast.SelectorExpr:
			if u, ok := units[e.Sel.Name]; ok {
				return strconv.FormatInt(u, 10), true
			}
		case *ast.BinaryExpr:
			a, ok1 := eval(e.X)
			b, ok2 := eval(e.Y)
			x, err1 := strconv.ParseInt(a, 10, 64)
			y, err2 := strconv.ParseInt(b, 10, 64)
			if ok1 && ok2 && err1 == nil && err2 == nil && e.Op == token.MUL {
				return strconv.FormatInt(x*y, 10), true
			}
		}
		return "", false
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i < len(vs.Values) {
					if v, ok := eval(vs.Values[i]); ok {
						out[n.Name] = v
					}
				}
			}
		}
	}
	return out
}
