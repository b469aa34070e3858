// Package receive is the violations consumer's Dapr app: it declares its
// subscription to daprd (programmatic, GET /dapr/subscribe), takes each
// delivered CloudEvent, decodes Gatekeeper's message (a JSON string over
// HTTP as Gatekeeper's Dapr driver publishes it, or a JSON object as
// pkg/pubsub does), and answers daprd only after the message's effect is
// committed to the store. Messages arriving together are committed in one
// transaction (group commit).
//
// With Bulk set, the subscription asks daprd for bulk delivery (Dapr's
// bulkSubscribe): daprd then posts up to Bulk.MaxMessages messages in one
// request to Route+"/bulk" and the receiver answers a status per entry, so
// a commit holds a whole request and daprd's per-message HTTP round trip
// goes.
package receive

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/metrics"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/violation"
)

// Dapr's answers to a delivery.
const (
	StatusSuccess = "SUCCESS"
	StatusRetry   = "RETRY"
	StatusDrop    = "DROP"
)

// TokenHeader carries Dapr's app API token on daprd's calls to the app.
const TokenHeader = "dapr-api-token"

// Options configure the receiver.
type Options struct {
	// Pubsub component and Topic to subscribe to.
	Pubsub, Topic string
	// DeadLetterTopic, if set, is named in the subscription: daprd sends
	// the messages answered DROP there.
	DeadLetterTopic string
	// Route is the path daprd delivers to (default /violations).
	Route string
	// Cluster the messages come from.
	Cluster string
	// MaxMessageBytes caps a delivery's body (default 256 KiB); a larger
	// one is dropped.
	MaxMessageBytes int64
	// Token, if set, is required in the dapr-api-token header
	// (APP_API_TOKEN, the dapr.io/app-token-secret annotation).
	Token string
	// BatchSize caps the messages committed in one transaction (default
	// 512).
	BatchSize int
	// Linger bounds how long a batch waits for the deliveries that were in
	// flight with the last one (default 2 ms; negative: never wait).
	// daprd delivers with a fixed number of workers (10 for Redis); each
	// sends its next message only when its last was answered, so without
	// waiting, the batch after a commit holds the one or two that came
	// back first and the commits get small.
	Linger time.Duration
	// Bulk, if MaxMessages is over 0, subscribes with Dapr's bulk
	// delivery.
	Bulk    Bulk
	Store   store.Store
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

// Bulk configures Dapr's bulk delivery (bulkSubscribe in the subscription).
type Bulk struct {
	// MaxMessages is the most messages daprd puts in one request
	// (maxMessagesCount); 0 turns bulk delivery off.
	MaxMessages int
	// MaxAwait is how long daprd collects messages before it sends a
	// request that is not full (maxAwaitDurationMs, whole milliseconds).
	MaxAwait time.Duration
}

// BulkRoute is the path, under Route, daprd posts bulk requests to.
const BulkRoute = "/bulk"

// Receiver is the Dapr app.
type Receiver struct {
	opts       Options
	queue      chan *pending
	subscribed atomic.Bool
	// inflight counts deliveries being handled; peak is the most seen at
	// once since the current batch began.
	inflight, peak atomic.Int64
}

// pending is what one request waits to see committed: one message, or
// the stored entries of a bulk request.
type pending struct {
	msgs []store.Message
	done chan outcome
}

type outcome struct {
	err error
}

// New makes a receiver; Run must be running for deliveries to be answered.
func New(opts Options) (*Receiver, error) {
	if opts.Store == nil {
		return nil, errors.New("receive: no store")
	}
	if opts.Pubsub == "" || opts.Topic == "" {
		return nil, errors.New("receive: pubsub and topic are required")
	}
	if opts.Route == "" {
		opts.Route = "/violations"
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 256 << 10
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 512
	}
	if opts.Linger == 0 {
		opts.Linger = 2 * time.Millisecond
	}
	if opts.Bulk.MaxMessages < 0 {
		return nil, fmt.Errorf("receive: bulk max messages is %d, want 0 (off) or more", opts.Bulk.MaxMessages)
	}
	if opts.Bulk.MaxMessages > 0 && opts.Bulk.MaxAwait < time.Millisecond {
		opts.Bulk.MaxAwait = 5 * time.Millisecond
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New(nil, nil)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Receiver{opts: opts, queue: make(chan *pending, opts.BatchSize*4)}, nil
}

// Subscribed reports whether daprd has read the subscription or delivered.
func (r *Receiver) Subscribed() bool { return r.subscribed.Load() }

// Run commits queued messages, a batch per transaction, until ctx ends.
func (r *Receiver) Run(ctx context.Context) {
	batch := make([]*pending, 0, r.opts.BatchSize)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case p := <-r.queue:
			batch = append(batch, p)
		}
		batch = r.fill(batch)
		r.commit(ctx, batch)
	}
}

