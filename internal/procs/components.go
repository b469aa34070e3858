package procs

import (
	"fmt"
	"strconv"
	"strings"
)

// The Dapr pubsub Components for the brokers the harness starts, as the
// tests (test/brokers) and the benchmarks (bench/publish) use them for
// Gatekeeper's audit stream. Each setting is from components-contrib
// v1.14's metadata for the component (pubsub/<name>/metadata.yaml, or
// metadata.go where there is none) and says why it is set.

// Component is a pubsub.jetstream Component on the server for the stream
// CreateStream made (the chart creates it; Dapr v1.14 creates none).
//
//   - streamName names the stream, so a subscribe binds to it instead of
//     looking it up by subject.
//   - durableName makes the subscriber's consumer durable: the server keeps
//     its ack floor, so a restarted daprd (or broker) resumes after the last
//     acked message. Without it each Subscribe creates an ephemeral consumer
//     with deliverPolicy all, and every daprd restart replays the whole
//     stream (a day of audits) into the consumer.
//   - ackWait bounds how long an unacked delivery (lost with a broker stop)
//     waits before the server delivers it again; Dapr also uses it as the
//     NAK delay after a failed delivery.
//
// An empty durable leaves durableName out (for a test of what that does).
func (n *NATS) Component(name, stream, durable string) string {
	md := []string{"natsURL", n.URL, "streamName", stream}
	if durable != "" {
		md = append(md, "durableName", durable)
	}
	return component(name, "pubsub.jetstream", append(md, "ackWait", "10s")...)
}

// Component is a pubsub.rabbitmq Component that survives a broker restart:
//
//   - durable: the exchange and the subscriber's queue (consumerID-topic)
//     are durable, so they outlive a node restart (default false: gone).
//   - deletedWhenUnused false: the queue is not auto-deleted when its
//     consumer disconnects (default true: a broker or daprd restart
//     loses what was queued meanwhile).
//   - deliveryMode 2: persistent messages, written to disk (default 0:
//     transient, lost on restart even in a durable queue).
//   - publisherConfirm: daprd waits for the broker's confirm, so a publish
//     during an outage fails (and the publisher retries) instead of
//     vanishing in a dead connection.
//   - requeueInFailure: a delivery daprd could not hand to the app is
//     requeued instead of dropped.
func (r *RabbitMQ) Component(name string) string {
	return component(name, "pubsub.rabbitmq", "connectionString", r.URL, "durable", "true",
		"deletedWhenUnused", "false", "deliveryMode", "2", "publisherConfirm", "true", "requeueInFailure", "true")
}

// Component is a pubsub.mqtt3 Component for Gatekeeper's stream:
//
//   - qos 1 (at least once): the broker keeps each message until the
//     subscriber acks it, also for a subscriber that is disconnected (with
//     cleanSession false). QoS 0 loses whatever is published while the
//     subscriber or the broker is away: a run's violations go missing and
//     the consumer resolves them. QoS 2 (exactly once) costs two more round
//     trips per message and buys nothing, as the consumer records a
//     violation once per run however often it arrives.
//   - retain false: a retained message is the topic's "last value", given
//     to every new subscriber; Gatekeeper's stream is a sequence of runs,
//     not a value, and a retained last message (a run's end, or one
//     violation) would be delivered again to each subscriber that
//     (re)connects, out of its run.
//   - cleanSession false: the broker keeps the subscriber's session (its
//     subscription and the QoS 1 messages queued for it) while daprd is
//     away. The client id is the consumerID (daprd's app-id by default), so
//     two replicas of one app-id replace each other's connection.
func (m *Mosquitto) Component(name string) string {
	return component(name, "pubsub.mqtt3", "url", m.URL, "qos", "1", "retain", "false", "cleanSession", "false")
}

// Component is a pubsub.redis Component on the server (redeliverInterval
// and processingTimeout as test/consumer sets them, so that a delivery lost
// with a broker stop comes back within seconds).
func (r *Redis) Component(name string) string {
	return component(name, "pubsub.redis", "redisHost", r.Addr, "redisPassword", r.Password,
		"redeliverInterval", "1s", "processingTimeout", "3s")
}

// component is a Dapr Component of type typ with the metadata given as
// name, value pairs, each value quoted as a YAML string.
func component(name, typ string, metadata ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: %s\n  version: v1\n  metadata:\n", name, typ)
	for i := 0; i+1 < len(metadata); i += 2 {
		fmt.Fprintf(&b, "    - name: %s\n      value: %s\n", metadata[i], strconv.Quote(metadata[i+1]))
	}
	return b.String()
}
