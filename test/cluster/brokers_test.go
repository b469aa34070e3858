package cluster_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/cluster"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/kubelet"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/procs/procstest"
)

// TestAuditThroughEachBroker: Gatekeeper v3.23.1's real audit publishes
// through our chart's Component of each broker that runs here (NATS
// JetStream, RabbitMQ, MQTT on Mosquitto) to the chart's subscriber, which
// receives exactly the violations the constraint counts. The broker's URL
// is in a Secret in both namespaces (a RabbitMQ URL carries credentials;
// the chart refuses them in plain text). The Components' settings are
// test/brokers' (internal/procs/components.go says why each is set):
// JetStream needs its stream before daprd starts, which the chart's hook
// Job creates (component.jetstream.createStream), and a durableName.
func TestAuditThroughEachBroker(t *testing.T) {
	const version, n = "v3.23.1", 8
	for _, tc := range []struct {
		name      string
		jetstream bool
		start     func(t *testing.T) (componentType, urlKey, url string, extra []any)
	}{
		{"jetstream", true, func(t *testing.T) (string, string, string, []any) {
			// No stream: the chart's hook Job creates it.
			nats := procstest.StartNATS(t, procs.NATSOptions{})
			return "pubsub.jetstream", "natsURL", nats.URL, []any{
				map[string]any{"name": "streamName", "value": "gatekeeper"},
				map[string]any{"name": "durableName", "value": "subscriber"},
				map[string]any{"name": "ackWait", "value": "10s"},
			}
		}},
		{"rabbitmq", false, func(t *testing.T) (string, string, string, []any) {
			r := procstest.StartRabbitMQ(t, procs.RabbitMQOptions{})
			return "pubsub.rabbitmq", "connectionString", r.URL, []any{
				map[string]any{"name": "durable", "value": "true"},
				map[string]any{"name": "deletedWhenUnused", "value": "false"},
				map[string]any{"name": "deliveryMode", "value": "2"},
				map[string]any{"name": "publisherConfirm", "value": "true"},
			}
		}},
		{"mqtt", false, func(t *testing.T) (string, string, string, []any) {
			m := procstest.StartMosquitto(t, procs.MosquittoOptions{})
			return "pubsub.mqtt3", "url", m.URL, []any{
				map[string]any{"name": "qos", "value": "1"},
				map[string]any{"name": "retain", "value": "false"},
				map[string]any{"name": "cleanSession", "value": "false"},
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, urlKey, url, extra := tc.start(t)
			e := startEnv(t, cluster.Options{DropAllCapabilities: true, GatekeeperVersions: []string{version}, JetStream: tc.jetstream})
			prepare(t, e, version, nil)
			ctx := context.Background()
			for _, ns := range []string{cluster.GatekeeperNS, cluster.SubscriberNS} {
				if _, err := e.Kube.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "broker"},
					StringData: map[string]string{"url": url}}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			vals := chartValues(e, version)
			vals["component"] = map[string]any{"type": typ, "metadata": append([]any{
				map[string]any{"name": urlKey, "secretKeyRef": map[string]any{"name": "broker", "key": "url"}},
			}, extra...)}
			if tc.jetstream {
				// The chart's hook Job runs `nats stream add` from the image
				// it names; the stand-in runs natscli built from its module.
				nats, err := procs.ToolPath("nats", "NATS_CLI")
				if err != nil {
					t.Fatal(err)
				}
				e.AddImage("natsio/nats-box:cluster-test", kubelet.Image{Binary: nats})
				vals["component"].(map[string]any)["jetstream"] = map[string]any{"createStream": true, "image": map[string]any{"tag": "cluster-test"}}
			}
			// With hooks: JetStream's stream Job runs before anything else.
			if _, err := e.HelmInstall(ctx, repoPath(t, "charts", "gatekeeper-pubsub"), "gatekeeper-pubsub", cluster.GatekeeperNS, vals, false); err != nil {
				t.Fatal(err)
			}
			applyPolicy(t, e, version, n)
			got := waitDelivered(t, e, "cm-must-have-gk-audit", n, 3*time.Minute)
			checkViolations(t, got, n)
			t.Logf("%s: %d violations of Gatekeeper %s's audit received through %s", tc.name, len(got), version, typ)
		})
	}
}
