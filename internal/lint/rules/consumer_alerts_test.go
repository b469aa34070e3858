package rules

import (
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

const alertsNS = "gatekeeper-violations"

// alertsConfigMap is a ConfigMap in the consumer's namespace with data.
func alertsConfigMap(name string, data map[string]any) render.Object {
	return render.Object{Source: "alerts.yaml", Line: 1, Obj: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": alertsNS},
		"data":     data,
	}}
}

// alertsConsumer is the consumer Deployment with args, its container's
// volumeMounts, the pod's volumes and env entries.
func alertsConsumer(args []string, volumeMounts []any, volumes []any, env ...[2]any) render.Object {
	c := consumerContainer(args, env...)
	if volumeMounts != nil {
		c["volumeMounts"] = volumeMounts
	}
	o := workload{"Deployment", alertsNS, "violations", dapr("violations"), nil, []any{c}}.object()
	if volumes != nil {
		o = withVolumes(o, volumes...)
	}
	return o
}

// projected is the chart's alerts volume: the ConfigMap's alerts.yaml and
// Secret keys (name, key, path).
func projected(cm string, secrets ...[3]string) map[string]any {
	sources := []any{map[string]any{"configMap": map[string]any{"name": cm, "items": []any{map[string]any{"key": "alerts.yaml", "path": "alerts.yaml"}}}}}
	for _, s := range secrets {
		sources = append(sources, map[string]any{"secret": map[string]any{"name": s[0], "items": []any{map[string]any{"key": s[1], "path": s[2]}}}})
	}
	return map[string]any{"name": "alerts", "projected": map[string]any{"defaultMode": 288, "sources": sources}}
}

var alertsMount = map[string]any{"name": "alerts", "mountPath": "/etc/violations/alerts", "readOnly": true}

