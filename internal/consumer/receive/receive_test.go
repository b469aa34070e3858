package receive_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/receive"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

var run0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func violationJSON(t *testing.T, mut func(*violation.Violation)) string {
	t.Helper()
	v := violation.Example(run0)
	if mut != nil {
		mut(&v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// asString is a CloudEvent as daprd delivers Gatekeeper's Dapr driver's
// publish over HTTP: the message's JSON as a string, text/plain.
func asString(payload string) string {
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "x", "datacontenttype": "text/plain", "data": payload})
	return string(b)
}

// asObject is what pkg/pubsub's JSON publish arrives as.
func asObject(payload string) string {
	return `{"specversion":"1.0","id":"y","datacontenttype":"application/json","data":` + payload + `}`
}

func TestDecode(t *testing.T) {
	good := violationJSON(t, nil)
	for _, tc := range []struct {
		name   string
		body   string
		kind   store.MessageKind
		ignore bool
		reason string // drop or ignore reason; "" for a stored message
	}{
		{"violation as a JSON string (Gatekeeper's Dapr driver)", asString(good), store.KindViolation, false, ""},
		{"violation as an object (pkg/pubsub)", asObject(good), store.KindViolation, false, ""},
		{"violation as base64", `{"specversion":"1.0","data_base64":"` + base64.StdEncoding.EncodeToString([]byte(good)) + `"}`, store.KindViolation, false, ""},
		{"started marker", asString(`{"id":"2026-12-01T10:00:00Z","message":"audit is started"}`), store.KindStarted, false, ""},
		{"completed marker", asObject(`{"id":"2026-12-01T10:00:00Z","message":"audit is completed"}`), store.KindCompleted, false, ""},
		{"unknown event type is ignored", asString(violationJSON(t, func(v *violation.Violation) { v.EventType = "violation_admission" })), 0, true, metrics.ReasonUnknownEventType},
		{"unknown fields are kept out, not refused", asObject(strings.Replace(good, `{`, `{"newField":1,`, 1)), store.KindViolation, false, ""},
		{"body not JSON", `hello`, 0, false, metrics.ReasonNotJSON},
		{"payload string not JSON", asString(`not json`), 0, false, metrics.ReasonNotJSON},
		{"wrong shape", asObject(`{"id":"2026-12-01T10:00:00Z","eventType":"violation_audited","kind":7}`), 0, false, metrics.ReasonInvalid},
		{"no event type, no marker", asObject(`{"id":"2026-12-01T10:00:00Z","message":"hi"}`), 0, false, metrics.ReasonInvalid},
		{"violation without a resource", asString(violationJSON(t, func(v *violation.Violation) { v.ResourceName = "" })), 0, false, metrics.ReasonInvalid},
		{"run id not a time", asString(violationJSON(t, func(v *violation.Violation) { v.ID = "yesterday" })), 0, false, metrics.ReasonInvalid},
		{"too large", asString(violationJSON(t, func(v *violation.Violation) { v.Message = strings.Repeat("x", 5000) })), 0, false, metrics.ReasonTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, ignore, reason, err := receive.Decode([]byte(tc.body), 4096)
			if reason != tc.reason || ignore != tc.ignore {
				t.Fatalf("reason %q ignore %v (err %v), want %q %v", reason, ignore, err, tc.reason, tc.ignore)
			}
			if tc.reason != "" && !tc.ignore {
				if err == nil {
					t.Fatal("no error for a message to drop")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.ignore && (msg.Kind != tc.kind || !msg.Run.Equal(run0)) {
				t.Fatalf("kind %v run %v, want %v %v", msg.Kind, msg.Run, tc.kind, run0)
			}
		})
	}
}

type env struct {
	srv *httptest.Server
	st  store.Store
	m   *metrics.Metrics
}

func newEnv(t *testing.T, opts receive.Options) env {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m := metrics.New(st, nil)
	opts.Store, opts.Metrics = st, m
	if opts.Pubsub == "" {
		opts.Pubsub, opts.Topic = "pubsub", "audit-channel"
	}
	r, err := receive.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go r.Run(ctx)
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	return env{srv: srv, st: st, m: m}
}

func post(t *testing.T, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestDeliveries(t *testing.T) {
	e := newEnv(t, receive.Options{DeadLetterTopic: "audit-dead", MaxMessageBytes: 8192})
	url := e.srv.URL + "/violations"
	for _, tc := range []struct {
		body, want string
	}{
		{asString(violationJSON(t, nil)), `{"status":"SUCCESS"}`},
		{asString(violationJSON(t, nil)), `{"status":"SUCCESS"}`}, // a duplicate is acked
		{asString(violationJSON(t, func(v *violation.Violation) { v.EventType = "violation_admission" })), `{"status":"SUCCESS"}`},
		{`poison`, `{"status":"DROP"}`},
		{asString(strings.Repeat("x", 1<<20)), `{"status":"DROP"}`},
	} {
		code, got := post(t, url, tc.body, nil)
		if code != http.StatusOK || got != tc.want {
			t.Errorf("%.40s…: %d %s, want 200 %s", tc.body, code, got, tc.want)
		}
	}
	vs, err := e.st.Violations(context.Background(), store.Filter{})
	if err != nil || len(vs) != 1 {
		t.Fatalf("%d violations stored (%v), want 1", len(vs), err)
	}
	for _, c := range []struct {
		name  string
		value float64
	}{
		{"acked", testutil.ToFloat64(e.m.Received.WithLabelValues("acked"))},
		{"dropped", testutil.ToFloat64(e.m.Received.WithLabelValues("dropped"))},
		{"not-json", testutil.ToFloat64(e.m.Dropped.WithLabelValues(metrics.ReasonNotJSON))},
		{"too-large", testutil.ToFloat64(e.m.Dropped.WithLabelValues(metrics.ReasonTooLarge))},
		{"unknown", testutil.ToFloat64(e.m.Ignored.WithLabelValues(metrics.ReasonUnknownEventType))},
		{"duplicate", testutil.ToFloat64(e.m.Ignored.WithLabelValues(metrics.ReasonDuplicate))},
	} {
		want := map[string]float64{"acked": 3, "dropped": 2, "not-json": 1, "too-large": 1, "unknown": 1, "duplicate": 1}[c.name]
		if c.value != want {
			t.Errorf("metric %s = %v, want %v", c.name, c.value, want)
		}
	}
	resp, err := http.Get(e.srv.URL + "/dapr/subscribe")
	if err != nil {
		t.Fatal(err)
	}
	var subs []map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&subs)
	resp.Body.Close()
	if fmt.Sprint(subs) != "[map[deadLetterTopic:audit-dead pubsubname:pubsub route:/violations topic:audit-channel]]" {
		t.Fatalf("subscription %v", subs)
	}
}

func TestStoreErrorIsRetried(t *testing.T) {
	e := newEnv(t, receive.Options{})
	_ = e.st.Close() // a store that cannot be written: a real closed database
	code, got := post(t, e.srv.URL+"/violations", asString(violationJSON(t, nil)), nil)
	if code != http.StatusOK || got != `{"status":"RETRY"}` {
		t.Fatalf("%d %s, want RETRY", code, got)
	}
}

func TestAppToken(t *testing.T) {
	e := newEnv(t, receive.Options{Token: "s3cret"})
	for _, tc := range []struct {
		header map[string]string
		code   int
	}{
		{nil, http.StatusUnauthorized},
		{map[string]string{receive.TokenHeader: "wrong"}, http.StatusUnauthorized},
		{map[string]string{receive.TokenHeader: "s3cret"}, http.StatusOK},
	} {
		code, _ := post(t, e.srv.URL+"/violations", asString(violationJSON(t, nil)), tc.header)
		if code != tc.code {
			t.Errorf("header %v: %d, want %d", tc.header, code, tc.code)
		}
	}
	vs, _ := e.st.Violations(context.Background(), store.Filter{})
	if len(vs) != 1 {
		t.Fatalf("%d violations stored, want 1 (only the one with the token)", len(vs))
	}
}
