package rules

import (
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

const violationsImage = "registry.example/gatekeeper-pubsub/violations:0.1.0"

// workload is a workload object: kind, namespace/name, the pod template's
// annotations, spec.replicas (nil: none) and containers.
type workload struct {
	kind, ns, name string
	annotations    map[string]any
	replicas       any
	containers     []any
}

func (w workload) object() render.Object {
	spec := map[string]any{"template": map[string]any{
		"metadata": map[string]any{"annotations": w.annotations},
		"spec":     map[string]any{"containers": w.containers},
	}}
	if w.replicas != nil {
		spec["replicas"] = w.replicas
	}
	return render.Object{Source: w.name + ".yaml", Line: 1, Obj: map[string]any{
		"apiVersion": "apps/v1", "kind": w.kind,
		"metadata": map[string]any{"name": w.name, "namespace": w.ns},
		"spec":     spec,
	}}
}

// dapr is the pod annotations of a Dapr app with the app-id ("" for none).
func dapr(appID string) map[string]any {
	a := map[string]any{"dapr.io/enabled": "true"}
	if appID != "" {
		a["dapr.io/app-id"] = appID
	}
	return a
}

// consumerContainer runs `violations serve` with args and env entries
// (name → value string, or a map for valueFrom).
func consumerContainer(args []string, env ...[2]any) map[string]any {
	return containerOf(violationsImage, append([]string{"serve"}, args...), env...)
}

func containerOf(image string, args []string, env ...[2]any) map[string]any {
	l := make([]any, len(args))
	for i, a := range args {
		l[i] = a
	}
	c := map[string]any{"name": "c", "image": image, "args": l}
	var el []any
	for _, e := range env {
		m := map[string]any{"name": e[0]}
		if vf, ok := e[1].(map[string]any); ok {
			m["valueFrom"] = vf
		} else {
			m["value"] = e[1]
		}
		el = append(el, m)
	}
	if el != nil {
		c["env"] = el
	}
	return c
}

func subscriberContainer(channel string) map[string]any {
	return containerOf("fake-subscriber:latest", nil, [2]any{"AUDIT_CHANNEL", channel})
}

var fromSecret = map[string]any{"secretKeyRef": map[string]any{"name": "s", "key": "k"}}

// component is a Dapr pubsub Component; items are name, value pairs;
// scopes nil means no scopes field.
func component(ns, name, typ string, scopes []any, items ...[2]string) render.Object {
	var md []any
	for _, it := range items {
		md = append(md, map[string]any{"name": it[0], "value": it[1]})
	}
	o := map[string]any{
		"apiVersion": "dapr.io/v1alpha1", "kind": "Component",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"type": typ, "version": "v1", "metadata": md},
	}
	if scopes != nil {
		o["scopes"] = scopes
	}
	return render.Object{Source: "component.yaml", Line: 1, Obj: o}
}

// check runs rule id on objs and compares the findings' fields and
// messages: want holds, per finding, its field and parts of its message.
func check(t *testing.T, id string, objs []render.Object, want [][]string, never ...string) {
	t.Helper()
	got := runRule(t, id, objs...)
	if len(got) != len(want) {
		for _, f := range got {
			t.Logf("%s: %s", f.Field, f.Message)
		}
		t.Fatalf("%d findings, want %d", len(got), len(want))
	}
	for i, f := range got {
		if f.Field != want[i][0] {
			t.Errorf("finding %d at %s, want %s", i, f.Field, want[i][0])
		}
		for _, part := range want[i][1:] {
			if !strings.Contains(f.Message, part) {
				t.Errorf("finding %d: %q lacks %q", i, f.Message, part)
			}
		}
		for _, s := range never {
			if strings.Contains(f.Message, s) {
				t.Errorf("finding %d: %q shows %q", i, f.Message, s)
			}
		}
	}
}

