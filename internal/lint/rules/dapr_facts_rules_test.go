package rules

import (
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// daprComponent is a Component with spec.type, spec.version (nil: none),
// auth.secretStore ("" for no auth) and metadata entries (maps as written).
func daprComponent(ns, name, typ string, version any, store string, md ...any) render.Object {
	spec := map[string]any{"type": typ, "metadata": md}
	if version != nil {
		spec["version"] = version
	}
	o := map[string]any{
		"apiVersion": "dapr.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     spec,
	}
	if store != "" {
		o["auth"] = map[string]any{"secretStore": store}
	}
	return render.Object{Source: "component.yaml", Line: 1, Obj: o}
}

func secretRef(item string, ref map[string]any) map[string]any {
	return map[string]any{"name": item, "secretKeyRef": ref}
}

func secretObject(ns, name string, keys ...string) render.Object {
	data := map[string]any{}
	for _, k := range keys {
		data[k] = "eA=="
	}
	return render.Object{Source: "secret.yaml", Line: 1, Obj: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": name, "namespace": ns}, "data": data,
	}}
}

func TestComponentTypeUnknown(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		want [][]string
	}{
		{"known", "pubsub.redis", nil},
		{"alias", "pubsub.snssqs", nil},
		{"letter case", "pubsub.Redis", nil},
		{"misspelt", "pubsub.reddis", [][]string{{"spec.type", `"pubsub.reddis"`, `did you mean "pubsub.redis"`, "v1.14.0"}}},
		{"no suggestion", "pubsub.zzzzzzzzzzzz", [][]string{{"spec.type", `"pubsub.zzzzzzzzzzzz"`}}},
		{"not pubsub: component-not-pubsub's", "state.redis", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "component-type-unknown", []render.Object{daprComponent("gatekeeper-system", "pubsub", tc.typ, "v1", "")}, tc.want)
		})
	}
}

func TestComponentVersionUnknown(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		version any
		want    [][]string
	}{
		{"v1", "pubsub.redis", "v1", nil},
		{"V1", "pubsub.redis", "V1", nil},
		{"v0", "pubsub.kafka", "v0", nil},
		{"none", "pubsub.redis", nil, nil},
		{"v2", "pubsub.redis", "v2", [][]string{{"spec.version", `"v2"`, "pubsub.redis", `it has "v1"`}}},
		{"unknown type: component-type-unknown's", "pubsub.reddis", "v2", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, "component-version-unknown", []render.Object{daprComponent("gatekeeper-system", "pubsub", tc.typ, tc.version, "")}, tc.want)
		})
	}
}

func TestComponentSecretKeyMissing(t *testing.T) {
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"with key", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", secretRef("redisPassword", map[string]any{"name": "redis", "key": "redis-password"}))}, nil},
		{"without key", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", secretRef("redisPassword", map[string]any{"name": "redis"}))},
			[][]string{{"spec.metadata[0].secretKeyRef", `reads key "redis" of Secret "redis"`, "key: redis-password"}}},
		{"key of the Secret among the inputs", []render.Object{
			daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", secretRef("redisPassword", map[string]any{"name": "redis", "key": ""})),
			secretObject("ns", "redis", "password")},
			[][]string{{"spec.metadata[0].secretKeyRef", "key: password"}}},
		{"without name", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", secretRef("redisPassword", map[string]any{}))},
			[][]string{{"spec.metadata[0].secretKeyRef", "without name or key"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "component-secret-key-missing", tc.objs, tc.want) })
	}
}

func TestComponentSecretStoreUnknown(t *testing.T) {
	ref := secretRef("redisPassword", map[string]any{"name": "redis", "key": "redis-password"})
	store := func(ns, name, typ string) render.Object { return daprComponent(ns, name, typ, "v1", "") }
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"no auth", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", ref)}, nil},
		{"built-in kubernetes", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "kubernetes", ref)}, nil},
		{"store among the inputs", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "vault", ref), store("ns", "vault", "secretstores.hashicorp.vault")}, nil},
		{"misspelt", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "vualt", ref), store("ns", "vault", "secretstores.hashicorp.vault")},
			[][]string{{"auth.secretStore", `"vualt"`, `did you mean "vault"`}}},
		{"kubernetes misspelt", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "kubernets", ref)},
			[][]string{{"auth.secretStore", `did you mean "kubernetes"`}}},
		{"store in another namespace", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "vault", ref), store("other", "vault", "secretstores.hashicorp.vault")},
			[][]string{{"auth.secretStore", "namespace ns"}}},
		{"not a store", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "state", ref), store("ns", "state", "state.redis")},
			[][]string{{"auth.secretStore", `"state.redis"`, "not a secret store"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "component-secret-store-unknown", tc.objs, tc.want) })
	}
}

