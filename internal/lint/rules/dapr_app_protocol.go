package rules

import (
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
)

const annotationAppProtocol = "dapr.io/app-protocol"

// appProtocols are the values daprd v1.14.0 takes for --app-protocol (the
// dapr.io/app-protocol annotation), in any letter case (pkg/runtime
// config.go); any other makes it exit at start.
var appProtocols = []string{"grpc", "grpcs", "http", "https", "h2c"}

func init() {
	register(&Rule{
		ID:       "dapr-app-protocol",
		Severity: Error,
		Category: CatSubscriber,
		Summary:  "A pod's dapr.io/app-protocol is not one daprd takes, or is not the plain HTTP the subscriber serves.",
		Doc: "daprd reads `dapr.io/app-protocol` as its `--app-protocol`: `http` (the default), `https`, `h2c`, " +
			"`grpc` or `grpcs`, in any letter case. Any other value makes daprd exit at start (\"invalid value for " +
			"'app-protocol'\", dapr v1.14.0 pkg/runtime/config.go), in the audit pod as in a subscriber's, so " +
			"nothing is published or received.\n\n" +
			"The violations consumer (`violations serve`) and the project's fake-subscriber serve plain HTTP/1.1 " +
			"to their daprd. With `grpc` or `grpcs` daprd asks them for their subscriptions over gRPC, with " +
			"`https` over TLS, with `h2c` over HTTP/2 without TLS: each call fails, daprd subscribes to nothing " +
			"and nothing arrives.",
		Remediation: "Remove `dapr.io/app-protocol` (daprd then uses `http`) or set it to `http`.",
		Check:       checkDaprAppProtocol,
	})
}

func checkDaprAppProtocol(s *model.Setup, r *Reporter) {
	plainHTTP := map[*model.Workload]string{}
	for _, sub := range s.Subscribers() {
		if _, seen := plainHTTP[sub.Workload]; !seen && (sub.Consumer != nil || sub.FakeSubscriber()) {
			plainHTTP[sub.Workload] = sub.Describe()
		}
	}
	for _, w := range s.Workloads {
		v, ok := w.Annotations[annotationAppProtocol]
		if !ok || !w.DaprEnabled() {
			continue
		}
		p := strings.ToLower(strings.TrimSpace(v))
		known := false
		for _, k := range appProtocols {
			known = known || p == k
		}
		switch {
		case !known:
			r.Report(w.Obj, w.AnnotationPath(annotationAppProtocol), "%s has %s: %q, which daprd does not take (it takes %s): its daprd exits at start with \"invalid value for 'app-protocol'\"%s",
				w.Obj.String(), annotationAppProtocol, v, Prose(strings.Join(appProtocols, ", ")), didYouMean(p, appProtocols))
		case p != "http" && plainHTTP[w] != "":
			r.Report(w.Obj, w.AnnotationPath(annotationAppProtocol), "%s has %s: %q, but %s serves plain HTTP/1.1: daprd's calls for its subscriptions and deliveries fail, so nothing arrives; remove the annotation or set it to \"http\"",
				w.Obj.String(), annotationAppProtocol, v, Prose(plainHTTP[w]))
		}
	}
}