// fill adds what is queued to batch, then waits up to Linger for as many
// messages as were in flight at once since the last batch. A request's
// messages are never split between batches.
func (r *Receiver) fill(batch []*pending) []*pending {
	want := min(int(r.peak.Swap(r.inflight.Load())), r.opts.BatchSize)
	n := 0
	for _, p := range batch {
		n += len(p.msgs)
	}
	var deadline <-chan time.Time
	for n < r.opts.BatchSize {
		select {
		case p := <-r.queue:
			batch, n = append(batch, p), n+len(p.msgs)
			continue
		default:
		}
		if n >= want || r.opts.Linger < 0 {
			return batch
		}
		if deadline == nil {
			t := time.NewTimer(r.opts.Linger)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case p := <-r.queue:
			batch, n = append(batch, p), n+len(p.msgs)
		case <-deadline:
			return batch
		}
	}
	return batch
}

func (r *Receiver) commit(ctx context.Context, batch []*pending) {
	var msgs []store.Message
	if len(batch) == 1 {
		msgs = batch[0].msgs
	} else {
		for _, p := range batch {
			msgs = append(msgs, p.msgs...)
		}
	}
	r.opts.Metrics.Batch.Observe(float64(len(msgs)))
	res, err := r.opts.Store.Record(ctx, r.opts.Cluster, msgs)
	if err != nil {
		r.opts.Logger.Error("storing messages; daprd will redeliver them", "messages", len(msgs), "error", err)
	}
	if res.Opened > 0 {
		r.opts.Metrics.New.WithLabelValues(r.opts.Cluster).Add(float64(res.Opened))
	}
	if res.Reopened > 0 {
		r.opts.Metrics.Reopened.WithLabelValues(r.opts.Cluster).Add(float64(res.Reopened))
	}
	if res.Ignored > 0 {
		r.opts.Metrics.Ignored.WithLabelValues(metrics.ReasonOldRun).Add(float64(res.Ignored))
	}
	if res.Duplicates > 0 {
		r.opts.Metrics.Ignored.WithLabelValues(metrics.ReasonDuplicate).Add(float64(res.Duplicates))
	}
	for _, p := range batch {
		p.done <- outcome{err: err}
	}
}

// Handler serves daprd: GET /dapr/subscribe and POST on the route.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dapr/subscribe", r.subscribe)
	mux.HandleFunc("POST "+r.opts.Route, r.deliver)
	mux.HandleFunc("POST "+r.opts.Route+BulkRoute, r.deliverBulk)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return r.requireToken(mux)
}

func (r *Receiver) requireToken(next http.Handler) http.Handler {
	if r.opts.Token == "" {
		return next
	}
	want := []byte(r.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got := []byte(req.Header.Get(TokenHeader))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			// Not 404: daprd takes a 404 as success and drops the message.
			http.Error(w, "missing or wrong "+TokenHeader, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, req)
	})
}

type subscription struct {
	PubsubName      string            `json:"pubsubname"`
	Topic           string            `json:"topic"`
	Route           string            `json:"route"`
	DeadLetterTopic string            `json:"deadLetterTopic,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	BulkSubscribe   *bulkSubscribe    `json:"bulkSubscribe,omitempty"`
}

type bulkSubscribe struct {
	Enabled            bool  `json:"enabled"`
	MaxMessagesCount   int   `json:"maxMessagesCount"`
	MaxAwaitDurationMs int64 `json:"maxAwaitDurationMs"`
}

func (r *Receiver) subscribe(w http.ResponseWriter, _ *http.Request) {
	sub := subscription{PubsubName: r.opts.Pubsub, Topic: r.opts.Topic, Route: r.opts.Route, DeadLetterTopic: r.opts.DeadLetterTopic}
	if b := r.opts.Bulk; b.MaxMessages > 0 {
		sub.Route += BulkRoute
		sub.BulkSubscribe = &bulkSubscribe{Enabled: true, MaxMessagesCount: b.MaxMessages, MaxAwaitDurationMs: b.MaxAwait.Milliseconds()}
	}
	subs := []subscription{sub}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(subs)
	if !r.subscribed.Swap(true) {
		r.opts.Logger.Info("subscription read by daprd", "pubsub", r.opts.Pubsub, "topic", r.opts.Topic, "deadLetterTopic", r.opts.DeadLetterTopic, "bulkMaxMessages", r.opts.Bulk.MaxMessages)
	}
}

func answer(w http.ResponseWriter, status string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":%q}`, status)
}

