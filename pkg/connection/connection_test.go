package connection_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/connection"
)

// TestProblems: every form, read from a decoded object as the linter reads
// it, gives the typed value and its problems with their fields, positions
// and pointers.
func TestProblems(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	const res = "apiVersion: connection.gatekeeper.sh/v1alpha1\nkind: Connection\nmetadata: {name: c, namespace: ns}\n"
	tests := []struct {
		name         string
		in           string
		form         connection.Form
		driver       string
		problems     []connection.ProblemKind
		field        string // of the first problem
		line, column int    // of a Syntax problem
		pointer      string // of a Schema problem
	}{
		{name: "provider", in: cm + "data: {provider: dapr, config: '{\"component\": \"p\"}'}\n", form: connection.ConfigMapProvider, driver: "dapr"},
		{name: "driver", in: cm + "data: {driver: dapr, config: '{\"component\": \"p\"}'}\n", form: connection.ConfigMapDriver, driver: "dapr"},
		{name: "resource", in: res + "spec: {driver: disk, config: {path: /tmp/v, maxAuditResults: 1}}\n", form: connection.Resource, driver: "disk"},
		{name: "no data", in: cm, problems: []connection.ProblemKind{connection.NoData}, field: "data"},
		{name: "no spec", in: res, form: connection.Resource, problems: []connection.ProblemKind{connection.NoData}, field: "spec"},
		{name: "no provider", in: cm + "data: {config: '{}'}\n", problems: []connection.ProblemKind{connection.NoDriver}, field: "data.provider"},
		{name: "empty driver", in: res + "spec: {driver: ' ', config: {}}\n", form: connection.Resource, driver: " ",
			problems: []connection.ProblemKind{connection.NoDriver}, field: "spec.driver"},
		{name: "unknown driver, JSON still checked", in: cm + "data: {provider: kafka, config: '{'}\n", driver: "kafka",
			problems: []connection.ProblemKind{connection.UnknownDriver, connection.Syntax}, field: "data.provider", line: 1, column: 1},
		{name: "no config", in: cm + "data: {provider: dapr}\n", driver: "dapr", problems: []connection.ProblemKind{connection.NoConfig}, field: "data.config"},
		{name: "config as a YAML map", in: cm + "data: {provider: dapr, config: {component: p}}\n", driver: "dapr",
			problems: []connection.ProblemKind{connection.Syntax}, field: "data.config"},
		{name: "syntax on line 2", in: cm + "data:\n  provider: dapr\n  config: |\n    {\"component\": \"p\",\n     }\n", driver: "dapr",
			problems: []connection.ProblemKind{connection.Syntax}, field: "data.config", line: 2, column: 2},
		{name: "schema", in: cm + "data: {provider: dapr, config: '{\"component\": \"\"}'}\n", driver: "dapr",
			problems: []connection.ProblemKind{connection.Schema}, field: "data.config/component", pointer: "/component"},
		{name: "resource schema", in: res + "spec: {driver: disk, config: {path: /tmp/v, maxAuditResults: 9}}\n", form: connection.Resource, driver: "disk",
			problems: []connection.ProblemKind{connection.Schema}, field: "spec.config/maxAuditResults", pointer: "/maxAuditResults"},
		{name: "disk in a ConfigMap", in: cm + "data: {driver: disk, config: '{\"path\": \"/tmp/v\"}'}\n", form: connection.ConfigMapDriver, driver: "disk",
			problems: []connection.ProblemKind{connection.UnknownDriver}, field: "data.driver"},
		{name: "wrong apiVersion", in: "apiVersion: v1\nkind: Connection\nmetadata: {name: c}\nspec: {driver: dapr, config: {component: p}}\n",
			form: connection.Resource, driver: "dapr", problems: []connection.ProblemKind{connection.WrongAPIVersion}, field: "apiVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(tt.in), &obj); err != nil {
				t.Fatal(err)
			}
			c := connection.FromObject(obj, "default")
			var kinds []connection.ProblemKind
			for _, p := range c.Problems {
				kinds = append(kinds, p.Kind)
			}
			if c.Form != tt.form || c.Driver != tt.driver || !reflect.DeepEqual(kinds, tt.problems) {
				t.Fatalf("form %v driver %q problems %v, want %v %q %v (%+v)", c.Form, c.Driver, kinds, tt.form, tt.driver, tt.problems, c.Problems)
			}
			if c.Namespace == "" {
				t.Errorf("no namespace: want the object's or the default")
			}
			if len(tt.problems) == 0 {
				if c.Err() != nil || len(c.Config) == 0 {
					t.Errorf("Err %v, Config %v: want none and a decoded config", c.Err(), c.Config)
				}
				return
			}
			p := c.Problems[0]
			if p.FieldString() != tt.field {
				t.Errorf("field %q, want %q", p.FieldString(), tt.field)
			}
			var ce *connection.Error
			if err := c.Err(); !errors.As(err, &ce) || ce.Field != tt.field || ce.Object == "" {
				t.Errorf("Err() = %v, want a *connection.Error at %q naming the object", err, tt.field)
			}
			if sp, ok := c.Problem(connection.Syntax); ok && (sp.Line != tt.line || sp.Column != tt.column) {
				t.Errorf("syntax problem at %d:%d, want %d:%d (%v)", sp.Line, sp.Column, tt.line, tt.column, sp.Err)
			}
			if sp, ok := c.Problem(connection.Schema); ok && sp.Pointer != tt.pointer {
				t.Errorf("schema problem at %q, want %q", sp.Pointer, tt.pointer)
			}
		})
	}
}

// TestReadDir: a ConfigMap mounted as files reads as the ConfigMap does.
func TestReadDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit-connection")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"provider": "dapr", "config": `{"component": "pubsub"}`} {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := connection.ReadDir(dir)
	if err != nil || c.Err() != nil {
		t.Fatalf("ReadDir: %v, %v", err, c.Err())
	}
	if c.Name != "audit-connection" || c.Driver != "dapr" || c.Config["component"] != "pubsub" || c.Source != dir {
		t.Fatalf("read %+v", c)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(`{"component": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, _ := connection.ReadDir(dir); c.Err() == nil {
		t.Fatal("a config that fails the schema read without a problem")
	}
}
