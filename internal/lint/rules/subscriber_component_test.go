package rules

import (
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestSubscriberComponentNotFound: a subscriber's daprd loads only its own
// namespace's Components; the one it subscribes through must be there.
func TestSubscriberComponentNotFound(t *testing.T) {
	const ns = "gatekeeper-violations"
	redis := [2]string{"redisHost", "redis:6379"}
	consumer := func(annotations map[string]any, c map[string]any) render.Object {
		return workload{kind: "Deployment", ns: ns, name: "violations", annotations: annotations, containers: []any{c}}.object()
	}
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"Component in the consumer's namespace", []render.Object{
			consumer(dapr("violations"), consumerContainer(nil)), component(ns, "pubsub", "pubsub.redis", nil, redis)}, nil},
		{"only the audit's Component", []render.Object{
			consumer(dapr("violations"), consumerContainer(nil)), component("gatekeeper-system", "pubsub", "pubsub.redis", nil, redis)},
			[][]string{{"spec.template.spec.containers[0].args[0]", `violations consumer container "c" of Deployment gatekeeper-violations/violations`,
				`Dapr Component "pubsub" (the default)`, `namespace "gatekeeper-violations" has no Component of that name`,
				`namespace "gatekeeper-system" has one, which this daprd does not load`}}},
		{"--pubsub misspelt", []render.Object{
			consumer(dapr("violations"), consumerContainer([]string{"--pubsub=brokr"})), component(ns, "broker", "pubsub.redis", nil, redis)},
			[][]string{{"spec.template.spec.containers[0].args[1]", `"brokr" (--pubsub)`, `did you mean "broker"?`}}},
		{"PUBSUB_COMPONENT", []render.Object{
			workload{kind: "Deployment", ns: "sub", name: "sub", annotations: dapr("subscriber"),
				containers: []any{containerOf("fake-subscriber:latest", nil, [2]any{"AUDIT_CHANNEL", "audit-channel"}, [2]any{"PUBSUB_COMPONENT", "events"})}}.object(),
			component("sub", "pubsub", "pubsub.redis", nil, redis)},
			[][]string{{"spec.template.spec.containers[0].env[1].value", `subscriber container "c"`, `"events" (PUBSUB_COMPONENT)`, `namespace "sub"`}}},
		{"fake-subscriber's default", []render.Object{
			workload{kind: "Deployment", ns: "sub", name: "sub", annotations: dapr("subscriber"), containers: []any{subscriberContainer("audit-channel")}}.object()},
			[][]string{{"spec.template.spec.containers[0]", `"pubsub" (the default)`}}},
		{"no sidecar", []render.Object{consumer(map[string]any{}, consumerContainer(nil))}, nil},
		{"scoped away: component-scopes'", []render.Object{
			consumer(dapr("violations"), consumerContainer(nil)), component(ns, "pubsub", "pubsub.redis", []any{"audit"}, redis)}, nil},
		{"pubsub from a valueFrom: unknown", []render.Object{
			workload{kind: "Deployment", ns: "sub", name: "sub", annotations: dapr("subscriber"),
				containers: []any{containerOf("fake-subscriber:latest", nil, [2]any{"AUDIT_CHANNEL", "audit-channel"}, [2]any{"PUBSUB_COMPONENT", fromSecret})}}.object()}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "subscriber-component-not-found", tc.objs, tc.want) })
	}
}

