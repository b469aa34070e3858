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

const qs = "../../test/lint/testdata/quickstart"

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
	warnOnly := write("sub.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: gatekeeper-audit, namespace: gatekeeper-system}\nspec: {template: {spec: {containers: [{name: manager, image: 'x:v3.18.3', args: [--operation=audit], securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}}]}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {provider: dapr, config: '{\"component\": \"pubsub\"}'}\n")
	syntax := write("bad.yaml", "a: b\n c: d\n")
	cfg := write("cfg.yaml", "disable: [connection-provider-unknown, component-not-found]\n")
	badCfg := write("badcfg.yaml", "disable: [nope]\n")
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string
		stderr string
	}{
		{"clean", []string{qs}, "", 0, "0 errors, 0 warnings in 4 files (5 objects)", ""},
		{"error", []string{badConn}, "", 1, "error connection-provider-unknown", ""},
		{"flags after paths", []string{badConn, "--fail-on", "none"}, "", 0, "connection-provider-unknown", ""},
		{"warning passes", []string{warnOnly}, "", 0, "warning audit-pubsub-disabled", ""},
		{"fail on warning", []string{"--fail-on=warning", warnOnly}, "", 1, "audit-pubsub-disabled", ""},
		{"config", []string{"--config", cfg, badConn}, "", 0, "0 errors", ""},
		{"bad config", []string{"--config", badCfg, badConn}, "", 2, "", "unknown rule"},
		{"stdin", []string{"-"}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: audit-connection, namespace: gatekeeper-system}\ndata: {config: x}\n", 1, "<stdin>:4:1: error connection-provider-missing", ""},
		{"missing file", []string{filepath.Join(dir, "none.yaml")}, "", 2, "", "none.yaml"},
		{"syntax", []string{syntax}, "", 2, "", "bad.yaml:2"},
		{"no path", nil, "", 2, "", "no PATH"},
		{"bad flag", []string{"--nope", qs}, "", 2, "", "nope"},
		{"bad format", []string{"--format", "xml", qs}, "", 2, "", "xml"},
		{"bad fail-on", []string{"--fail-on", "info", qs}, "", 2, "", "severity"},
		{"chart fails", []string{write("Chart.yaml", "apiVersion: v2\nname: broken\nversion: 0.1.0\ntype: library\n")[:len(dir)]}, "", 2, "", "chart"},
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
