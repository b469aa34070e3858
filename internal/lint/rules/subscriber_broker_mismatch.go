package rules

import (
	"net"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "subscriber-broker-mismatch",
		Severity: Warning,
		Category: CatSubscriber,
		Summary:  "A subscriber's Component of the same name points at another broker (type or host) than the publisher's.",
		Doc: "Publisher and subscriber each load the Component from their own namespace. When " +
			"the subscriber's Component of the same name has another type, or another host, the " +
			"messages go to one broker and are read from another: nothing arrives. Hosts are " +
			"compared after resolving Kubernetes service names relative to each Component's " +
			"namespace and adding the default port (`redis-master.default:6379` and " +
			"`redis-master.default.svc.cluster.local:6379` are the same). The finding shows the " +
			"addresses with their passwords replaced by `xxxxx` (`amqp://user:xxxxx@host`).",
		Remediation: "Make both Components point at the same broker (same type and host).",
		Check:       checkSubscriberBrokerMismatch,
		DaprOnly:    true,
	})
}

// hostKeys names, per pubsub type, the metadata key that says where the broker is.
var hostKeys = map[string]string{
	"pubsub.redis":     "redisHost",
	"pubsub.kafka":     "brokers",
	"pubsub.rabbitmq":  "connectionString",
	"pubsub.jetstream": "natsURL",
	"pubsub.pulsar":    "host",
	"pubsub.mqtt3":     "url",
}

var defaultPorts = map[string]string{"pubsub.redis": "6379", "pubsub.kafka": "9092", "pubsub.pulsar": "6650"}

func checkSubscriberBrokerMismatch(s *model.Setup, r *Reporter) {
	for _, a := range s.Audits {
		if !a.Publishes {
			continue
		}
		pub := s.ComponentOf(a)
		if pub == nil || !pub.IsPubsub() {
			continue
		}
		for _, sub := range s.Components {
			if sub.Name != pub.Name || sub.Namespace == a.Namespace {
				continue
			}
			if !strings.EqualFold(sub.Type, pub.Type) { // daprd reads types in any letter case
				r.Report(sub.Obj, model.P("spec", "type"), "the subscriber's Component %q is %s, but the publisher's (%s) is %s",
					sub.Name, sub.Type, pub.Obj.String(), pub.Type)
				continue
			}
			key, ok := hostKeys[pub.Type]
			if !ok {
				continue
			}
			pi, ok1 := pub.Item(key)
			si, ok2 := sub.Item(key)
			if !ok1 || !ok2 || !pi.HasValue || !si.HasValue {
				continue
			}
			if brokerAddr(pi.Value, pub.Namespace, pub.Type) != brokerAddr(si.Value, sub.Namespace, sub.Type) {
				r.Report(sub.Obj, sub.ItemPath(si.Index, "value"), "the subscriber's Component %q has %s %q, but the publisher's (%s) has %q: they use different brokers",
					sub.Name, key, model.RedactURL(si.Value), pub.Obj.String(), model.RedactURL(pi.Value))
			}
		}
	}
}

// brokerAddr normalises broker addresses: a comma-separated list of
// [scheme://]host[:port], service names resolved in ns.
func brokerAddr(v, ns, typ string) string {
	parts := strings.Split(v, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		scheme := ""
		if s, rest, ok := strings.Cut(p, "://"); ok {
			scheme, p = s+"://", rest
		}
		if j := strings.IndexAny(p, "/?"); j >= 0 {
			p = p[:j]
		}
		if j := strings.LastIndex(p, "@"); j >= 0 {
			p = p[j+1:]
		}
		host, port, err := net.SplitHostPort(p)
		if err != nil {
			host, port = p, defaultPorts[typ]
		}
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		if net.ParseIP(host) == nil && host != "localhost" {
			switch strings.Count(host, ".") {
			case 0:
				host += "." + ns + ".svc.cluster.local"
			case 1:
				host += ".svc.cluster.local"
			default:
				if strings.HasSuffix(host, ".svc") {
					host += ".cluster.local"
				}
			}
		}
		parts[i] = scheme + net.JoinHostPort(host, port)
	}
	return strings.Join(parts, ",")
}
