package rules

import (
	"fmt"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

// forwarded is an audit whose pod runs pubsub-forward, with its connection
// config (nil when it is not among the inputs: connection-not-found).
type forwarded struct {
	audit      *model.Audit
	conn       *model.Connection
	forwarders []*model.Forwarder
}

// forwardedAudits returns the audits among the inputs whose pod has a
// pubsub-forward container.
func forwardedAudits(s *model.Setup) []forwarded {
	var out []forwarded
	for _, a := range s.Audits {
		if a.Assumed {
			continue
		}
		if fs := a.Forwarders(); len(fs) > 0 {
			out = append(out, forwarded{audit: a, conn: s.ConnectionOf(a), forwarders: fs})
		}
	}
	return out
}

// describeForwarder names a forwarder container for messages.
func describeForwarder(f *model.Forwarder) string {
	return fmt.Sprintf("%s container %q", model.ForwarderName, f.Container.Name)
}

// forwarderMountsPath is where a mount missing from a container is
// reported: its volumeMounts, or the container.
func forwarderMountsPath(a *model.Audit, f *model.Forwarder) model.Path {
	containers, _ := a.Spec["containers"].([]any)
	if i := f.Container.Index; i >= 0 && i < len(containers) {
		if cm, _ := containers[i].(map[string]any); cm["volumeMounts"] != nil {
			return f.Field.Add("volumeMounts")
		}
	}
	return f.Field
}
