package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

const annotationAppPort = "dapr.io/app-port"

func init() {
	register(&Rule{
		ID:       "subscriber-app-port",
		Severity: Error,
		Category: CatSubscriber,
		Summary:  "A subscriber's pod has no dapr.io/app-port, or one other than the port the subscriber listens on, so daprd delivers nothing.",
		Doc: "daprd learns an app's subscriptions by calling it (`GET /dapr/subscribe`) on the port of " +
			"`dapr.io/app-port`, and delivers each message there. Without the annotation daprd opens no app " +
			"channel: it logs one warning (\"app channel not initialized, make sure -app-port is specified if " +
			"pubsub subscription is required\", dapr v1.14.0 pkg/runtime/processor/subscriber) and never " +
			"subscribes, so the subscriber starts and stays healthy while nothing arrives. With a port the " +
			"app does not listen on, daprd blocks at start \"until the app is listening on that port\" " +
			"(pkg/runtime blockUntilAppIsReady) and never subscribes either.\n\n" +
			"Checked for subscribers with `dapr.io/enabled`: the violations consumer (`violations serve`, " +
			"listening on `--app-listen`, default `127.0.0.1:6002`) and the project's fake-subscriber " +
			"(`--port` or `APP_PORT`, default 6002). An annotation written on the Deployment instead of its pod " +
			"template is `dapr-annotation-unknown`'s.",
		Remediation: "Set `dapr.io/app-port` on the pod template to the port the subscriber listens on " +
			"(`dapr.io/app-port: \"6002\"` for the defaults).",
		Check: checkSubscriberAppPort,
	})
}

func checkSubscriberAppPort(s *model.Setup, r *Reporter) {
	seen := map[*model.Workload]bool{}
	for _, sub := range s.Subscribers() {
		w := sub.Workload
		if !w.DaprEnabled() || seen[w] {
			continue
		}
		seen[w] = true
		port, from, known := sub.AppPort()
		annotated, ok := w.Annotations[annotationAppPort]
		if !ok {
			if _, onObject := w.Obj.Annotations()[annotationAppPort]; onObject {
				continue
			}
			want := `the port the app listens on (for example "` + model.DefaultAppPort + `")`
			if known {
				want = `"` + port + `" (` + from + `)`
			}
			r.Report(w.Obj, w.AnnotationPath(annotationAppPort), "%s has dapr.io/enabled but no %s on its pod template, so daprd opens no app channel and never asks %s for its subscriptions: nothing arrives (daprd only logs \"app channel not initialized\"); add %s: %s",
				w.Obj.String(), annotationAppPort, Prose(sub.Describe()), annotationAppPort, Prose(want))
			continue
		}
		if !known || strings.TrimSpace(annotated) == port {
			continue
		}
		r.Report(w.Obj, w.AnnotationPath(annotationAppPort), "%s has %s: %q, but %s listens on port %s (%s): daprd waits at start until something listens on %s, so it never subscribes and nothing arrives",
			w.Obj.String(), annotationAppPort, annotated, Prose(sub.Describe()), port, from, annotated)
	}
}