func TestConsumerSQLiteReplicas(t *testing.T) {
	const field = "spec.replicas"
	consumer := func(kind string, replicas any, c map[string]any) []render.Object {
		return []render.Object{workload{kind, "gatekeeper-violations", "violations", dapr("violations"), replicas, []any{c}}.object()}
	}
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"default store, 3 replicas", consumer("Deployment", int64(3), consumerContainer(nil)),
			[][]string{{field, `container "c"`, "the default sqlite:///var/lib/violations/violations.db", "no --store, --store-file or VIOLATIONS_STORE", "spec.replicas is 3", "PostgreSQL"}}},
		{"replicas as a float", consumer("Deployment", float64(2), consumerContainer(nil)), [][]string{{field, "spec.replicas is 2"}}},
		{"replicas as an int", consumer("Deployment", 2, consumerContainer(nil)), [][]string{{field, "spec.replicas is 2"}}},
		{"no replicas field", consumer("Deployment", nil, consumerContainer(nil)), nil},
		{"one replica", consumer("Deployment", int64(1), consumerContainer(nil)), nil},
		{"zero replicas", consumer("Deployment", int64(0), consumerContainer(nil)), nil},
		{"replicas not a number", consumer("Deployment", "2", consumerContainer(nil)), nil},
		{"StatefulSet with a sqlite --store", consumer("StatefulSet", int64(2), consumerContainer([]string{"--store", "sqlite:///data/v.db"})),
			[][]string{{field, "(--store sqlite:///data/v.db)"}}},
		{"ReplicaSet", consumer("ReplicaSet", int64(2), consumerContainer(nil)), [][]string{{field}}},
		{"DaemonSet has no replicas", consumer("DaemonSet", int64(2), consumerContainer(nil)), nil},
		{"sqlite from a plain variable", consumer("Deployment", int64(2), consumerContainer(nil, [2]any{"VIOLATIONS_STORE", "sqlite:///env.db"})),
			[][]string{{field, "(env VIOLATIONS_STORE sqlite:///env.db)"}}},
		{"postgres --store", consumer("Deployment", int64(3), consumerContainer([]string{"--store=postgres://u@db/v"})), nil},
		{"--store-file", consumer("Deployment", int64(3), consumerContainer([]string{"--store-file=/etc/store/url"})), nil},
		{"--store over a sqlite VIOLATIONS_STORE", consumer("Deployment", int64(3), consumerContainer([]string{"--store=postgres://u@db/v"}, [2]any{"VIOLATIONS_STORE", "sqlite:///x"})), nil},
		{"VIOLATIONS_STORE from a Secret", consumer("Deployment", int64(3), consumerContainer(nil, [2]any{"VIOLATIONS_STORE", fromSecret})), nil},
		{"--store from a Secret variable", consumer("Deployment", int64(3), consumerContainer([]string{"--store=$(URL)"}, [2]any{"URL", fromSecret})), nil},
		{"not the consumer", consumer("Deployment", int64(3), subscriberContainer("audit-channel")), nil},
		{"not serve", consumer("Deployment", int64(3), containerOf(violationsImage, []string{"list"})), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, "consumer-sqlite-replicas", tt.objs, tt.want) })
	}
}

