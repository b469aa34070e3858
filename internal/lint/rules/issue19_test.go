package rules

import (
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// connectionConfigMap is a dapr connection ConfigMap naming component, in
// ns ("" for none).
func connectionConfigMap(ns, component string) render.Object {
	meta := map[string]any{"name": "audit-connection"}
	if ns != "" {
		meta["namespace"] = ns
	}
	return render.Object{Source: "connection.yaml", Line: 1, Obj: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
		"data": map[string]any{"provider": "dapr", "config": `{"component": "` + component + `"}`}}}
}

// diskConnection is a disk Connection resource with config.
func diskConnection(config map[string]any) render.Object {
	return render.Object{Source: "connection.yaml", Line: 1, Obj: map[string]any{
		"apiVersion": "connection.gatekeeper.sh/v1alpha1", "kind": "Connection",
		"metadata": map[string]any{"name": "audit-connection", "namespace": "gatekeeper-system"},
		"spec":     map[string]any{"driver": "disk", "config": config},
	}}
}

// withoutNamespace drops metadata.namespace, as a manifest written without one.
func withoutNamespace(o render.Object) render.Object {
	delete(o.Obj["metadata"].(map[string]any), "namespace")
	return o
}

var pubsubAudit = auditObject("openpolicyagent/gatekeeper:v3.18.3",
	[]string{"--operation=audit", "--enable-pub-sub=true", "--audit-connection=audit-connection", "--audit-channel=audit-channel"},
	map[string]any{"dapr.io/enabled": "true", "dapr.io/app-id": "audit"}, nil)

// TestComponentWrongNamespace: the audit's Component with its connection
// config in another namespace (default, for manifests without one).
func TestComponentWrongNamespace(t *testing.T) {
	redis := [2]string{"redisHost", "redis:6379"}
	withSecret := daprComponent("", "pubsub", "pubsub.redis", "v1", "", secretRef("redisPassword", map[string]any{"name": "redis", "key": "redis-password"}))
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"all in gatekeeper-system", []render.Object{pubsubAudit, connectionConfigMap("gatekeeper-system", "pubsub"), component("gatekeeper-system", "pubsub", "pubsub.redis", nil, redis)}, nil},
		{"all without namespace", []render.Object{pubsubAudit, connectionConfigMap("", "pubsub"), withoutNamespace(withSecret)},
			[][]string{{"metadata", `Component "pubsub" has no namespace, so it goes to "default", like connection config "audit-connection"`,
				`the audit runs in namespace "gatekeeper-system"`, `(and Secret redis it reads) in namespace "gatekeeper-system"`, "-n gatekeeper-system"}}},
		{"all in another namespace, audit assumed", []render.Object{connectionConfigMap("apps", "pubsub"), component("apps", "pubsub", "pubsub.redis", nil, redis)},
			[][]string{{"metadata.namespace", `is in namespace "apps"`, `assumed in namespace "gatekeeper-system"`, `in namespace "gatekeeper-system"`}}},
		{"Component already in the audit's namespace too", []render.Object{pubsubAudit, connectionConfigMap("", "pubsub"),
			component("default", "pubsub", "pubsub.redis", nil, redis), component("gatekeeper-system", "pubsub", "pubsub.redis", nil, redis)}, nil},
		{"connection right, Component wrong: component-not-found's", []render.Object{pubsubAudit, connectionConfigMap("gatekeeper-system", "pubsub"),
			component("default", "pubsub", "pubsub.redis", nil, redis)}, nil},
		{"another Component name", []render.Object{pubsubAudit, connectionConfigMap("", "broker"), component("default", "pubsub", "pubsub.redis", nil, redis)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "component-wrong-namespace", tc.objs, tc.want) })
	}
}