// TestSubscriberAppPort: daprd subscribes and delivers only through the
// port of dapr.io/app-port, which must be the one the subscriber listens on.
func TestSubscriberAppPort(t *testing.T) {
	withPort := func(port string) map[string]any {
		a := dapr("violations")
		if port != "" {
			a["dapr.io/app-port"] = port
		}
		return a
	}
	consumer := func(annotations map[string]any, c map[string]any) render.Object {
		return workload{kind: "Deployment", ns: "v", name: "violations", annotations: annotations, containers: []any{c}}.object()
	}
	const field = `spec.template.metadata.annotations["dapr.io/app-port"]`
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"default port", []render.Object{consumer(withPort("6002"), consumerContainer(nil))}, nil},
		{"--app-listen", []render.Object{consumer(withPort("7000"), consumerContainer([]string{"--app-listen=127.0.0.1:7000"}))}, nil},
		{"missing", []render.Object{consumer(withPort(""), consumerContainer(nil))},
			[][]string{{"spec.template.metadata.annotations", "Deployment v/violations has dapr.io/enabled but no dapr.io/app-port",
				`violations consumer container "c"`, `"app channel not initialized"`, `add dapr.io/app-port: "6002" (the default --app-listen 127.0.0.1:6002)`}}},
		{"another port", []render.Object{consumer(withPort("3000"), consumerContainer(nil))},
			[][]string{{field, `dapr.io/app-port: "3000"`, "listens on port 6002 (the default --app-listen 127.0.0.1:6002)", "waits at start until something listens on 3000"}}},
		{"--app-listen elsewhere", []render.Object{consumer(withPort("6002"), consumerContainer([]string{"--app-listen", ":7000"}))},
			[][]string{{field, "listens on port 7000 (--app-listen :7000)"}}},
		{"fake-subscriber APP_PORT", []render.Object{workload{kind: "Deployment", ns: "s", name: "sub", annotations: withPort("6002"),
			containers: []any{containerOf("fake-subscriber:latest", nil, [2]any{"AUDIT_CHANNEL", "audit-channel"}, [2]any{"APP_PORT", "6003"})}}.object()},
			[][]string{{field, `subscriber container "c" listens on port 6003 (APP_PORT 6003)`}}},
		{"fake-subscriber --port wins", []render.Object{workload{kind: "Deployment", ns: "s", name: "sub", annotations: withPort("6004"),
			containers: []any{containerOf("fake-subscriber:latest", []string{"--port=6004"}, [2]any{"AUDIT_CHANNEL", "audit-channel"}, [2]any{"APP_PORT", "6003"})}}.object()}, nil},
		{"another program: port unknown", []render.Object{workload{kind: "Deployment", ns: "s", name: "sub", annotations: withPort("8080"),
			containers: []any{containerOf("example/my-subscriber:1", nil, [2]any{"AUDIT_CHANNEL", "audit-channel"})}}.object()}, nil},
		{"another program without app-port", []render.Object{workload{kind: "Deployment", ns: "s", name: "sub", annotations: withPort(""),
			containers: []any{containerOf("example/my-subscriber:1", nil, [2]any{"AUDIT_CHANNEL", "audit-channel"})}}.object()},
			[][]string{{"spec.template.metadata.annotations", `add dapr.io/app-port: the port the app listens on (for example "6002")`}}},
		{"no sidecar", []render.Object{consumer(map[string]any{}, consumerContainer(nil))}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "subscriber-app-port", tc.objs, tc.want) })
	}
}

// TestDaprAppProtocol: daprd exits on an app-protocol it does not take,
// and the project's subscribers serve plain HTTP only.
func TestDaprAppProtocol(t *testing.T) {
	with := func(protocol string) map[string]any {
		a := dapr("violations")
		a["dapr.io/app-port"] = "6002"
		a["dapr.io/app-protocol"] = protocol
		return a
	}
	consumer := func(protocol string) render.Object {
		return workload{kind: "Deployment", ns: "v", name: "violations", annotations: with(protocol), containers: []any{consumerContainer(nil)}}.object()
	}
	const field = `spec.template.metadata.annotations["dapr.io/app-protocol"]`
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"http", []render.Object{consumer("http")}, nil},
		{"HTTP", []render.Object{consumer("HTTP")}, nil},
		{"grpc for the consumer", []render.Object{consumer("grpc")},
			[][]string{{field, `dapr.io/app-protocol: "grpc"`, `violations consumer container "c" serves plain HTTP/1.1`, "nothing arrives"}}},
		{"h2c for the fake-subscriber", []render.Object{workload{kind: "Deployment", ns: "s", name: "sub", annotations: with("h2c"),
			containers: []any{subscriberContainer("audit-channel")}}.object()}, [][]string{{field, `subscriber container "c" serves plain HTTP/1.1`}}},
		{"grpc for another program", []render.Object{workload{kind: "Deployment", ns: "s", name: "sub", annotations: with("grpc"),
			containers: []any{containerOf("example/grpc-subscriber:1", nil, [2]any{"AUDIT_CHANNEL", "audit-channel"})}}.object()}, nil},
		{"misspelt on the audit", []render.Object{auditObject("openpolicyagent/gatekeeper:v3.18.3", []string{"--operation=audit"},
			map[string]any{"dapr.io/enabled": "true", "dapr.io/app-protocol": "htp"}, nil)},
			[][]string{{field, `Deployment gatekeeper-system/gatekeeper-audit has dapr.io/app-protocol: "htp", which daprd does not take`,
				"exits at start", `did you mean "http"`}}},
		{"no sidecar", []render.Object{workload{kind: "Deployment", ns: "s", name: "sub", annotations: map[string]any{"dapr.io/app-protocol": "x"},
			containers: []any{subscriberContainer("audit-channel")}}.object()}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { check(t, "dapr-app-protocol", tc.objs, tc.want) })
	}
}