func TestConsumerStorePlaintext(t *testing.T) {
	const pw = "Pa55-w0rd"
	consumer := func(c map[string]any) []render.Object {
		return []render.Object{workload{"Deployment", "gatekeeper-violations", "violations", dapr("violations"), nil, []any{c}}.object()}
	}
	const args1 = "spec.template.spec.containers[0].args[1]"
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"--store=", consumer(consumerContainer([]string{"--store=postgres://v:" + pw + "@db:5432/v?sslmode=verify-full"})),
			[][]string{{args1, `container "c"`, `"postgres://v:xxxxx@db:5432/v?sslmode=verify-full" (--store)`, "read it from a Secret"}}},
		{"--store and its value", consumer(consumerContainer([]string{"--store", "postgresql://v:" + pw + "@db/v"})),
			[][]string{{"spec.template.spec.containers[0].args[2]", `"postgresql://v:xxxxx@db/v"`}}},
		{"scheme in capitals", consumer(consumerContainer([]string{"--store=POSTGRES://v:" + pw + "@db/v"})), [][]string{{args1}}},
		{"password query parameter", consumer(consumerContainer([]string{"--store=postgres://db/v?user=v&password=" + pw})),
			[][]string{{args1, "password=xxxxx"}}},
		{"VIOLATIONS_STORE", consumer(consumerContainer(nil, [2]any{"VIOLATIONS_STORE", "postgres://v:" + pw + "@db/v"})),
			[][]string{{"spec.template.spec.containers[0].env[0].value", "(env VIOLATIONS_STORE)"}}},
		{"password in a referenced variable", consumer(consumerContainer([]string{"--store=postgres://v:$(PW)@db/v"}, [2]any{"PW", pw})),
			[][]string{{"spec.template.spec.containers[0].env[0].value", "(--store)", "(in the value of env PW)"}}},
		{"URL in a referenced variable", consumer(consumerContainer([]string{"--store=$(URL)"}, [2]any{"URL", "postgres://v:" + pw + "@db/v"})),
			[][]string{{"spec.template.spec.containers[0].env[0].value", "(in the value of env URL)"}}},
		{"both --store and VIOLATIONS_STORE", consumer(consumerContainer([]string{"--store=postgres://v:" + pw + "@db/v"}, [2]any{"VIOLATIONS_STORE", "postgres://w:" + pw + "@db/v"})),
			[][]string{{args1, "(--store)"}, {"spec.template.spec.containers[0].env[0].value", "(env VIOLATIONS_STORE)"}}},
		{"one variable used twice", consumer(consumerContainer([]string{"--store=$(URL)"}, [2]any{"URL", "postgres://v:" + pw + "@db/v"}, [2]any{"VIOLATIONS_STORE", "$(URL)"})),
			[][]string{{"spec.template.spec.containers[0].env[0].value"}}},
		{"password from a Secret", consumer(consumerContainer([]string{"--store=postgres://v:$(PW)@db/v"}, [2]any{"PW", fromSecret})), nil},
		{"URL from a Secret", consumer(consumerContainer(nil, [2]any{"VIOLATIONS_STORE", fromSecret})), nil},
		{"--store-file", consumer(consumerContainer([]string{"--store-file=/etc/store/url"})), nil},
		{"no password", consumer(consumerContainer([]string{"--store=postgres://v@db/v?sslmode=verify-full"})), nil},
		{"empty password", consumer(consumerContainer([]string{"--store=postgres://v:@db/v"})), nil},
		{"sqlite", consumer(consumerContainer([]string{"--store=sqlite:///var/lib/v.db"})), nil},
		{"not the consumer", consumer(containerOf("postgres-client:16", []string{"serve", "--store=postgres://v:" + pw + "@db/v"})), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, "consumer-store-plaintext", tt.objs, tt.want, pw) })
	}
}