// TestConnectionConfigIgnored: Gatekeeper v3.23.1's disk driver reads
// closedConnectionTTL only as a string; anything else is ignored (a
// warning naming the default), while what it rejects stays an error of
// connection-config-schema.
func TestConnectionConfigIgnored(t *testing.T) {
	base := func(ttl any) map[string]any {
		return map[string]any{"path": "/tmp/violations/topics", "maxAuditResults": int64(3), "closedConnectionTTL": ttl}
	}
	const field = "spec.config/closedConnectionTTL"
	tests := []struct {
		name   string
		config map[string]any
		want   [][]string
		schema []string // parts of connection-config-schema's finding, nil for none
	}{
		{"documentation's 600", base(int64(600)), [][]string{{field, "is 600, a number", "reads it only as a string", "the default 10m applies",
			`if 600 seconds were meant, write closedConnectionTTL: "10m"`}}, nil},
		{"90 seconds", base(int64(90)), [][]string{{field, `write closedConnectionTTL: "1m30s"`}}, nil},
		{"out of range number", base(int64(3600)), [][]string{{field, "the default 10m applies", "3600 seconds would be 1h, out of that range"}}, nil},
		{"float", base(1.5), [][]string{{field, "is 1.5, a number", "out of that range"}}, nil},
		{"boolean", base(true), [][]string{{field, "is true, a boolean", `such as "5m"`}}, nil},
		{"null", base(nil), [][]string{{field, "is null, no value"}}, nil},
		{"string", base("5m"), nil, nil},
		{"string without unit: Gatekeeper rejects it", base("600"), nil, []string{"spec.config/closedConnectionTTL", `is "600"`,
			"time: missing unit", "the connection fails", `(600 seconds: "10m")`}},
		{"string not a duration", base("ten minutes"), nil, []string{`is "ten minutes"`, "time.ParseDuration", `such as "5m"`}},
		{"string out of range", base("11m"), nil, []string{"out of range"}},
		{"number and a real error", map[string]any{"path": "/tmp/v", "maxAuditResults": int64(9), "closedConnectionTTL": int64(600)},
			[][]string{{field, "the default 10m applies"}}, []string{"/maxAuditResults", "want 5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := []render.Object{diskConnection(tc.config)}
			check(t, "connection-config-ignored", objs, tc.want)
			got := runRule(t, "connection-config-schema", diskConnection(tc.config))
			if len(got) != 0 && tc.schema == nil || len(got) != 1 && tc.schema != nil {
				t.Fatalf("connection-config-schema: %+v, want %d findings", got, len(tc.schema))
			}
			for _, part := range tc.schema {
				if !strings.Contains(got[0].Message, part) {
					t.Errorf("connection-config-schema: %q lacks %q", got[0].Message, part)
				}
			}
		})
	}
}

// projectLabelled labels o as the project's chart renders it for version.
func projectLabelled(o render.Object, version string) render.Object {
	md := o.Obj["metadata"].(map[string]any)
	md["labels"] = map[string]any{"helm.sh/chart": "gatekeeper-pubsub-0.1.0", "app.kubernetes.io/instance": "gatekeeper-pubsub",
		"app.kubernetes.io/version": version}
	return o
}

