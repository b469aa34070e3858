package schemas_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
	"sigs.k8s.io/yaml"
)

func TestEverySchemaCompiles(t *testing.T) {
	names := schemas.Names()
	for _, want := range []string{"component", "connection-configmap", "connection-config.dapr", "violation", "pubsub/pubsub.redis"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() lacks %s: %v", want, names)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "facts/") {
			t.Errorf("facts file %s is embedded as a schema", n)
		}
		if _, err := schemas.Get(n); err != nil {
			t.Errorf("Get(%q): %v", n, err)
		}
	}
}

func TestPubsubInfo(t *testing.T) {
	types := schemas.PubsubTypes()
	if !slices.Contains(types, "pubsub.redis") || !slices.Contains(types, "pubsub.in-memory") {
		t.Fatalf("PubsubTypes() = %v", types)
	}
	for _, typ := range types {
		info, err := schemas.Pubsub(typ)
		if err != nil {
			t.Fatal(err)
		}
		if info.Type != typ || info.Sensitive == nil || !slices.Contains(info.RuntimeKeys, "consumerID") {
			t.Errorf("%s: x-dapr = %+v", typ, info)
		}
	}
	redis, _ := schemas.Pubsub("pubsub.redis")
	if !slices.Contains(redis.Sensitive, "redisPassword") {
		t.Errorf("redis sensitive = %v", redis.Sensitive)
	}
	rabbit, _ := schemas.Pubsub("pubsub.rabbitmq")
	if !slices.Contains(rabbit.Deprecated, "host") || rabbit.ReplacedBy["host"] != "connectionString" || !strings.Contains(rabbit.GoSource, "pubsub/rabbitmq") {
		t.Errorf("rabbitmq x-dapr = %+v", rabbit)
	}
	if _, err := schemas.Pubsub("pubsub.nope"); err == nil {
		t.Error("Pubsub(pubsub.nope): want an error")
	}
}

func TestDrivers(t *testing.T) {
	tests := []struct {
		form string
		want []string
	}{
		{schemas.FormConfigMap, []string{"dapr"}},
		{schemas.FormConnection, []string{"dapr", "disk"}},
	}
	for _, tc := range tests {
		if got := schemas.DriversFor(tc.form); !slices.Equal(got, tc.want) {
			t.Errorf("DriversFor(%s) = %v, want %v", tc.form, got, tc.want)
		}
	}
	if got := schemas.Drivers(); !slices.Equal(got, []string{"dapr", "disk"}) {
		t.Errorf("Drivers() = %v", got)
	}
	disk, err := schemas.Driver("disk")
	if err != nil {
		t.Fatal(err)
	}
	r := disk.DurationRanges["closedConnectionTTL"]
	if disk.Since != "v3.20.0" || disk.HasForm(schemas.FormConfigMap) || r.Min != time.Minute || r.Max != 10*time.Minute {
		t.Errorf("disk = %+v", disk)
	}
	if _, err := schemas.Driver("nats"); err == nil {
		t.Error("Driver(nats): want an error")
	}
}

// guideComponent is the pubsub Component of the Gatekeeper pubsub guide.
const guideComponent = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
  namespace: gatekeeper-system
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: redis-master.default.svc.cluster.local:6379
  - name: redisPassword
    secretKeyRef:
      name: redis
      key: redis-password
`

// guideConfigMap is the connection ConfigMap of the Gatekeeper pubsub guide.
const guideConfigMap = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: audit-connection
  namespace: gatekeeper-system
data:
  provider: "dapr"
  config: |
    {
      "component": "pubsub"
    }
`

// guideViolation is the message example of the Gatekeeper pubsub guide.
const guideViolation = `{
  "id": "2023-07-18T21:21:52Z",
  "details": {"missing_labels": ["test"]},
  "eventType": "violation_audited",
  "group": "constraints.gatekeeper.sh",
  "version": "v1beta1",
  "kind": "K8sRequiredLabels",
  "name": "pod-must-have-test",
  "message": "you must provide labels: {\"test\"}",
  "enforcementAction": "deny",
  "resourceAPIVersion": "v1",
  "resourceKind": "Pod",
  "resourceNamespace": "nginx",
  "resourceName": "nginx-deployment-cd55c47f5-2b84x",
  "resourceLabels": {"app": "nginx", "pod-template-hash": "cd55c47f5"}
}`

