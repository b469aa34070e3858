package rules

import (
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// runRule runs one rule on objects and returns its findings.
func runRule(t *testing.T, id string, objs ...render.Object) []Finding {
	t.Helper()
	r := Get(id)
	if r == nil {
		t.Fatalf("no rule %s", id)
	}
	rep := NewReporter(r)
	r.Run(model.NewSetup(model.DefaultOptions(), objs), rep)
	for _, f := range rep.Findings() {
		if f.Subject == nil || len(f.Path) == 0 || f.Message == "" {
			t.Errorf("%s: finding without object, field or message: %+v", id, f)
		}
	}
	return rep.Findings()
}

func mounts(m ...map[string]any) []any {
	out := make([]any, len(m))
	for i, e := range m {
		out[i] = e
	}
	return out
}

func withVolumes(o render.Object, volumes ...any) render.Object {
	spec := o.Obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	spec["volumes"] = volumes
	return o
}

// TestAuditStartRequirements: --cert-dir and --api-cache-dir, read from
// the flags as Gatekeeper parses them.
func TestAuditStartRequirements(t *testing.T) {
	const image = "openpolicyagent/gatekeeper:v3.17.0"
	cert := map[string]any{"name": "cert", "mountPath": "/certs", "readOnly": true}
	tmp := map[string]any{"name": "tmp-volume", "mountPath": "/tmp/audit"}
	emptyDir := map[string]any{"name": "tmp-volume", "emptyDir": map[string]any{}}
	configMap := map[string]any{"name": "tmp-volume", "configMap": map[string]any{"name": "x"}}
	ro := map[string]any{"readOnlyRootFilesystem": true}
	tests := []struct {
		name    string
		args    []string
		manager map[string]any
		volumes []any
		want    []string // parts of the messages, in order
	}{
		{"as Gatekeeper's chart", []string{"--operation=audit"}, map[string]any{"volumeMounts": mounts(cert, tmp), "securityContext": ro}, []any{emptyDir}, nil},
		{"no cert mount", []string{"--operation=audit"}, map[string]any{"volumeMounts": mounts(tmp), "securityContext": ro}, []any{emptyDir},
			[]string{"mounts no volume at --cert-dir /certs"}},
		{"no mounts at all", []string{"--operation=audit"}, nil, nil, []string{"mounts no volume at --cert-dir /certs"}},
		{"external data off", []string{"--operation=audit", "--enable-external-data=false"}, nil, nil, nil},
		{"external data off after a stray argument", []string{"--operation=audit", "x", "--enable-external-data=false"}, nil, nil,
			[]string{"mounts no volume at --cert-dir /certs"}},
		{"other cert dir", []string{"--operation=audit", "--cert-dir", "/etc/certs/"}, map[string]any{"volumeMounts": mounts(map[string]any{"name": "c", "mountPath": "/etc/certs"})}, nil, nil},
		{"cert files mounted one by one", []string{"--operation=audit"}, map[string]any{"volumeMounts": mounts(map[string]any{"name": "c", "mountPath": "/certs/tls.crt", "subPath": "tls.crt"})}, nil, nil},
		{"cert dir inside a mount", []string{"--operation=audit", "--cert-dir=/etc/gk/certs"}, map[string]any{"volumeMounts": mounts(map[string]any{"name": "c", "mountPath": "/etc/gk"})}, nil, nil},
		{"cert mount elsewhere", []string{"--operation=audit"}, map[string]any{"volumeMounts": mounts(map[string]any{"name": "c", "mountPath": "/cert"})}, nil,
			[]string{"mounts no volume at --cert-dir /certs"}},
		{"read-only root, no cache mount", []string{"--operation=audit"}, map[string]any{"volumeMounts": mounts(cert), "securityContext": ro}, nil,
			[]string{"no volume is mounted at --api-cache-dir /tmp/audit"}},
		{"cache mounted read-only", []string{"--operation=audit"}, map[string]any{"volumeMounts": mounts(cert, map[string]any{"name": "tmp-volume", "mountPath": "/tmp/audit/", "readOnly": true}), "securityContext": ro}, []any{emptyDir},
			[]string{"is mounted readOnly"}},
		{"cache on a configMap", []string{"--operation=audit"}, map[string]any{"volumeMounts": mounts(cert, tmp), "securityContext": ro}, []any{configMap},
			[]string{"a configMap volume, which is read-only"}},
		{"other cache dir", []string{"--operation=audit", "--api-cache-dir=/cache"}, map[string]any{"volumeMounts": mounts(cert, map[string]any{"name": "tmp-volume", "mountPath": "/cache"}), "securityContext": ro}, []any{emptyDir}, nil},
		{"audit from cache", []string{"--operation=audit", "--audit-from-cache"}, map[string]any{"volumeMounts": mounts(cert), "securityContext": ro}, nil, nil},
		{"writable root", []string{"--operation=audit"}, map[string]any{"volumeMounts": mounts(cert)}, nil, nil},
		{"undefined flag", []string{"--operation=audit", "--enable-violation-export=true"}, map[string]any{"volumeMounts": mounts(cert)}, nil,
			[]string{`Gatekeeper v3.17.0 has no flag --enable-violation-export: the manager exits at start ("flag provided but not defined: -enable-violation-export") (it takes --enable-pub-sub)`}},
		{"help", []string{"--operation=audit", "-help"}, map[string]any{"volumeMounts": mounts(cert)}, nil, []string{"-help makes the manager print its usage and exit"}},
		{"needs an argument", []string{"--operation=audit", "--cert-dir"}, map[string]any{"volumeMounts": mounts(cert)}, nil,
			[]string{`--cert-dir is the last argument and has no value: the manager exits at start ("flag needs an argument: -cert-dir")`}},
		{"bad syntax", []string{"--operation=audit", "---cert-dir=/x"}, map[string]any{"volumeMounts": mounts(cert)}, nil,
			[]string{`"---cert-dir=/x" is not a flag Go's flag package accepts`}},
		{"pubsub flags are audit-flag-value's", []string{"--operation=audit", "--enable-pub-sub=yes", "--audit-channel"}, map[string]any{"volumeMounts": mounts(cert)}, nil, nil},
		{"a shell is not parsed", []string{"--operation=audit", "--no-such-flag"}, map[string]any{"command": []any{"sh", "-c"}, "volumeMounts": mounts(cert)}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := withVolumes(auditObject(image, tc.args, nil, tc.manager), tc.volumes...)
			fs := runRule(t, "audit-start-requirements", o)
			if len(fs) != len(tc.want) {
				for _, f := range fs {
					t.Log(f.Field, f.Message)
				}
				t.Fatalf("%d findings, want %d", len(fs), len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(fs[i].Message, w) {
					t.Errorf("finding %q, want it to contain %q", fs[i].Message, w)
				}
			}
		})
	}
}

// TestAuditStartUnknownVersion: for an image whose version is not known,
// only flags no known version defines are reported, as maybe undefined.
func TestAuditStartUnknownVersion(t *testing.T) {
	cert := map[string]any{"volumeMounts": mounts(map[string]any{"name": "cert", "mountPath": "/certs"})}
	for _, image := range []string{"openpolicyagent/gatekeeper:latest", "openpolicyagent/gatekeeper:v3.30.0"} {
		o := auditObject(image, []string{"--operation=audit", "--enable-pub-sub=true", "--enable-violation-export=true", "--audit-conection=x"}, nil, cert)
		fs := runRule(t, "audit-start-requirements", o)
		want := `--audit-conection is not a flag of any Gatekeeper version pubsub-lint knows (v3.13.0, v3.17.0 and v3.23.1): unless`
		if len(fs) != 1 || !strings.Contains(fs[0].Message, want) || !strings.Contains(fs[0].Message, `(did you mean "audit-connection"?)`) {
			t.Errorf("%s: findings %+v, want one containing %q", image, fs, want)
		}
	}
}

// TestAuditGenerateMissing: from v3.18, explicit operations without
// generate, unless another Gatekeeper manager among the inputs runs it.
func TestAuditGenerateMissing(t *testing.T) {
	other := func(image string, args ...string) render.Object {
		o := auditObject(image, args, nil, nil)
		o.Obj["metadata"] = map[string]any{"name": "gatekeeper-controller-manager", "namespace": "gatekeeper-system"}
		return o
	}
	tests := []struct {
		name  string
		image string
		args  []string
		more  []render.Object
		want  int
	}{
		{"v3.17 has no generate", "openpolicyagent/gatekeeper:v3.17.0", []string{"--operation=audit"}, nil, 0},
		{"v3.18 without generate", "openpolicyagent/gatekeeper:v3.18.3", []string{"--operation=audit", "--operation=status"}, nil, 1},
		{"v3.23 with generate", "openpolicyagent/gatekeeper:v3.23.1", []string{"--operation=audit,generate"}, nil, 0},
		{"generate ignored after a stray argument", "openpolicyagent/gatekeeper:v3.23.1", []string{"--operation=audit", "true", "--operation=generate"}, nil, 1},
		{"unknown version", "openpolicyagent/gatekeeper:latest", []string{"--operation=audit"}, nil, 0},
		{"the webhook generates", "openpolicyagent/gatekeeper:v3.23.1", []string{"--operation=audit"},
			[]render.Object{other("openpolicyagent/gatekeeper:v3.23.1", "--operation=webhook", "--operation=generate")}, 0},
		{"a process without operations runs all", "openpolicyagent/gatekeeper:v3.23.1", []string{"--operation=audit"},
			[]render.Object{other("openpolicyagent/gatekeeper:v3.23.1")}, 0},
		{"the webhook does not generate", "openpolicyagent/gatekeeper:v3.23.1", []string{"--operation=audit"},
			[]render.Object{other("openpolicyagent/gatekeeper:v3.23.1", "--operation=webhook")}, 1},
		{"a v3.17 webhook cannot generate", "openpolicyagent/gatekeeper:v3.23.1", []string{"--operation=audit"},
			[]render.Object{other("openpolicyagent/gatekeeper:v3.17.0")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := append([]render.Object{auditObject(tc.image, tc.args, nil, nil)}, tc.more...)
			if fs := runRule(t, "audit-generate-missing", objs...); len(fs) != tc.want {
				t.Fatalf("findings %+v, want %d", fs, tc.want)
			}
		})
	}
}

// FuzzAuditRules runs every rule on an audit with arbitrary arguments
// (NUL-separated), image tag and namespace labels: no panic, and every
// finding names its object and field.
func FuzzAuditRules(f *testing.F) {
	f.Add("--operation=audit\x00--enable-pub-sub\x00true\x00--audit-connection=x", "v3.17.0", "restricted", "v1.24")
	f.Add("--operation=audit\x00--\x00-h", "v3.23.1", "baseline", "latest")
	f.Add("--operation=audit,generate\x00---x\x00--cert-dir", "v3.18.3", "privileged", "v1.0")
	f.Add("--operation=audit\x00--enable-pubsub=1\x00-", "latest", "", "")
	f.Add("--operation=audit\x00--api-cache-dir=\x00--audit-from-cache=2", "v3.24.0", "strict", "v2")
	f.Fuzz(checkAuditRules)
}

// checkAuditRules runs every rule on an audit with the arguments
// (NUL-separated) and image tag, in a Namespace with the PodSecurity level
// and version.
func checkAuditRules(t *testing.T, args, tag, level, version string) {
	objs := []render.Object{
		auditObject("openpolicyagent/gatekeeper:"+tag, strings.Split(args, "\x00"),
			map[string]any{"dapr.io/enabled": "true"},
			map[string]any{"volumeMounts": mounts(map[string]any{"mountPath": "/x"}), "securityContext": map[string]any{"readOnlyRootFilesystem": true}}),
		namespaceObject("gatekeeper-system", map[string]any{"pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/enforce-version": version,
			"pod-security.kubernetes.io/warn": level}),
	}
	s := model.NewSetup(model.DefaultOptions(), objs)
	for _, r := range All() {
		rep := NewReporter(r)
		r.Run(s, rep)
		for _, o := range objs {
			r.RunObject(model.Classify(o, "default"), rep)
		}
		for _, f := range rep.Findings() {
			if f.Subject != nil && len(f.Path) == 0 {
				t.Fatalf("%s: finding without field: %+v", r.ID, f)
			}
		}
	}
}
