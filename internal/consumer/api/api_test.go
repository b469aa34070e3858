package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/api"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

func TestAPI(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	v := violation.Example(run)
	v.Message = `<script>alert(1)</script>`
	if _, err := st.Record(context.Background(), "c", []store.Message{{Kind: store.KindViolation, Run: run, Violation: v}}); err != nil {
		t.Fatal(err)
	}
	key := store.Key("c", v)
	ready := "daprd has not read the subscription yet"
	srv := httptest.NewServer(api.Handler(api.Options{Store: st, Registry: metrics.New(st, nil).Registry, Ready: func() string { return ready }}))
	defer srv.Close()
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/api/v1/violations", 200, `"key": "` + key + `"`},
		{"/api/v1/violations", 200, `\u003cscript\u003e`}, // escaped, never raw HTML
		{"/api/v1/violations?state=open&namespace=nginx&constraintKind=K8sRequiredLabels", 200, key},
		{"/api/v1/violations?state=resolved", 200, `"items": []`},
		{"/api/v1/violations?search=SCRIPT", 200, key},
		{"/api/v1/violations?search=" + url.QueryEscape("alert(1)</"), 200, key},
		{"/api/v1/violations?search=%25", 200, `"items": []`}, // % is literal
		{"/api/v1/violations?search=nomatch", 200, `"items": []`},
		{"/api/v1/violations?search=" + strings.Repeat("x", api.MaxSearch+1), 400, `query parameter \"search\"`},
		{"/api/v1/violations?limit=1", 200, `"continue": "1"`},
		{"/api/v1/violations?continue=1", 200, `"items": []`},
		{"/api/v1/violations?state=closed", 400, `query parameter \"state\" is \"closed\"`},
		{"/api/v1/violations?limit=5000", 400, `query parameter \"limit\"`},
		{"/api/v1/violations?continue=abc", 400, `query parameter \"continue\"`},
		{"/api/v1/violations?sort=name", 400, `unknown query parameter \"sort\"`},
		{"/api/v1/violations?state=open&state=resolved", 400, `\"state\" given 2 times`},
		{"/api/v1/violations/" + key, 200, `"kind": "opened"`},
		{"/api/v1/violations/0123456789abcdef0123456789abcdef", 404, "no violation"},
		{"/api/v1/violations/zz';drop", 400, "violation key"},
		{"/api/v1/runs", 200, `"state": "pending"`},
		{"/api/v1/runs?limit=0", 400, `query parameter \"limit\"`},
		{"/readyz", 503, ready},
		{"/healthz", 200, "ok"},
		{"/metrics", 200, `gatekeeper_violations_open{cluster="c",constraint_kind="K8sRequiredLabels",constraint_name="pod-must-have-test",enforcement_action="deny",namespace="nginx"} 1`},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s: %d %s, want %d with %q", tc.path, resp.StatusCode, b, tc.code, tc.want)
		}
	}
	resp, err := http.Post(srv.URL+"/api/v1/violations", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST answered %d, want 405 (read-only)", resp.StatusCode)
	}
	ready = ""
	if resp, err = http.Get(srv.URL + "/readyz"); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readyz once subscribed: %d", resp.StatusCode)
	}
}
