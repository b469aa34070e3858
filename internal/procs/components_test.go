package procs

import (
	"testing"

	"sigs.k8s.io/yaml"
)

// TestBrokerComponents checks that each broker's Component is a Dapr
// Component of the right type with the settings its comment promises.
func TestBrokerComponents(t *testing.T) {
	for _, c := range []struct {
		yaml, typ string
		want      map[string]string
	}{
		{(&NATS{URL: "nats://127.0.0.1:1"}).Component("pubsub", "GATEKEEPER", "violations"), "pubsub.jetstream",
			map[string]string{"natsURL": "nats://127.0.0.1:1", "streamName": "GATEKEEPER", "durableName": "violations"}},
		// An empty durable ("" in want: the key is left out).
		{(&NATS{URL: "nats://127.0.0.1:1"}).Component("pubsub", "GATEKEEPER", ""), "pubsub.jetstream",
			map[string]string{"streamName": "GATEKEEPER", "durableName": ""}},
		{(&RabbitMQ{URL: "amqp://guest:guest@127.0.0.1:1"}).Component("pubsub"), "pubsub.rabbitmq",
			map[string]string{"durable": "true", "deletedWhenUnused": "false", "deliveryMode": "2", "publisherConfirm": "true", "requeueInFailure": "true"}},
		{(&Mosquitto{URL: "tcp://127.0.0.1:1"}).Component("pubsub"), "pubsub.mqtt3",
			map[string]string{"url": "tcp://127.0.0.1:1", "qos": "1", "retain": "false", "cleanSession": "false"}},
		{(&Redis{Addr: "127.0.0.1:1", Password: "p"}).Component("pubsub"), "pubsub.redis",
			map[string]string{"redisHost": "127.0.0.1:1", "redisPassword": "p"}},
		// Every value is quoted: one YAML would read otherwise stays as written.
		{(&Redis{Addr: "127.0.0.1:1", Password: `p"a: ss #x\ 'y' {z}`}).Component("pubsub"), "pubsub.redis",
			map[string]string{"redisPassword": `p"a: ss #x\ 'y' {z}`, "redeliverInterval": "1s"}},
	} {
		var comp struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Type     string `json:"type"`
				Version  string `json:"version"`
				Metadata []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"metadata"`
			} `json:"spec"`
		}
		if err := yaml.UnmarshalStrict([]byte(c.yaml), &comp); err != nil {
			t.Fatalf("%s: %v\n%s", c.typ, err, c.yaml)
		}
		if comp.APIVersion != "dapr.io/v1alpha1" || comp.Kind != "Component" || comp.Spec.Type != c.typ || comp.Spec.Version != "v1" || comp.Metadata.Name != "pubsub" {
			t.Errorf("%s: %+v", c.typ, comp)
		}
		got := map[string]string{}
		for _, m := range comp.Spec.Metadata {
			got[m.Name] = m.Value
		}
		for k, v := range c.want {
			if have, ok := got[k]; v == "" && ok {
				t.Errorf("%s: %s = %q, want it left out", c.typ, k, have)
			} else if v != "" && got[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.typ, k, got[k], v)
			}
		}
	}
}