func TestConsumerAlertURLPlain(t *testing.T) {
	const token = "S3cr3tT0k3n"
	slackURL := "https://hooks.slack.example/services/T000/B000/" + token
	routes := func(r string) map[string]any { return map[string]any{"alerts.yaml": "routes:\n" + r} }
	const dataField = `data["alerts.yaml"]`
	flag := []string{"--alerts-config=/etc/violations/alerts/alerts.yaml"}
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"slack url in any alerts.yaml", []render.Object{alertsConfigMap("alerts", routes("  - name: chat\n    slack:\n      url: "+slackURL+"\n"))},
			[][]string{{dataField + ".routes[0].slack.url", "routes[0] (chat).slack.url in key alerts.yaml", `the Slack webhook URL "https://hooks.slack.example/…"`, "a Slack webhook URL is a credential", "violations serve refuses the file", "urlFile"}}},
		{"webhook url with a token query", []render.Object{alertsConfigMap("alerts", routes("  - {name: ok, webhook: {url: 'https://hooks.example/v'}}\n  - {name: hook, webhook: {url: 'https://hooks.example/v?token="+token+"'}}\n"))},
			[][]string{{dataField + ".routes[1].webhook.url", "routes[1] (hook).webhook.url", `"https://hooks.example/…"`, "its query carries a credential"}}},
		{"webhook url with user info", []render.Object{alertsConfigMap("alerts", routes("  - {webhook: {url: 'https://alerts:"+token+"@hooks.example:8443/v'}}\n"))},
			[][]string{{dataField + ".routes[0].webhook.url", "routes[0].webhook.url", `"https://hooks.example:8443/…"`, "its user info is a credential"}}},
		{"key named by --alerts-config", []render.Object{
			alertsConfigMap("violations-alerts", map[string]any{"routes.yaml": "routes:\n  - {name: chat, slack: {url: '" + slackURL + "'}}\n"}),
			alertsConsumer([]string{"--alerts-config=/etc/alerts/routes.yaml"}, []any{map[string]any{"name": "a", "mountPath": "/etc/alerts"}},
				[]any{map[string]any{"name": "a", "configMap": map[string]any{"name": "violations-alerts"}}}),
		}, [][]string{{`data["routes.yaml"].routes[0].slack.url`, `(the --alerts-config of violations consumer container "c" of Deployment gatekeeper-violations/violations)`}}},
		{"key named by --alerts-config through a projected volume and subPath", []render.Object{
			alertsConfigMap("cm", map[string]any{"r": "routes:\n  - {name: chat, slack: {url: '" + slackURL + "'}}\n"}),
			alertsConsumer([]string{"--alerts-config", "/config/alerts.yaml"}, []any{map[string]any{"name": "p", "mountPath": "/config/alerts.yaml", "subPath": "alerts/routes.yaml"}},
				[]any{map[string]any{"name": "p", "projected": map[string]any{"sources": []any{map[string]any{"configMap": map[string]any{"name": "cm", "items": []any{map[string]any{"key": "r", "path": "alerts/routes.yaml"}}}}}}}}),
		}, [][]string{{`data.r.routes[0].slack.url`, "--alerts-config of violations consumer"}}},
		{"the chart's setup reported once", []render.Object{
			alertsConfigMap("violations-alerts", routes("  - {name: chat, slack: {url: '"+slackURL+"'}}\n")),
			alertsConsumer(flag, []any{alertsMount}, []any{projected("violations-alerts")}),
		}, [][]string{{dataField + ".routes[0].slack.url", "--alerts-config of violations consumer"}}},
		{"urlEnv set with a plain value", []render.Object{
			alertsConfigMap("violations-alerts", routes("  - {name: chat, slack: {urlEnv: SLACK_URL}}\n  - {name: hook, webhook: {urlEnv: HOOK_URL}}\n")),
			alertsConsumer(flag, []any{alertsMount}, []any{projected("violations-alerts")}, [2]any{"SLACK_URL", slackURL}, [2]any{"HOOK_URL", "https://u:" + token + "@hooks.example/v"}),
		}, [][]string{
			{"spec.template.spec.containers[0].env[0].value", `violations consumer container "c" has env SLACK_URL with a plain value`, "routes[0] (chat).slack.urlEnv of key alerts.yaml in ConfigMap gatekeeper-violations/violations-alerts", "valueFrom.secretKeyRef"},
			{"spec.template.spec.containers[0].env[1].value", "env HOOK_URL", `"https://hooks.example/…"`},
		}},
		// Near misses.
		{"urlFile and plain webhook url", []render.Object{alertsConfigMap("alerts", routes("  - {name: chat, slack: {urlFile: /etc/violations/alerts/chat/url}}\n  - {name: hook, webhook: {url: 'https://hooks.example/v#frag', tokenFile: /t}}\n"))}, nil},
		{"urlEnv from a Secret", []render.Object{
			alertsConfigMap("violations-alerts", routes("  - {name: chat, slack: {urlEnv: SLACK_URL}}\n")),
			alertsConsumer(flag, []any{alertsMount}, []any{projected("violations-alerts")}, [2]any{"SLACK_URL", fromSecret}),
		}, nil},
		{"urlEnv of an alerts.yaml no consumer reads", []render.Object{
			alertsConfigMap("other", routes("  - {name: chat, slack: {urlEnv: SLACK_URL}}\n")),
			alertsConsumer(nil, nil, nil, [2]any{"SLACK_URL", slackURL}),
		}, nil},
		{"another key name not read by a consumer", []render.Object{alertsConfigMap("alerts", map[string]any{"routes.yaml": "routes:\n  - {name: chat, slack: {url: '" + slackURL + "'}}\n"})}, nil},
		{"alerts.yaml that is no routes file", []render.Object{alertsConfigMap("alerts", map[string]any{"alerts.yaml": "groups:\n  - name: x\n    rules: []\n"})}, nil},
		{"alerts.yaml that is not YAML", []render.Object{alertsConfigMap("alerts", map[string]any{"alerts.yaml": "routes: [\n"})}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, "consumer-alert-url-plain", tt.objs, tt.want, token, "/services/") })
	}
}

func TestRedactAlertURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.example/services/T/B/x": "https://hooks.slack.example/…",
		"https://u:p@hooks.example:8443/v?token=x":   "https://hooks.example:8443/…",
		"http://h":   "http://h/…",
		"hooks/x":    "(not shown)",
		"%zz://x:y@": "(not shown)",
	} {
		if got := RedactAlertURL(in); got != want {
			t.Errorf("RedactAlertURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConsumerAlertsConfigUnmounted(t *testing.T) {
	const args0 = "spec.template.spec.containers[0].args[1]"
	const mount0 = "spec.template.spec.containers[0].volumeMounts[0]"
	flag := []string{"--alerts-config=/etc/violations/alerts/alerts.yaml"}
	cm := alertsConfigMap("violations-alerts", map[string]any{"alerts.yaml": "routes: []\n"})
	cmVolume := func(items ...any) []any {
		src := map[string]any{"name": "violations-alerts"}
		if items != nil {
			src["items"] = items
		}
		return []any{map[string]any{"name": "alerts", "configMap": src}}
	}
	item := func(key, p string) any { return map[string]any{"key": key, "path": p} }
	tests := []struct {
		name string
		objs []render.Object
		want [][]string
	}{
		{"no mount", []render.Object{alertsConsumer(flag, nil, nil)},
			[][]string{{args0, `violations consumer container "c" reads --alerts-config /etc/violations/alerts/alerts.yaml, but mounts no volume at or above it`, "mount the ConfigMap holding the routes at /etc/violations/alerts"}}},
		{"a mount elsewhere", []render.Object{alertsConsumer([]string{"--alerts-config", "/etc/alerts.yaml"}, []any{map[string]any{"name": "tmp", "mountPath": "/tmp"}}, []any{map[string]any{"name": "tmp", "emptyDir": map[string]any{}}})},
			[][]string{{"spec.template.spec.containers[0].args[2]", "--alerts-config /etc/alerts.yaml", "at /etc"}}},
		{"items project other paths", []render.Object{cm, alertsConsumer(flag, []any{alertsMount}, cmVolume(item("alerts.yaml", "routes.yaml")))},
			[][]string{{mount0, `configMap volume "alerts" mounted at /etc/violations/alerts, whose items project no file "alerts.yaml"`}}},
		{"projected items project other paths", []render.Object{cm, alertsConsumer([]string{"--alerts-config=/etc/violations/alerts/ops/url"}, []any{alertsMount}, []any{projected("violations-alerts", [3]string{"s", "k", "chat/url"})})},
			[][]string{{mount0, `projected volume "alerts"`, `no file "ops/url"`}}},
		{"ConfigMap without the key", []render.Object{alertsConfigMap("violations-alerts", map[string]any{"routes.yaml": "routes: []\n"}), alertsConsumer(flag, []any{alertsMount}, cmVolume())},
			[][]string{{mount0, `key "alerts.yaml" of ConfigMap gatekeeper-violations/violations-alerts (volume "alerts"), but the ConfigMap has no such key`}}},
		// Near misses.
		{"the chart's projected volume", []render.Object{cm, alertsConsumer(flag, []any{alertsMount}, []any{projected("violations-alerts")})}, nil},
		{"configMap volume without items", []render.Object{cm, alertsConsumer(flag, []any{alertsMount}, cmVolume())}, nil},
		{"binaryData key", []render.Object{{Source: "cm.yaml", Line: 1, Obj: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "violations-alerts", "namespace": alertsNS}, "binaryData": map[string]any{"alerts.yaml": "cm91dGVzOiBbXQo="}}},
			alertsConsumer(flag, []any{alertsMount}, cmVolume())}, nil},
		{"ConfigMap not among the inputs", []render.Object{alertsConsumer(flag, []any{alertsMount}, cmVolume())}, nil},
		{"ConfigMap in another namespace", []render.Object{{Source: "cm.yaml", Line: 1, Obj: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "violations-alerts", "namespace": "other"}, "data": map[string]any{}}},
			alertsConsumer(flag, []any{alertsMount}, cmVolume())}, nil},
		{"subPath mount of the file", []render.Object{cm, alertsConsumer([]string{"--alerts-config=/alerts.yaml"}, []any{map[string]any{"name": "alerts", "mountPath": "/alerts.yaml", "subPath": "alerts.yaml"}}, cmVolume())}, nil},
		{"emptyDir not judged", []render.Object{alertsConsumer(flag, []any{map[string]any{"name": "e", "mountPath": "/etc/violations"}}, []any{map[string]any{"name": "e", "emptyDir": map[string]any{}}})}, nil},
		{"relative path not judged", []render.Object{alertsConsumer([]string{"--alerts-config=alerts.yaml"}, nil, nil)}, nil},
		{"no --alerts-config", []render.Object{alertsConsumer(nil, nil, nil)}, nil},
		{"empty --alerts-config", []render.Object{alertsConsumer([]string{"--alerts-config="}, nil, nil)}, nil},
		{"not the consumer", []render.Object{workload{"Deployment", alertsNS, "x", nil, nil, []any{containerOf("alertmanager:v0.27", []string{"serve", "--alerts-config=/x"})}}.object()}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, "consumer-alerts-config-unmounted", tt.objs, tt.want) })
	}
}
