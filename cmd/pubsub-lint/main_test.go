package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	qs    = "../../test/lint/testdata/quickstart"
	chart = "../../charts/gatekeeper-pubsub"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badConn := write("conn.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {provider: Dapr, config: '{\"component\": \"pubsub\"}'}\n")
	warnOnly := write("sub.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: gatekeeper-audit, namespace: gatekeeper-system}\nspec: {template: {spec: {containers: [{name: manager, image: 'x:v3.18.3', args: [--operation=audit, --enable-external-data=false], securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}}]}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {provider: dapr, config: '{\"component\": \"pubsub\"}'}\n")
	syntax := write("bad.yaml", "a: b\n c: d\n")
	cfg := write("cfg.yaml", "disable: [connection-driver-unknown, component-not-found]\n")
	badCfg := write("badcfg.yaml", "disable: [nope]\n")
	mixed := filepath.Join(dir, "mixed")
	if err := os.Mkdir(mixed, 0o755); err != nil {
		t.Fatal(err)
	}
	write("mixed/conn.yaml", readFile(t, badConn))
	write("mixed/bad.yaml", "a: b\n c: d\n")
	valuesFile := write("values.yaml", "audit: {enablePubsub: true}\n")
	componentType := write("type.txt", "pubsub.redis")
	bindingType := write("binding.txt", "bindings.kafka")
	schemaValues := write("schema-values.yaml", "audit: {enablePubsub: true}\nsubscriber:\n  healthPort: -3\n  helthPort: 8080\n")
	failValues := write("fail-values.yaml", "audit:\n  enablePubsub: true\n# a version without violation export\ngatekeeperVersion: v3.10.0\n")
	const noNamespace = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection}\ndata: {provider: dapr, config: '{\"component\": \"pubsub\"}'}\n"
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string
		stderr string
	}{
		// The quick start: no error; its Redis has no TLS.
		{"warnings pass", []string{qs}, "", 0, "0 errors, 3 warnings in 4 files (5 objects)", ""},
		{"the quick start's Redis without TLS", []string{qs, "--fail-on", "warning"}, "", 1, "warning redis-no-tls: pubsub.redis Component \"pubsub\" has no enableTLS", ""},
		{"error", []string{badConn}, "", 1, "error connection-driver-unknown", ""},
		{"flags after paths", []string{badConn, "--fail-on", "none"}, "", 0, "connection-driver-unknown", ""},
		{"warning passes", []string{warnOnly}, "", 0, "warning audit-pubsub-disabled", ""},
		{"fail on warning", []string{"--fail-on=warning", warnOnly}, "", 1, "audit-pubsub-disabled", ""},
		{"config", []string{"--config", cfg, badConn}, "", 0, "0 errors", ""},
		{"bad config", []string{"--config", badCfg, badConn}, "", 2, "", "unknown rule"},
		{"stdin", []string{"-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {config: x}\n", 1, "<stdin>:4:1: error connection-driver-missing", ""},
		{"missing file", []string{filepath.Join(dir, "none.yaml")}, "", 2, "none.yaml: error input-error: stat ", ""},
		{"syntax", []string{syntax}, "", 2, "bad.yaml:2:1: error input-error: invalid YAML", ""},
		{"syntax in json: stderr too", []string{"--format", "json", syntax}, "", 2, `"rule": "input-error"`, "bad.yaml:2: invalid YAML"},
		{"input error after the findings", []string{mixed}, "", 2, "mixed/bad.yaml:2:1: error input-error: invalid YAML", ""},
		{"findings printed despite an input error", []string{mixed, "--fail-on", "none"}, "", 2, "mixed/conn.yaml:4:18: error connection-driver-unknown", ""},
		{"input error note", []string{mixed}, "", 2, "note: 1 input could not be loaded", ""},
		{"stdin over the limit", []string{"--max-input-bytes", "1Ki", "-"}, strings.Repeat("# comment\n", 200), 2, "<stdin>: error input-error: input too large: more than 1Ki (1024 bytes), the --max-input-bytes limit", ""},
		{"stdin within the limit", []string{"--max-input-bytes=4096", "-"}, strings.Repeat("# comment\n", 200), 0, "0 errors, 1 warning in 1 file (0 objects)", ""},
		{"bad max-input-bytes", []string{"--max-input-bytes", "1.5Gi", qs}, "", 2, "", `invalid value "1.5Gi" for flag -max-input-bytes`},
		{"zero max-input-bytes", []string{"--max-input-bytes", "0", qs}, "", 2, "", "must be positive"},
		{"helm flags", []string{chart, "--set", "audit.enablePubsub=true", "-n", "gatekeeper-system"}, "", 0, "0 errors", ""},
		{"helm long flags", []string{chart, "--values", valuesFile, "--namespace=gatekeeper-system", "--kube-version", "v1.31.0"}, "", 0, "0 errors", ""},
		{"helm -f and --set-file", []string{chart, "-f", valuesFile, "-n", "gatekeeper-system", "--set-file", "component.type=" + componentType}, "", 0, "0 errors", ""},
		// Values the chart's schema or checks refuse are findings on the
		// value, where it was set (exit 1), not input errors.
		{"--set-file reads the file", []string{chart, "--set-file", "component.type=" + bindingType, "--set", "audit.enablePubsub=true"}, "", 1, "<flags>: error chart-values-invalid: --set-file component.type=" + bindingType + ": value component.type: 'bindings.kafka' does not match", ""},
		{"--set-string", []string{chart, "--set-string", "audit.enablePubsub=true", "-n", "gatekeeper-system"}, "", 1, "<flags>: error chart-values-invalid: --set-string audit.enablePubsub=true: value audit.enablePubsub: got string, want boolean (values.schema.json of chart " + chart + ")", ""},
		{"--set: one of a list named", []string{chart, "--set", "audit.enablePubsub=true,subscriber.healthPort=0", "-n", "gatekeeper-system"}, "", 1, "<flags>: error chart-values-invalid: --set subscriber.healthPort=0: value subscriber.healthPort: minimum: got 0, want 1", ""},
		{"schema: the values file's line", []string{chart, "-f", schemaValues, "-n", "gatekeeper-system"}, "", 1, schemaValues + ":3:3: error chart-values-invalid: value subscriber.healthPort: minimum: got -3, want 1", ""},
		{"schema: an unknown key's line", []string{chart, "-f", schemaValues, "-n", "gatekeeper-system"}, "", 1, schemaValues + ":4:3: error chart-values-invalid: value subscriber.helthPort: additional properties 'helthPort' not allowed (did you mean \"healthPort\"?)", ""},
		{"schema: the later source wins", []string{chart, "-f", schemaValues, "--set", "subscriber.healthPort=-5", "-n", "gatekeeper-system"}, "", 1, "--set subscriber.healthPort=-5: value subscriber.healthPort: minimum: got -5, want 1", ""},
		{"fail: the values file's line", []string{chart, "-f", failValues, "-n", "gatekeeper-system"}, "", 1, failValues + ":4:1: error chart-values-invalid: chart " + chart + " refuses the values (the check at " + chart + "/templates/validate.yaml:", ""},
		{"fail: the chart's message", []string{chart, "-f", failValues, "-n", "gatekeeper-system"}, "", 1, "): gatekeeperVersion v3.10.0: publishing violations needs Gatekeeper v3.13.0", ""},
		{"fail: the --set flag", []string{chart, "--set", "audit.enablePubsub=true", "--set", "gatekeeperVersion=v3.10.0", "-n", "gatekeeper-system"}, "", 1, "<flags>: error chart-values-invalid: --set gatekeeperVersion=v3.10.0: chart " + chart + " refuses the values", ""},
		{"values failing: no setup-empty, a note", []string{chart, "-f", failValues}, "", 1, "note: chart " + chart + " was not rendered: its values fail its checks", ""},
		{"values failing: fail-on none", []string{chart, "-f", failValues, "--fail-on", "none"}, "", 0, "1 error, 0 warnings in 0 files", ""},
		{"no -n: default namespace", []string{"-"}, noNamespace, 1, "connection-wrong-namespace", ""},
		{"-n", []string{"-n", "gatekeeper-system", "-"}, noNamespace, 1, "<stdin>:4:32: error component-not-found", ""},
		{"--namespace", []string{"-", "--namespace", "gatekeeper-system"}, noNamespace, 1, "<stdin>:4:32: error component-not-found", ""},
		{"kube-version the chart refuses", []string{chart, "--kube-version", "v1.20.0"}, "", 2, "incompatible with Kubernetes v1.20.0", ""},
		{"kube-version without a chart", []string{qs, "--kube-version", "v1.30.0"}, "", 0, "note: --kube-version v1.30.0 has no effect", ""},
		{"set without a chart", []string{qs, "--set", "a=b"}, "", 2, "", "pubsub-lint: --set given but no Helm chart is among the inputs (" + qs + ")"},
		{"values and set-file without a chart", []string{"-f", valuesFile, "--set-file", "a=" + valuesFile, "--set-string", "x=y", qs}, "", 2, "", "pubsub-lint: -f, --set-file, --set-string given but no Helm chart"},
		{"values spelled long without a chart", []string{"--values", valuesFile, qs}, "", 2, "", "pubsub-lint: --values given but no Helm chart"},
		{"stdin is a PATH and a values file", []string{chart, "-", "-f", "-"}, "", 2, "", "--values -: standard input is already a PATH"},
		{"chart in a directory counts", []string{filepath.Dir(chart), "--set", "audit.enablePubsub=true", "-n", "gatekeeper-system"}, "", 0, "0 errors", ""},
		{"no path", nil, "", 2, "", "no PATH"},
		{"bad flag", []string{"--nope", qs}, "", 2, "", "nope"},
		{"bad format", []string{"--format", "xml", qs}, "", 2, "", "xml"},
		{"bad fail-on", []string{"--fail-on", "info", qs}, "", 2, "", "severity"},
		{"chart fails", []string{write("Chart.yaml", "apiVersion: v2\nname: broken\nversion: 0.1.0\ntype: library\n")[:len(dir)]}, "", 2, "library charts are not installable", ""},
		{"rules", []string{"rules"}, "", 0, "connection-not-found [error]", ""},
		{"rules markdown", []string{"rules", "--format", "markdown"}, "", 0, "# pubsub-lint rules", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(tt.stdin), &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
		})
	}
}

func TestFormats(t *testing.T) {
	for _, f := range []string{"json", "sarif"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"--format", f, qs}, nil, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, errb.String())
		}
		var v map[string]any
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var out bytes.Buffer
	run(context.Background(), []string{"--format", "sarif", qs}, nil, &out, &out)
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []any `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "pubsub-lint" || len(log.Runs[0].Tool.Driver.Rules) < 23 || log.Runs[0].Results == nil {
		t.Errorf("unexpected SARIF: %s", out.String())
	}
}
