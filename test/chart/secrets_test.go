package chart_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// TestPlaintextSecrets: a Component metadata item that Dapr marks sensitive
// for the Component's type (templates/_sensitive.tpl, generated from the
// "sensitive" marks of schemas/pubsub/), or whose value is a URL with a
// password, is refused as a plain value, with a message naming the item,
// the key and the Component but never the value.
func TestPlaintextSecrets(t *testing.T) {
	const secret = "s3cr3t-Value"
	tests := []struct {
		name     string
		typ      string
		metadata string // YAML list items of component.metadata
		set      []string
		want     []string // in the error; empty means the values render
	}{
		{name: "jetstream jwt", typ: "pubsub.jetstream",
			metadata: "- {name: natsURL, value: 'nats://nats:4222'}\n- {name: jwt, value: " + secret + "}\n",
			want:     []string{"component.metadata[1]: jwt is a secret", "sensitive for pubsub.jetstream", "Component pubsub", "secretKeyRef"}},
		{name: "jwt in another letter case", typ: "pubsub.jetstream",
			metadata: "- {name: natsURL, value: 'nats://nats:4222'}\n- {name: JWT, value: " + secret + "}\n",
			want:     []string{"component.metadata[1]: JWT is a secret"}},
		{name: "redis azureClientSecret", typ: "pubsub.redis",
			metadata: "- {name: redisHost, value: 'r:6379'}\n- {name: azureClientSecret, value: " + secret + "}\n",
			want:     []string{"component.metadata[1]: azureClientSecret is a secret", "pubsub.redis"}},
		{name: "eventhubs azureClientSecret", typ: "pubsub.azure.eventhubs",
			metadata: "- {name: eventHubNamespace, value: ns}\n- {name: azureClientSecret, value: " + secret + "}\n",
			want:     []string{"component.metadata[1]: azureClientSecret is a secret", "pubsub.azure.eventhubs"}},
		{name: "rabbitmq connectionString with a password", typ: "pubsub.rabbitmq",
			metadata: "- {name: connectionString, value: 'amqp://gatekeeper:" + secret + "@rabbitmq:5672/'}\n",
			want:     []string{"component.metadata[0]: connectionString is a secret", "pubsub.rabbitmq", "Component pubsub"}},
		{name: "rabbitmq host (deprecated) is as sensitive", typ: "pubsub.rabbitmq",
			metadata: "- {name: host, value: 'amqp://rabbitmq:5672'}\n",
			want:     []string{"component.metadata[0]: host is a secret"}},
		{name: "URL with a password in a key not marked sensitive", typ: "pubsub.jetstream",
			metadata: "- {name: natsURL, value: 'nats://audit:" + secret + "@nats:4222'}\n",
			want:     []string{"component.metadata[0]: natsURL of Component broker is a URL with a password", "secretKeyRef"},
			set:      []string{"config.component=broker"}},
		{name: "URL with a password in a list of URLs", typ: "pubsub.jetstream",
			metadata: "- {name: natsURL, value: 'nats://a:4222,nats://u:" + secret + "@b:4222'}\n",
			want:     []string{"natsURL of Component pubsub is a URL with a password"}},
		{name: "unknown type: every type's sensitive names", typ: "pubsub.kubemq",
			metadata: "- {name: address, value: 'kubemq:50000'}\n- {name: token, value: " + secret + "}\n",
			want:     []string{"component.metadata[1]: token is a secret"}},
		{name: "kafka saslPassword", typ: "pubsub.kafka",
			metadata: "- {name: brokers, value: 'k:9092'}\n- {name: saslPassword, value: " + secret + "}\n",
			want:     []string{"component.metadata[1]: saslPassword is a secret"}},
		{name: "subscriber only", typ: "pubsub.jetstream", set: []string{"audit.enablePubsub=false", "subscriber.enabled=true"},
			metadata: "- {name: natsURL, value: 'nats://nats:4222'}\n- {name: seedKey, value: " + secret + "}\n",
			want:     []string{"component.metadata[1]: seedKey is a secret"}},

		{name: "jwt from a Secret", typ: "pubsub.jetstream",
			metadata: "- {name: natsURL, value: 'nats://nats:4222'}\n- {name: jwt, secretKeyRef: {name: nats, key: jwt}}\n"},
		{name: "connectionString from a Secret", typ: "pubsub.rabbitmq",
			metadata: "- {name: connectionString, secretKeyRef: {name: rabbitmq, key: url}}\n"},
		{name: "URL with a user and no password", typ: "pubsub.jetstream",
			metadata: "- {name: natsURL, value: 'nats://audit@nats:4222'}\n"},
		{name: "URL with a port and a path", typ: "pubsub.jetstream",
			metadata: "- {name: natsURL, value: 'nats://nats:4222/x@y'}\n"},
		{name: "a key sensitive elsewhere is plain here", typ: "pubsub.kafka",
			metadata: "- {name: brokers, value: 'k:9092'}\n- {name: consumerGroup, value: audit}\n- {name: url, value: 'http://schema-registry:8081'}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := "audit: {enablePubsub: true}\ncomponent:\n  type: " + tt.typ + "\n  metadata:\n" + secretsIndent(tt.metadata, "  ")
			f := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(f, []byte(values), 0o644); err != nil {
				t.Fatal(err)
			}
			vs := valueSet{name: tt.name, set: tt.set, files: []string{f}}
			_, err := render.Chart(context.Background(), chartDir, vs.options(true))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("values\n%s: %v", values, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("values\n%srendered without error", values)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error prints the secret value:\n%v", err)
			}
		})
	}
}

func secretsIndent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}