func (r *Receiver) deliver(w http.ResponseWriter, req *http.Request) {
	m := r.opts.Metrics
	n := r.inflight.Add(1)
	defer r.inflight.Add(-1)
	for p := r.peak.Load(); n > p && !r.peak.CompareAndSwap(p, n); p = r.peak.Load() {
	}
	// A delivery proves daprd holds the subscription (after a restart of
	// this container alone, daprd does not read it again).
	r.subscribed.Store(true)
	m.Deliveries.WithLabelValues("single").Inc()
	// The envelope around the message is small; allow it on top.
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.opts.MaxMessageBytes+4096))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		r.drop(w, metrics.ReasonTooLarge, fmt.Errorf("body over %d bytes", r.opts.MaxMessageBytes), req)
		return
	}
	if err != nil {
		m.Received.WithLabelValues("retried").Inc()
		answer(w, StatusRetry)
		return
	}
	msg, ignore, reason, err := Decode(body, r.opts.MaxMessageBytes)
	if err != nil {
		r.drop(w, reason, err, req)
		return
	}
	if ignore {
		m.Ignored.WithLabelValues(reason).Inc()
		m.Received.WithLabelValues("acked").Inc()
		answer(w, StatusSuccess)
		return
	}
	p := &pending{msgs: []store.Message{msg}, done: make(chan outcome, 1)}
	select {
	case r.queue <- p:
	case <-req.Context().Done():
		return
	}
	// Wait for the commit even if daprd gave up: the batch is committed
	// or not as a whole, and a redelivery is idempotent.
	out := <-p.done
	if out.err != nil {
		m.Received.WithLabelValues("retried").Inc()
		answer(w, StatusRetry)
		return
	}
	m.Received.WithLabelValues("acked").Inc()
	answer(w, StatusSuccess)
}

func (r *Receiver) drop(w http.ResponseWriter, reason string, err error, req *http.Request) {
	r.opts.Metrics.Dropped.WithLabelValues(reason).Inc()
	r.opts.Metrics.Received.WithLabelValues("dropped").Inc()
	r.opts.Logger.Warn("dropping message", "reason", reason, "error", err, "deadLetterTopic", r.opts.DeadLetterTopic, "cloudevent", req.Header.Get("Ce-Id"))
	answer(w, StatusDrop)
}

// cloudEvent is the part of a delivered CloudEvent read here.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	DataBase64      string          `json:"data_base64"`
}

// Decode reads one delivery. It returns the message to store, or ignore
// with the reason for a message that changes nothing (an event type this
// consumer does not know), or an error with the reason to drop it.
func Decode(body []byte, maxBytes int64) (msg store.Message, ignore bool, reason string, err error) {
	var ce cloudEvent
	if err := unmarshal(body, &ce); err != nil {
		return msg, false, metrics.ReasonNotJSON, fmt.Errorf("the delivery is not a JSON CloudEvent: %w", err)
	}
	payload := []byte(ce.Data)
	switch {
	case ce.DataBase64 != "":
		if payload, err = base64.StdEncoding.DecodeString(ce.DataBase64); err != nil {
			return msg, false, metrics.ReasonInvalid, fmt.Errorf("data_base64: %w", err)
		}
	case len(bytes.TrimSpace(payload)) > 0 && bytes.TrimSpace(payload)[0] == '"':
		// Gatekeeper's Dapr driver: the message's JSON as a string.
		var inner string
		if err := unmarshal(payload, &inner); err != nil {
			return msg, false, metrics.ReasonNotJSON, fmt.Errorf("data is not a JSON string: %w", err)
		}
		payload = []byte(inner)
	case len(payload) == 0 && ce.SpecVersion == "":
		// Not a CloudEvent (a raw payload subscription): the body is the message.
		payload = body
	}
	if int64(len(payload)) > maxBytes {
		return msg, false, metrics.ReasonTooLarge, fmt.Errorf("message of %d bytes, over %d", len(payload), maxBytes)
	}
	var v violation.Violation
	if err := unmarshal(payload, &v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || !json.Valid(payload) {
			return msg, false, metrics.ReasonNotJSON, fmt.Errorf("message is not JSON: %w", err)
		}
		return msg, false, metrics.ReasonInvalid, fmt.Errorf("message is not a Gatekeeper violation: %w", err)
	}
	run, err := time.Parse(time.RFC3339, v.ID)
	switch v.EventType {
	case "":
		kind := store.KindStarted
		switch v.Message {
		case violation.AuditStarted:
		case violation.AuditCompleted:
			kind = store.KindCompleted
		default:
			return msg, false, metrics.ReasonInvalid, errors.New("message has no eventType and is not an audit start or end marker")
		}
		if err != nil {
			return msg, false, metrics.ReasonInvalid, fmt.Errorf("marker %q: id %q is not an RFC 3339 time: %w", v.Message, v.ID, err)
		}
		return store.Message{Kind: kind, Run: run.UTC()}, false, "", nil
	case violation.EventType:
		if err != nil {
			return msg, false, metrics.ReasonInvalid, fmt.Errorf("violation: id %q is not an RFC 3339 time: %w", v.ID, err)
		}
		for _, f := range [...]struct{ field, val string }{{"kind", v.Kind}, {"name", v.Name}, {"resourceKind", v.ResourceKind}, {"resourceName", v.ResourceName}} {
			if f.val == "" {
				return msg, false, metrics.ReasonInvalid, fmt.Errorf("violation of run %s has no %s", v.ID, f.field)
			}
		}
		return store.Message{Kind: store.KindViolation, Run: run.UTC(), Violation: v}, false, "", nil
	default:
		return msg, true, metrics.ReasonUnknownEventType, nil
	}
}