// TestSetupGatekeeperVersionMismatch: the objects the project's chart
// rendered for a gatekeeperVersion against the Gatekeeper the audit runs.
func TestSetupGatekeeperVersionMismatch(t *testing.T) {
	redis := [2]string{"redisHost", "redis:6379"}
	audit17 := auditObject("openpolicyagent/gatekeeper:v3.17.0", []string{"--operation=audit", "--enable-pub-sub=true"}, nil, nil)
	const field = `metadata.labels["app.kubernetes.io/version"]`
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"same version", []render.Object{audit17, projectLabelled(connectionConfigMap("gatekeeper-system", "pubsub"), "v3.17.0")}, nil},
		{"another version", []render.Object{audit17,
			projectLabelled(component("gatekeeper-system", "pubsub", "pubsub.redis", nil, redis), "v3.18.3"),
			projectLabelled(connectionConfigMap("gatekeeper-system", "pubsub"), "v3.18.3")},
			[][]string{{field, `ConfigMap gatekeeper-system/audit-connection and 1 other objects of release "gatekeeper-pubsub" were made for Gatekeeper v3.18.3`,
				"the chart's gatekeeperVersion", "Deployment gatekeeper-system/gatekeeper-audit runs openpolicyagent/gatekeeper:v3.17.0 (Gatekeeper v3.17.0)",
				"set gatekeeperVersion=v3.17.0"}}},
		{"kustomize's labels", []render.Object{audit17, func() render.Object {
			o := component("gatekeeper-system", "pubsub", "pubsub.redis", nil, redis)
			o.Obj["metadata"].(map[string]any)["labels"] = map[string]any{"app.kubernetes.io/name": "gatekeeper-pubsub", "app.kubernetes.io/version": "v3.23.1"}
			return o
		}()}, [][]string{{field, "Component gatekeeper-system/pubsub was made for Gatekeeper v3.23.1"}}},
		{"not the project's", []render.Object{audit17, func() render.Object {
			o := component("gatekeeper-system", "pubsub", "pubsub.redis", nil, redis)
			o.Obj["metadata"].(map[string]any)["labels"] = map[string]any{"helm.sh/chart": "gatekeeper-3.18.3", "app.kubernetes.io/version": "v3.18.3"}
			return o
		}()}, nil},
		{"audit tag not a version", []render.Object{auditObject("openpolicyagent/gatekeeper:latest", []string{"--operation=audit"}, nil, nil),
			projectLabelled(connectionConfigMap("gatekeeper-system", "pubsub"), "v3.18.3")}, nil},
		{"audit not among the inputs", []render.Object{projectLabelled(connectionConfigMap("gatekeeper-system", "pubsub"), "v3.18.3")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "setup-gatekeeper-version-mismatch", tc.objs, tc.want) })
	}
}

// liveComponent is a Component as the live loader hands it over: with
// model.LiveSecretsAnnotation saying what became of its Secrets.
func liveComponent(status string) render.Object {
	o := daprComponent("gatekeeper-system", "pubsub", "pubsub.redis", "v1", "", secretRef("redisPassword", map[string]any{"name": "redis", "key": "redis-password"}))
	if status != "" {
		o.Obj["metadata"].(map[string]any)["annotations"] = map[string]any{model.LiveSecretsAnnotation: `{"redis": "` + status + `"}`}
	}
	return o
}

// TestLiveSecrets: in live mode a Secret that does not exist is
// component-secret-not-found's error, one that could not be read
// component-secret-unchecked's warning, and neither is in the note of
// Secrets not among the inputs.
func TestLiveSecrets(t *testing.T) {
	const field = "spec.metadata[0].secretKeyRef.name"
	tests := []struct {
		name                string
		objs                []render.Object
		notFound, unchecked [][]string
		unseen              int
	}{
		{"files: not among the inputs", []render.Object{liveComponent("")}, nil, nil, 1},
		{"read: has the key", []render.Object{liveComponent(""), secretObject("gatekeeper-system", "redis", "redis-password")}, nil, nil, 0},
		{"read: lacks the key", []render.Object{liveComponent(""), secretObject("gatekeeper-system", "redis", "password")},
			[][]string{{"spec.metadata[0].secretKeyRef.key", "has no such key"}}, nil, 0},
		{"missing", []render.Object{liveComponent(model.SecretMissing)},
			[][]string{{field, "Secret gatekeeper-system/redis, which does not exist in the cluster"}}, nil, 0},
		{"forbidden", []render.Object{liveComponent(model.SecretUnreadable + "forbidden: grant get")}, nil,
			[][]string{{field, `key "redis-password" of Secret gatekeeper-system/redis, which pubsub-lint could not read in the cluster`, "was not checked: forbidden: grant get"}}, 0},
		{"another store", []render.Object{func() render.Object {
			o := liveComponent(model.SecretMissing)
			o.Obj["auth"] = map[string]any{"secretStore": "vault"}
			return o
		}()}, nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "component-secret-not-found", tc.objs, tc.notFound)
			check(t, "component-secret-unchecked", tc.objs, tc.unchecked)
			if got := model.NewSetup(model.DefaultOptions(), tc.objs).UnseenSecrets(); len(got) != tc.unseen {
				t.Errorf("UnseenSecrets() = %v, want %d", got, tc.unseen)
			}
		})
	}
}
