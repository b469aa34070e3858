package serve

import (
	"net/http"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
)

// routes puts the page and the API on one listener. /healthz and /readyz
// stay open: the kubelet's probes carry no token. Everything else needs
// the token when one is set: the JSON API and the page show messages and
// resource names, and /metrics too, because its labels name every
// namespace and constraint with open violations; a Prometheus scrape sends
// the token with its authorization credentials_file (ServiceMonitor:
// authorization), and neither the chart's probes nor the page use /metrics.
func routes(token string, page, apiHandler http.Handler) http.Handler {
	guarded := http.NewServeMux()
	guarded.Handle("/api/", apiHandler)
	guarded.Handle("/metrics", apiHandler)
	guarded.Handle("/", page)
	mux := http.NewServeMux()
	mux.Handle("/healthz", apiHandler)
	mux.Handle("/readyz", apiHandler)
	mux.Handle("/", api.RequireToken(token, guarded))
	return mux
}