func TestConsumerAppIDShared(t *testing.T) {
	const field = `spec.template.metadata.annotations["dapr.io/app-id"]`
	sub := func(ns, name, appID string, c ...any) render.Object {
		return workload{"Deployment", ns, name, dapr(appID), nil, c}.object()
	}
	redis := func(ns, host string, more ...[2]string) render.Object {
		return component(ns, "pubsub", "pubsub.redis", nil, append([][2]string{{"redisHost", host}}, more...)...)
	}
	const host = "redis-master.default.svc.cluster.local:6379"
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"same namespace and Component", []render.Object{
			sub("ns", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("ns", "violations", "subscriber", consumerContainer(nil)),
		}, [][]string{{field, `violations consumer container "c" subscribes to topic "audit-channel" with dapr.io/app-id "subscriber"`, `subscriber container "c" of Deployment ns/sub`}}},
		{"other namespaces, same broker", []render.Object{
			redis("a", host), redis("b", "redis-master.default:6379"),
			sub("a", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("b", "violations", "subscriber", consumerContainer([]string{"--topic=audit-channel"})),
		}, [][]string{{field, "Deployment a/sub"}}},
		{"three", []render.Object{
			sub("ns", "one", "x", consumerContainer(nil)),
			sub("ns", "two", "x", consumerContainer(nil)),
			sub("ns", "three", "x", consumerContainer(nil)),
		}, [][]string{{field, "Deployment ns/one"}, {field, "Deployment ns/one"}}},
		{"other app-ids", []render.Object{
			sub("ns", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("ns", "violations", "violations", consumerContainer(nil)),
		}, nil},
		{"other topics", []render.Object{
			sub("ns", "sub", "subscriber", subscriberContainer("other")),
			sub("ns", "violations", "subscriber", consumerContainer(nil)),
		}, nil},
		{"other Components in one namespace", []render.Object{
			sub("ns", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("ns", "violations", "subscriber", consumerContainer([]string{"--pubsub=other"})),
		}, nil},
		{"other namespaces, Components unknown", []render.Object{
			sub("a", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("b", "violations", "subscriber", consumerContainer(nil)),
		}, nil},
		{"other namespaces, other brokers", []render.Object{
			redis("a", host), redis("b", "other-redis:6379"),
			sub("a", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("b", "violations", "subscriber", consumerContainer(nil)),
		}, nil},
		{"Component sets consumerID", []render.Object{
			redis("ns", host, [2]string{"consumerID", "{namespace}"}),
			sub("ns", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("ns", "violations", "subscriber", consumerContainer(nil)),
		}, nil},
		{"Kafka Component sets consumerGroup", []render.Object{
			component("ns", "pubsub", "pubsub.kafka", nil, [2]string{"brokers", "kafka:9092"}, [2]string{"consumerGroup", "g"}),
			sub("ns", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("ns", "violations", "subscriber", consumerContainer(nil)),
		}, nil},
		{"in-memory Component", []render.Object{
			component("ns", "pubsub", "pubsub.in-memory", nil),
			sub("ns", "sub", "subscriber", subscriberContainer("audit-channel")),
			sub("ns", "violations", "subscriber", consumerContainer(nil)),
		}, nil},
		{"no sidecar", []render.Object{
			sub("ns", "sub", "subscriber", subscriberContainer("audit-channel")),
			workload{"Deployment", "ns", "violations", map[string]any{"dapr.io/app-id": "subscriber"}, nil, []any{consumerContainer(nil)}}.object(),
		}, nil},
		{"no app-id", []render.Object{
			sub("ns", "sub", "", subscriberContainer("audit-channel")),
			sub("ns", "violations", "", consumerContainer(nil)),
		}, nil},
		{"two containers of one pod", []render.Object{
			sub("ns", "both", "subscriber", subscriberContainer("audit-channel"), consumerContainer(nil)),
		}, nil},
		{"one object given twice", []render.Object{
			sub("ns", "violations", "subscriber", consumerContainer(nil)),
			sub("ns", "violations", "subscriber", consumerContainer(nil)),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, "consumer-app-id-shared", tt.objs, tt.want) })
	}
}

// TestComponentScopesSubscribers: component-scopes checks the app-id of
// every subscriber with a sidecar against its Component's scopes.
func TestComponentScopesSubscribers(t *testing.T) {
	scoped := func(ns, name string, scopes ...any) render.Object {
		return component(ns, name, "pubsub.redis", scopes, [2]string{"redisHost", "redis:6379"})
	}
	consumer := func(appID string, args ...string) render.Object {
		return workload{"Deployment", "v", "violations", dapr(appID), nil, []any{consumerContainer(args)}}.object()
	}
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"consumer excluded", []render.Object{scoped("v", "pubsub", "audit"), consumer("violations")},
			[][]string{{"scopes", `scopes [audit], which exclude the app-id "violations" of Deployment v/violations, whose violations consumer container "c" subscribes through it`}}},
		{"consumer listed", []render.Object{scoped("v", "pubsub", "audit", "violations"), consumer("violations")}, nil},
		{"consumer without app-id", []render.Object{scoped("v", "pubsub", "violations"), consumer("")},
			[][]string{{"scopes", "has no dapr.io/app-id"}}},
		{"no scopes", []render.Object{component("v", "pubsub", "pubsub.redis", nil, [2]string{"redisHost", "redis:6379"}), consumer("violations")}, nil},
		// Dapr lets every app load a Component with empty scopes.
		{"empty scopes", []render.Object{component("v", "pubsub", "pubsub.redis", []any{}, [2]string{"redisHost", "redis:6379"}), consumer("violations")}, nil},
		{"the consumer's --pubsub", []render.Object{scoped("v", "broker", "audit"), consumer("violations", "--pubsub=broker")}, [][]string{{"scopes"}}},
		{"another Component", []render.Object{scoped("v", "pubsub", "audit"), consumer("violations", "--pubsub=broker")}, nil},
		{"another namespace", []render.Object{scoped("w", "pubsub", "audit"), consumer("violations")}, nil},
		{"no sidecar", []render.Object{scoped("v", "pubsub", "audit"),
			workload{"Deployment", "v", "violations", map[string]any{"dapr.io/app-id": "violations"}, nil, []any{consumerContainer(nil)}}.object()}, nil},
		{"fake-subscriber excluded", []render.Object{scoped("s", "pubsub", "audit"),
			workload{"Deployment", "s", "sub", dapr("subscriber"), nil, []any{subscriberContainer("audit-channel")}}.object()},
			[][]string{{"scopes", `app-id "subscriber" of Deployment s/sub, whose subscriber container "c"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, "component-scopes", tt.objs, tt.want) })
	}
}

// TestComponentScopesAudit: the audit's app-id against its Component's
// scopes; empty scopes let every app load the Component.
func TestComponentScopesAudit(t *testing.T) {
	conn := render.Object{Source: "connection.yaml", Line: 1, Obj: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "audit-connection", "namespace": "gatekeeper-system"},
		"data":     map[string]any{"provider": "dapr", "config": `{"component": "pubsub"}`},
	}}
	audit := auditObject("openpolicyagent/gatekeeper:v3.18.3", []string{"--operation=audit", "--enable-pub-sub=true"}, dapr("audit"), nil)
	tests := []struct {
		name   string
		scopes []any
		want   [][]string
	}{
		{"listed", []any{"audit", "subscriber"}, nil},
		{"excluded", []any{"subscriber"}, [][]string{{"scopes", `exclude the audit's app-id "audit"`}}},
		{"empty", []any{}, nil},
		{"absent", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp := component("gatekeeper-system", "pubsub", "pubsub.redis", tt.scopes, [2]string{"redisHost", "redis:6379"})
			check(t, "component-scopes", []render.Object{audit, conn, comp}, tt.want)
		})
	}
}

// TestSubscriberBrokerMismatchRedacts: the broker addresses the finding
// quotes have their passwords hidden.
func TestSubscriberBrokerMismatchRedacts(t *testing.T) {
	const pw = "R4bb1t-pw"
	conn := render.Object{Source: "connection.yaml", Line: 1, Obj: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "audit-connection", "namespace": "gatekeeper-system"},
		"data":     map[string]any{"provider": "dapr", "config": `{"component": "pubsub"}`},
	}}
	audit := auditObject("openpolicyagent/gatekeeper:v3.18.3", []string{"--operation=audit", "--enable-pub-sub=true"}, dapr("audit"), nil)
	tests := []struct {
		name     string
		pub, sub string
		want     [][]string
	}{
		{"passwords", "amqp://u:" + pw + "@rabbit-a:5672", "amqp://u:" + pw + "@rabbit-b:5672",
			[][]string{{"spec.metadata[0].value", `"amqp://u:xxxxx@rabbit-b:5672"`, `"amqp://u:xxxxx@rabbit-a:5672"`}}},
		{"no passwords", "amqp://rabbit-a:5672", "amqp://rabbit-b:5672",
			[][]string{{"spec.metadata[0].value", `"amqp://rabbit-b:5672"`, `"amqp://rabbit-a:5672"`}}},
		{"same broker", "amqp://u:" + pw + "@rabbit-a.gatekeeper-system:5672", "amqp://u:" + pw + "@rabbit-a.gatekeeper-system.svc.cluster.local:5672", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := []render.Object{audit, conn,
				component("gatekeeper-system", "pubsub", "pubsub.rabbitmq", nil, [2]string{"connectionString", tt.pub}),
				component("fake-subscriber", "pubsub", "pubsub.rabbitmq", nil, [2]string{"connectionString", tt.sub}),
			}
			check(t, "subscriber-broker-mismatch", objs, tt.want, pw)
		})
	}
}
