package serve

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/web"
)

// TestRoutes: with a token, the page, the JSON API and /metrics need it;
// the probes' /healthz and /readyz never do.
func TestRoutes(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	apiH := api.Handler(api.Options{Store: st, Registry: metrics.New(st, nil).Registry})
	page := web.Handler(web.Options{Store: st})
	for _, tc := range []struct {
		path            string
		open, withToken int // answers without and with the token
	}{
		{"/healthz", 200, 200},
		{"/readyz", 200, 200},
		{"/", 401, 200},
		{"/runs", 401, 200},
		{"/static/page.css", 401, 200},
		{"/violations/0123456789abcdef0123456789abcdef", 401, 404},
		{"/api/v1/violations", 401, 200},
		{"/api/v1/runs", 401, 200},
		{"/metrics", 401, 200},
		{"/nowhere", 401, 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			for _, c := range []struct {
				token, auth string
				want        int
			}{
				{"", "", tc.withToken}, // no token configured: all open
				{"t0ken", "", tc.open},
				{"t0ken", "Bearer wrong", tc.open},
				{"t0ken", "Bearer t0ken", tc.withToken},
			} {
				r := httptest.NewRequest("GET", tc.path, nil)
				if c.auth != "" {
					r.Header.Set("Authorization", c.auth)
				}
				w := httptest.NewRecorder()
				routes(c.token, page, apiH).ServeHTTP(w, r)
				if w.Code != c.want {
					t.Errorf("token %q, Authorization %q: %d, want %d", c.token, c.auth, w.Code, c.want)
				}
				if w.Code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			}
		})
	}
}
