package rules

import (
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "consumer-app-id-shared",
		Severity: Warning,
		Category: CatSubscriber,
		Summary:  "Two workloads subscribe to the same topic on the same broker with the same dapr.io/app-id, so each gets only part of the messages.",
		Doc: "daprd subscribes with the app-id as its consumer group (the pubsub Component's " +
			"`consumerID`, unless the Component sets `consumerID` or, for Kafka, `consumerGroup`). " +
			"Two different workloads (the violations consumer, `violations serve`, or a container " +
			"with `AUDIT_CHANNEL` such as the project's fake-subscriber) with the same `dapr.io/app-id` " +
			"on their pod template are then one consumer to the broker: each message goes to only one " +
			"of them, and each sees part of the stream: the violations consumer misses the " +
			"violations the other workload took. Reported when both " +
			"subscribe to the same topic through the same Component (same namespace and name), or " +
			"through Components among the inputs that point at the same broker (same type and " +
			"host, compared as by `subscriber-broker-mismatch`); on the later workload's " +
			"annotation, naming the earlier one.",
		Remediation: "Give each workload its own `dapr.io/app-id` (the chart's `consumer.appId` and " +
			"`subscriber.appId`), and scope the Components to the new app-ids if they have `scopes`.",
		Check: checkConsumerAppIDShared,
	})
}

func checkConsumerAppIDShared(s *model.Setup, r *Reporter) {
	// Subscribers by app-id and topic, in input order.
	type key struct{ appID, topic string }
	groups := map[key][]model.Subscriber{}
	for _, b := range s.Subscribers() {
		if !daprSubscribes(b) {
			continue
		}
		k := key{b.Workload.AppID(), b.Topic.Value}
		for _, a := range groups[k] {
			if sameWorkload(a.Workload, b.Workload) || !shareConsumerGroup(s, a, b) {
				continue
			}
			r.Report(b.Workload.Obj, b.Workload.AnnotationPath("dapr.io/app-id"),
				"%s subscribes to topic %q with dapr.io/app-id %q, as does %s of %s, on the same broker: daprd uses the app-id as the consumer group, "+
					"so each message goes to only one of them and each sees part of the stream; give each its own app-id",
				b.Describe(), b.Topic.Value, b.Workload.AppID(), a.Describe(), a.Workload.Obj.String())
			break
		}
		groups[k] = append(groups[k], b)
	}
}

// sameWorkload: the same workload, or the same object given twice.
func sameWorkload(a, b *model.Workload) bool {
	return a == b || a.Obj.Kind() == b.Obj.Kind() && a.Obj.NS == b.Obj.NS && a.Obj.Name() == b.Obj.Name()
}

// daprSubscribes: the subscriber's pod has a daprd sidecar with an app-id
// of its own choosing, and the Component it subscribes through is known.
func daprSubscribes(sub model.Subscriber) bool {
	return sub.Workload.DaprEnabled() && sub.Workload.AppID() != "" && sub.Pubsub != ""
}

// shareConsumerGroup says whether two subscribers with the same app-id and
// topic are known to be one consumer group: through the same Component, or
// Components pointing at the same broker, that leave the consumer group to
// the app-id.
func shareConsumerGroup(s *model.Setup, a, b model.Subscriber) bool {
	ca := s.Component(a.Workload.Obj.NS, a.Pubsub)
	cb := s.Component(b.Workload.Obj.NS, b.Pubsub)
	for _, c := range []*model.Component{ca, cb} {
		if c != nil && (ownConsumerGroup(c) || c.Type == "pubsub.in-memory") {
			return false
		}
	}
	if a.Workload.Obj.NS == b.Workload.Obj.NS && a.Pubsub == b.Pubsub {
		return true
	}
	if ca == nil || cb == nil || ca.Type != cb.Type {
		return false
	}
	key, ok := hostKeys[ca.Type]
	if !ok {
		return false
	}
	ia, ok1 := ca.Item(key)
	ib, ok2 := cb.Item(key)
	if !ok1 || !ok2 || !ia.HasValue || !ib.HasValue {
		return false
	}
	return brokerAddr(ia.Value, ca.Namespace, ca.Type) == brokerAddr(ib.Value, cb.Namespace, cb.Type)
}

// ownConsumerGroup: the Component names the consumer group itself rather
// than leaving it to the app-id.
func ownConsumerGroup(c *model.Component) bool {
	if _, ok := c.Item("consumerID"); ok {
		return true
	}
	if c.Type == "pubsub.kafka" {
		if _, ok := c.Item("consumerGroup"); ok {
			return true
		}
	}
	return false
}