func decode(t *testing.T, doc string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	// Round-trip through encoding/json so numbers are what Validate expects.
	b, _ := json.Marshal(v)
	v = nil
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidate(t *testing.T) {
	redisOK := `{"redisHost": "localhost:6379", "redisPassword": "", "enableTLS": "false", "redeliverInterval": "30s", "queueDepth": "100", "consumerID": "audit"}`
	tests := []struct {
		name   string
		schema string
		doc    string
		// want is nil for valid documents, else pointer -> message substring.
		want map[string]string
	}{
		{"redis metadata valid", "pubsub/pubsub.redis", redisOK, nil},
		{"redis in the documented form valid", "pubsub/pubsub.redis", `{"redisHost": "redis-master.default.svc.cluster.local:6379", "redisPassword": "secret"}`, nil},
		{"redis bool forms", "pubsub/pubsub.redis", `{"redisHost": "h", "redisPassword": "p", "enableTLS": "TRUE", "failover": "0"}`, nil},
		{"redis missing redisHost", "pubsub/pubsub.redis", `{"redisPassword": "p"}`, map[string]string{"": "redisHost"}},
		{"redis enableTLS maybe", "pubsub/pubsub.redis", `{"redisHost": "h", "redisPassword": "p", "enableTLS": "maybe"}`, map[string]string{"/enableTLS": "does not match pattern"}},
		{"redis bad duration", "pubsub/pubsub.redis", `{"redisHost": "h", "redisPassword": "p", "dialTimeout": "5 seconds"}`, map[string]string{"/dialTimeout": "does not match pattern"}},
		{"redis bad number", "pubsub/pubsub.redis", `{"redisHost": "h", "redisPassword": "p", "poolSize": "many"}`, map[string]string{"/poolSize": "does not match pattern"}},
		{"redis unknown key", "pubsub/pubsub.redis", `{"redisHost": "h", "redisPassword": "p", "redishost": "h"}`, map[string]string{"": "redishost"}},
		{"redis profile key not globally required", "pubsub/pubsub.redis", `{"redisHost": "h", "redisPassword": "p", "useEntraID": "true", "enableTLS": "true"}`, nil},
		{"kafka enum, compared in any case", "pubsub/pubsub.kafka", `{"brokers": "b:9092", "initialOffset": "latest"}`, map[string]string{"/initialOffset": "does not match pattern"}},
		{"kafka enum in another case", "pubsub/pubsub.kafka", `{"brokers": "b:9092", "initialOffset": "Oldest"}`, nil},
		{"kafka profile keys", "pubsub/pubsub.kafka", `{"brokers": "b:9092", "authType": "password", "saslUsername": "u", "saslPassword": "p", "saslMechanism": "SHA-512"}`, nil},
		{"pulsar per-topic schema key", "pubsub/pubsub.pulsar", `{"host": "pulsar:6650", "orders.jsonschema": "{}"}`, nil},
		{"eventhubs consumerID not required", "pubsub/pubsub.azure.eventhubs", `{"storageAccountName": "a", "storageContainerName": "c", "connectionString": "x"}`, nil},
		{"in-memory runtime keys", "pubsub/pubsub.in-memory", `{"allowedTopics": "a,b", "publishingScopes": "app1=a", "subscriptionScopes": "app2=b", "protectedTopics": "c", "consumerID": "x"}`, nil},
		{"in-memory unknown key", "pubsub/pubsub.in-memory", `{"redisHost": "h"}`, map[string]string{"": "redisHost"}},
		{"jetstream", "pubsub/pubsub.jetstream", `{"natsURL": "nats://nats:4222", "deliverPolicy": "new", "ackWait": "30s"}`, nil},
		{"documented component valid", schemas.Component, guideComponent, nil},
		{"component with value and secretKeyRef", schemas.Component, `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - {name: redisHost, value: "h:6379"}
  - name: redisPassword
    value: x
    secretKeyRef: {name: redis, key: redis-password}
`, map[string]string{"/spec/metadata/1": "oneOf"}},
		{"component item without a value", schemas.Component, `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec: {type: pubsub.redis, version: v1, metadata: [{name: redisHost}]}
`, map[string]string{"/spec/metadata/0": "value"}},
		{"component item empty name, secret without name", schemas.Component, `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec: {type: pubsub.redis, version: v1, metadata: [{name: "", secretKeyRef: {key: k}}]}
`, map[string]string{"/spec/metadata/0/name": "minLength", "/spec/metadata/0/secretKeyRef": "name"}},
		{"component envRef, scopes, auth", schemas.Component, `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub, namespace: ns}
spec:
  type: pubsub.redis
  version: v1
  initTimeout: 1m
  ignoreErrors: true
  metadata: [{name: redisHost, envRef: REDIS_HOST}, {name: redisPassword, secretKeyRef: {name: redis}}]
auth: {secretStore: kubernetes}
scopes: [audit]
`, nil},
		{"component missing type and version", schemas.Component, `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: pubsub}
spec: {metadata: []}
`, map[string]string{"/spec": "type"}},
		{"documented ConfigMap valid", schemas.ConnectionConfigMap, guideConfigMap, nil},
		{"documented connection config valid", schemas.ConnectionConfig("dapr"), `{"component": "pubsub"}`, nil},
		{"disk config of Gatekeeper's chart", schemas.ConnectionConfig("disk"), `{"path": "/tmp/violations/topics", "maxAuditResults": 3}`, nil},
		{"disk config with ttl", schemas.ConnectionConfig("disk"), `{"path": "v", "maxAuditResults": 0, "closedConnectionTTL": "5m"}`, nil},
		{"disk maxAuditResults above 5", schemas.ConnectionConfig("disk"), `{"path": "v", "maxAuditResults": 6}`, map[string]string{"/maxAuditResults": "maximum"}},
		{"disk path with ..", schemas.ConnectionConfig("disk"), `{"path": "a/../b", "maxAuditResults": 1}`, map[string]string{"/path": "does not match pattern"}},
		{"disk without maxAuditResults", schemas.ConnectionConfig("disk"), `{"path": "v"}`, map[string]string{"": "maxAuditResults"}},
		{"redis redisType from the source", "pubsub/pubsub.redis", `{"redisHost": "h", "redisPassword": "p", "redisType": "cluster"}`, nil},
		{"redis redisType misspelt", "pubsub/pubsub.redis", `{"redisHost": "h", "redisPassword": "p", "redisType": "clustr"}`, map[string]string{"/redisType": "value must be one of"}},
		{"kafka authType in any case", "pubsub/pubsub.kafka", `{"brokers": "b:9092", "authType": "Certificate"}`, nil},
		{"kafka authType unknown", "pubsub/pubsub.kafka", `{"brokers": "b:9092", "authType": "kerberos"}`, map[string]string{"/authType": "does not match pattern"}},
		{"kafka deprecated authRequired known", "pubsub/pubsub.kafka", `{"brokers": "b:9092", "authRequired": "false"}`, nil},
		{"rabbitmq concurrencyMode and exchangeKind from the source", "pubsub/pubsub.rabbitmq", `{"host": "amqp://h", "concurrencyMode": "single", "exchangeKind": "direct"}`, nil},
		{"rabbitmq concurrencyMode in the wrong case", "pubsub/pubsub.rabbitmq", `{"concurrencyMode": "Single"}`, map[string]string{"/concurrencyMode": "value must be one of"}},
		{"connection config empty component", schemas.ConnectionConfig("dapr"), `{"component": ""}`, map[string]string{"/component": "minLength"}},
		{"documented violation valid", schemas.Violation, guideViolation, nil},
		{"violation wrong eventType", schemas.Violation, `{"id": "x", "eventType": "other", "kind": "K", "name": "n"}`, map[string]string{"/eventType": "violation_audited"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			problems, err := schemas.Validate(tc.schema, decode(t, tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if problems != nil {
					t.Fatalf("want valid, got %v", problems)
				}
				return
			}
			for ptr, msg := range tc.want {
				found := slices.ContainsFunc(problems, func(p schemas.Problem) bool {
					return p.Pointer == ptr && strings.Contains(p.Message, msg)
				})
				if !found {
					t.Errorf("want a problem at %q mentioning %q, got %v", ptr, msg, problems)
				}
			}
		})
	}
}
