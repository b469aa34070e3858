package rules

import (
	"fmt"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

func init() {
	register(&Rule{
		ID:       "subscriber-component-not-found",
		Severity: Error,
		Category: CatSubscriber,
		Summary:  "A subscriber with a daprd sidecar subscribes through a pubsub Component that its namespace does not have.",
		Doc: "A subscriber's daprd loads the Dapr Components of the subscriber's own namespace only " +
			"(Dapr's operator answers daprd's ListComponents with the Components of the pod's namespace, " +
			"dapr v1.14.0 pkg/operator/api/components.go). The Component the subscriber " +
			"subscribes through (the violations consumer's `--pubsub`, default `pubsub`; a container with " +
			"`AUDIT_CHANNEL`, like the project's fake-subscriber, its `PUBSUB_COMPONENT`, default `pubsub`) " +
			"must be there: the audit's Component in `gatekeeper-system` does not count. Without it daprd " +
			"reports no subscription for the pubsub and nothing arrives.\n\n" +
			"Checked for subscribers with `dapr.io/enabled`. A Component of that name that is scoped so " +
			"that the subscriber's app-id cannot load it is `component-scopes`'s.",
		Remediation: "Create the pubsub Component in the subscriber's namespace, pointing at the audit's broker " +
			"(with its Secret there too), or fix the name the subscriber uses.",
		Check: checkSubscriberComponentNotFound,
	})
}

func checkSubscriberComponentNotFound(s *model.Setup, r *Reporter) {
	type key struct {
		w    *model.Workload
		name string
	}
	seen := map[key]bool{}
	for _, sub := range s.Subscribers() {
		w := sub.Workload
		if !w.DaprEnabled() || sub.Pubsub == "" || seen[key{w, sub.Pubsub}] {
			continue
		}
		seen[key{w, sub.Pubsub}] = true
		ns := w.Obj.NS
		if s.Component(ns, sub.Pubsub) != nil {
			continue
		}
		var here []string
		other := ""
		for _, c := range s.Components {
			if c.Namespace == ns {
				if c.IsPubsub() {
					here = append(here, c.Name)
				}
			} else if c.Name == sub.Pubsub && other == "" {
				other = c.Namespace
			}
		}
		hint := didYouMean(sub.Pubsub, here)
		if other != "" {
			hint += Prose(fmt.Sprintf(" (namespace %q has one, which this daprd does not load)", other))
		}
		r.Report(w.Obj, sub.PubsubField, "%s of %s subscribes through Dapr Component %q (%s), but namespace %q has no Component of that name: its daprd loads only its own namespace's Components, so the subscription fails and nothing arrives%s",
			Prose(sub.Describe()), w.Obj.String(), sub.Pubsub, Prose(sub.PubsubFrom), ns, hint)
	}
}