func TestComponentSecretNotFound(t *testing.T) {
	ref := secretRef("redisPassword", map[string]any{"name": "redis", "key": "redis-password"})
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"no Secret among the inputs", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", ref)}, nil},
		{"Secret with the key", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", ref), secretObject("ns", "redis", "redis-password")}, nil},
		{"missing key", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", ref), secretObject("ns", "redis", "redis-pasword")},
			[][]string{{"spec.metadata[0].secretKeyRef.key", `key "redis-password" of Secret ns/redis`, `did you mean "redis-pasword"`}}},
		{"missing Secret", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", ref), secretObject("ns", "rediss", "redis-password")},
			[][]string{{"spec.metadata[0].secretKeyRef.name", "Secret ns/redis", `did you mean "rediss"`}}},
		{"another Secret of another name", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", ref), secretObject("ns", "webhook-server-cert", "tls.crt")}, nil},
		{"Secret in another namespace", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "", ref), secretObject("other", "redis")}, nil},
		{"another store", []render.Object{daprComponent("ns", "pubsub", "pubsub.redis", "v1", "vault", ref), secretObject("ns", "x")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "component-secret-not-found", tc.objs, tc.want) })
	}
}

func TestDaprAnnotationUnknown(t *testing.T) {
	sub := func(ann map[string]any, own map[string]any) render.Object {
		o := workload{kind: "Deployment", ns: "sub", name: "sub", annotations: ann, containers: []any{subscriberContainer("audit-channel")}}.object()
		if own != nil {
			o.Obj["metadata"].(map[string]any)["annotations"] = own
		}
		return o
	}
	tests := []struct {
		name string
		obj  render.Object
		want [][]string
	}{
		{"known", sub(map[string]any{"dapr.io/enabled": "true", "dapr.io/app-port": "6002"}, nil), nil},
		{"other prefixes", sub(map[string]any{"dapr.io/enabled": "true", "example.com/x": "y"}, map[string]any{"example.com/x": "y"}), nil},
		{"misspelt", sub(map[string]any{"dapr.io/enabled": "true", "dapr.io/app-prt": "6002"}, nil),
			[][]string{{`spec.template.metadata.annotations["dapr.io/app-prt"]`, `"dapr.io/app-prt"`, `did you mean "dapr.io/app-port"?`}}},
		{"enable", sub(map[string]any{"dapr.io/enable": "true"}, nil),
			[][]string{{`spec.template.metadata.annotations["dapr.io/enable"]`, `did you mean "dapr.io/enabled"?`}}},
		{"on the Deployment", sub(map[string]any{"dapr.io/enabled": "true"}, map[string]any{"dapr.io/app-id": "subscriber"}),
			[][]string{{`metadata.annotations["dapr.io/app-id"]`, `"subscriber"`, "on the Deployment itself"}}},
		{"on both", sub(map[string]any{"dapr.io/enabled": "true"}, map[string]any{"dapr.io/enabled": "true"}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "dapr-annotation-unknown", []render.Object{tc.obj}, tc.want) })
	}
}

func TestAuditDaprDisabledSaysWhatWasWritten(t *testing.T) {
	args := []string{"--operation=audit", "--enable-pub-sub=true", "--audit-connection=audit-connection", "--audit-channel=audit-channel"}
	typo := auditObject("openpolicyagent/gatekeeper:v3.18.3", args, map[string]any{"dapr.io/enable": "true"}, nil)
	onDeployment := auditObject("openpolicyagent/gatekeeper:v3.18.3", args, nil, nil)
	onDeployment.Obj["metadata"].(map[string]any)["annotations"] = map[string]any{"dapr.io/enabled": "true"}
	cm := render.Object{Source: "cm.yaml", Line: 1, Obj: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "audit-connection", "namespace": "gatekeeper-system"},
		"data":     map[string]any{"provider": "dapr", "config": `{"component": "pubsub"}`}}}
	for _, tc := range []struct {
		name string
		obj  render.Object
		want string
	}{
		{"typo", typo, `it has dapr.io/enable: "true", a key Dapr does not read`},
		{"on the Deployment", onDeployment, `dapr.io/enabled: "true" is on the Deployment itself, not its pod template`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runRule(t, "audit-dapr-disabled", tc.obj, cm)
			if len(got) != 1 || !strings.Contains(got[0].Message, tc.want) {
				t.Errorf("findings %+v, want one saying %q", got, tc.want)
			}
		})
	}
}
