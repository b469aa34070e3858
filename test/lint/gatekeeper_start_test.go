package lint_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/gomod"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint"
)

// gatekeeperModule returns the directory of a Gatekeeper release's Go
// module (its chart and deploy/gatekeeper.yaml) from the module cache,
// downloading it through the module proxy if needed.
func gatekeeperModule(t *testing.T, version string) string {
	t.Helper()
	m, err := gomod.Download(context.Background(), "github.com/open-policy-agent/gatekeeper/v3", version)
	if err != nil {
		t.Fatal(err)
	}
	return m.Dir
}

// edit applies one text replacement to the part of a manifest that starts
// at the object named after, failing when old is not there.
func edit(t *testing.T, manifest, after, old, new string) string {
	t.Helper()
	i := strings.Index(manifest, after)
	if i < 0 {
		t.Fatalf("no %q in the manifest", after)
	}
	j := strings.Index(manifest[i:], old)
	if j < 0 {
		t.Fatalf("no %q after %q in the manifest", old, after)
	}
	return manifest[:i+j] + new + manifest[i+j+len(old):]
}

const upstreamAudit = "  name: gatekeeper-audit\n"

// TestGatekeeperUpstream lints Gatekeeper's own manifests: its released
// deploy/gatekeeper.yaml (with the Namespace, labelled PodSecurity
// restricted at v1.24) and its chart, of v3.17.0 and v3.23.1. Their audit
// starts, so it is clean; each edit below is a mistake that the real
// manager fails on, and is reported.
func TestGatekeeperUpstream(t *testing.T) {
	certMount := "        - mountPath: /certs\n          name: cert\n          readOnly: true\n"
	for _, version := range []string{"v3.17.0", "v3.23.1"} {
		dir := gatekeeperModule(t, version)
		raw, err := os.ReadFile(filepath.Join(dir, "deploy", "gatekeeper.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		manifest := string(raw)
		type want struct {
			rule, field, text string
		}
		tests := []struct {
			name     string
			manifest string
			want     []want
		}{
			{"as released", manifest, nil},
			{"without the cert volumeMount", edit(t, manifest, upstreamAudit, certMount, ""),
				[]want{{"audit-start-requirements", "spec.template.spec.containers[0].volumeMounts", `mounts no volume at --cert-dir /certs: the manager exits at start ("unable to create client cert watcher"`}}},
			{"with a stray true", edit(t, manifest, upstreamAudit, "        command:\n",
				"        - --log-denies\n        - \"true\"\n        - --audit-connection=x\n        command:\n"),
				[]want{
					{"audit-args-ignored", "", `Gatekeeper stops parsing the audit's flags at "true" (args[`},
					{"audit-args-ignored", "", `--audit-connection=x is ignored: it comes after "true"`},
				}},
			{"with a flag it does not define", edit(t, manifest, upstreamAudit, "        - --operation=audit\n",
				"        - --operation=audit\n        - --audit-conection=x\n"),
				[]want{{"audit-start-requirements", "", `has no flag --audit-conection: the manager exits at start ("flag provided but not defined: -audit-conection") (did you mean "audit-connection"?)`}}},
			{"with a read-only api cache", edit(t, manifest, upstreamAudit, "        - mountPath: /tmp/audit\n          name: tmp-volume\n",
				"        - mountPath: /tmp/audit\n          name: tmp-volume\n          readOnly: true\n"),
				[]want{{"audit-start-requirements", "", `mounted at --api-cache-dir /tmp/audit is mounted readOnly`}}},
		}
		if version == "v3.23.1" {
			tests = append(tests, struct {
				name     string
				manifest string
				want     []want
			}{"without --operation=generate", edit(t, manifest, upstreamAudit, "        - --operation=generate\n", ""),
				[]want{{"audit-generate-missing", "", "no constraint CRDs will be created unless another Gatekeeper process runs --operation=generate"}}})
		}
		for _, tc := range tests {
			t.Run(version+" "+tc.name, func(t *testing.T) {
				res, err := lint.Run(context.Background(), lint.Options{Paths: []string{lint.StdinPath}, Stdin: strings.NewReader(tc.manifest)})
				if err != nil {
					t.Fatal(err)
				}
				var got []lint.Finding
				for _, f := range res.Findings {
					if f.Object.Name == "gatekeeper-audit" {
						got = append(got, f)
					}
				}
				if len(got) != len(tc.want) {
					for _, f := range got {
						t.Logf("%d:%d %s %s: %s", f.Line, f.Column, f.Rule, f.Field, f.Message)
					}
					t.Fatalf("%d findings on the audit, want %d", len(got), len(tc.want))
				}
				for i, w := range tc.want {
					f := got[i]
					if f.Rule != w.rule || w.field != "" && f.Field != w.field || !strings.Contains(f.Message, w.text) || f.Line == 0 {
						t.Errorf("finding %d: %s %s (line %d): %s\nwant %s %s: ...%s...", i, f.Rule, f.Field, f.Line, f.Message, w.rule, w.field, w.text)
					}
				}
			})
		}
		t.Run(version+" chart", func(t *testing.T) {
			res, err := lint.Run(context.Background(), lint.Options{Paths: []string{filepath.Join(dir, "charts", "gatekeeper")}, Namespace: "gatekeeper-system"})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Findings {
				t.Errorf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
			}
			if res.Objects == 0 {
				t.Fatal("linted no objects")
			}
		})
	}
}

// TestProjectChartGatekeeperVersions: the project's chart starts on every
// Gatekeeper version it supports: the cert Secret at /certs, and
// --operation=generate only where the version has it (v3.18+; v3.17.0's
// manager exits on it).
func TestProjectChartGatekeeperVersions(t *testing.T) {
	chart, err := filepath.Abs(filepath.Join("..", "..", "charts", "gatekeeper-pubsub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v3.13.0", "v3.17.0", "v3.18.3", "v3.19.1", "v3.20.1", "v3.23.1"} {
		t.Run(v, func(t *testing.T) {
			res, err := lint.Run(context.Background(), lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system",
				Set: []string{"gatekeeperVersion=" + v, "audit.deploy=true", "audit.enablePubsub=true"}, ValueFiles: []string{redisTLSValues}})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Findings {
				t.Errorf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
			}
		})
	}
	// Leaving generate out is reported from v3.18 on.
	res, err := lint.Run(context.Background(), lint.Options{Paths: []string{chart}, Namespace: "gatekeeper-system",
		Set: []string{"gatekeeperVersion=v3.23.1", "audit.deploy=true", "audit.disableGenerateOperation=true"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Rule != "audit-generate-missing" {
		t.Fatalf("findings %+v, want one audit-generate-missing", res.Findings)
	}
}
