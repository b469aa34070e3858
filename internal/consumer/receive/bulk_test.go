package receive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/receive"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// bulkBody is a bulk delivery as daprd v1.14 posts it: an envelope whose
// entries each carry one CloudEvent as a JSON object.
func bulkBody(entries ...[2]string) string {
	var b strings.Builder
	b.WriteString(`{"id":"b1","type":"com.dapr.event.sent.bulk","topic":"audit-channel","pubsubname":"pubsub","metadata":{},"entries":[`)
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"entryId":%q,"event":%s,"metadata":{},"contentType":"application/cloudevents+json"}`, e[0], e[1])
	}
	b.WriteString(`]}`)
	return b.String()
}

func statuses(t *testing.T, body string) map[string]string {
	t.Helper()
	var resp struct {
		Statuses []struct{ EntryID, Status string } `json:"statuses"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	out := map[string]string{}
	for _, s := range resp.Statuses {
		out[s.EntryID] = s.Status
	}
	return out
}

func TestBulkDelivery(t *testing.T) {
	e := newEnv(t, receive.Options{DeadLetterTopic: "audit-dead", MaxMessageBytes: 8192, Bulk: receive.Bulk{MaxMessages: 10, MaxAwait: 3 * time.Millisecond}})
	url := e.srv.URL + "/violations" + receive.BulkRoute
	named := func(name string) string {
		return asString(violationJSON(t, func(v *violation.Violation) { v.ResourceName = name }))
	}
	unknown := asString(violationJSON(t, func(v *violation.Violation) { v.EventType = "violation_admission" }))
	for _, tc := range []struct {
		name    string
		entries [][2]string
		want    string // fmt of entry ID → status
		stored  int    // violations in the store after it
	}{
		{"each entry its own status", [][2]string{
			{"1", named("a")}, {"2", named("b")}, {"3", unknown}, {"4", `"cG9pc29u"`}, {"5", asString(strings.Repeat("x", 1<<14))}, {"6", asObject(`{"id":"2026-12-01T10:00:00Z","message":"audit is completed"}`)},
		}, "map[1:SUCCESS 2:SUCCESS 3:SUCCESS 4:DROP 5:DROP 6:SUCCESS]", 2},
		{"a redelivery is acked and changes nothing", [][2]string{{"7", named("a")}, {"8", named("b")}}, "map[7:SUCCESS 8:SUCCESS]", 2},
		{"an entry without an ID gets no answer (daprd retries it)", [][2]string{{"", named("c")}, {"9", named("d")}}, "map[9:SUCCESS]", 3},
		{"empty", nil, "map[]", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := post(t, url, bulkBody(tc.entries...), nil)
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, got)
			}
			if s := fmt.Sprint(statuses(t, got)); s != tc.want {
				t.Fatalf("statuses %s, want %s", s, tc.want)
			}
			vs, err := e.st.Violations(context.Background(), store.Filter{})
			if err != nil || len(vs) != tc.stored {
				t.Fatalf("%d violations stored (%v), want %d", len(vs), err, tc.stored)
			}
		})
	}
	for name, c := range map[string]struct{ got, want float64 }{
		"bulk requests": {testutil.ToFloat64(e.m.Deliveries.WithLabelValues("bulk")), 4},
		"acked":         {testutil.ToFloat64(e.m.Received.WithLabelValues("acked")), 7},
		"dropped":       {testutil.ToFloat64(e.m.Received.WithLabelValues("dropped")), 2},
		"not-json":      {testutil.ToFloat64(e.m.Dropped.WithLabelValues(metrics.ReasonNotJSON)), 1},
		"too-large":     {testutil.ToFloat64(e.m.Dropped.WithLabelValues(metrics.ReasonTooLarge)), 1},
		"unknown":       {testutil.ToFloat64(e.m.Ignored.WithLabelValues(metrics.ReasonUnknownEventType)), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}

	// The subscription asks daprd for bulk delivery to the bulk route.
	resp, err := http.Get(e.srv.URL + "/dapr/subscribe")
	if err != nil {
		t.Fatal(err)
	}
	var subs []map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&subs)
	resp.Body.Close()
	if got := fmt.Sprint(subs); got != "[map[bulkSubscribe:map[enabled:true maxAwaitDurationMs:3 maxMessagesCount:10] deadLetterTopic:audit-dead pubsubname:pubsub route:/violations/bulk topic:audit-channel]]" {
		t.Fatalf("subscription %s", got)
	}
}

func TestBulkRejects(t *testing.T) {
	e := newEnv(t, receive.Options{MaxMessageBytes: 1024, Bulk: receive.Bulk{MaxMessages: 2}})
	url := e.srv.URL + "/violations" + receive.BulkRoute
	for _, tc := range []struct {
		name, body string
		code       int
	}{
		// Past MaxMessages × (MaxMessageBytes + 8 KiB) + 64 KiB the body is
		// not read: daprd redelivers, as after a store error.
		{"over the bound", bulkBody([2]string{"1", asString(strings.Repeat("x", 200<<10))}), http.StatusRequestEntityTooLarge},
		{"not a bulk envelope", `[1,2]`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, got := post(t, url, tc.body, nil); code != tc.code {
				t.Fatalf("%d %s, want %d", code, got, tc.code)
			}
		})
	}
}

func TestBulkStoreErrorIsRetried(t *testing.T) {
	e := newEnv(t, receive.Options{Bulk: receive.Bulk{MaxMessages: 10}})
	_ = e.st.Close() // a real closed database
	code, got := post(t, e.srv.URL+"/violations"+receive.BulkRoute, bulkBody([2]string{"1", asString(violationJSON(t, nil))}, [2]string{"2", `"x"`}), nil)
	if s := fmt.Sprint(statuses(t, got)); code != http.StatusOK || s != "map[1:RETRY 2:DROP]" {
		t.Fatalf("%d %s, want 1 RETRY, 2 DROP", code, got)
	}
}

func TestBulkOptions(t *testing.T) {
	_, err := receive.New(receive.Options{Pubsub: "p", Topic: "t", Store: nil})
	if err == nil {
		t.Fatal("no store accepted")
	}
	st, err := store.Open(context.Background(), "sqlite://"+t.TempDir()+"/v.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := receive.New(receive.Options{Pubsub: "p", Topic: "t", Store: st, Bulk: receive.Bulk{MaxMessages: -1}}); err == nil || !strings.Contains(err.Error(), "bulk max messages is -1") {
		t.Fatalf("error %v", err)
	}
}
