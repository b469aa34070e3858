package receive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// bulkRequest is the part of daprd's bulk delivery read here (Dapr's
// bulk subscribe envelope: one CloudEvent per entry).
type bulkRequest struct {
	Entries []bulkEntry `json:"entries"`
}

type bulkEntry struct {
	EntryID string          `json:"entryId"`
	Event   json.RawMessage `json:"event"`
}

// bulkStatus is one entry's answer; daprd retries an entry it gets no
// answer for.
type bulkStatus struct {
	EntryID string `json:"entryId"`
	Status  string `json:"status"`
}

type bulkResponse struct {
	Statuses []bulkStatus `json:"statuses"`
}

// bulkLimit bounds a bulk request's body: MaxMessages entries of the
// largest accepted message, with room for their envelopes.
func (r *Receiver) bulkLimit() int64 {
	n := int64(max(r.opts.Bulk.MaxMessages, 1))
	return n*(r.opts.MaxMessageBytes+8<<10) + 64<<10
}

// deliverBulk answers one bulk request from daprd: entries that cannot be
// stored are dropped (to the dead-letter topic, by daprd) or ignored one
// by one, the rest are committed together and answered SUCCESS, or RETRY
// if the commit failed.
func (r *Receiver) deliverBulk(w http.ResponseWriter, req *http.Request) {
	m := r.opts.Metrics
	r.subscribed.Store(true)
	limit := r.bulkLimit()
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		// Without reading it the entries are unknown: daprd redelivers
		// them, as after a store error. Only messages far over
		// --max-message-bytes get here; each alone is dropped.
		r.opts.Logger.Error("bulk request over its limit; daprd will redeliver its messages", "limit", limit)
		http.Error(w, fmt.Sprintf("bulk request over %d bytes", limit), http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var bulk bulkRequest
	if err := unmarshal(body, &bulk); err != nil {
		http.Error(w, "not a Dapr bulk delivery: "+err.Error(), http.StatusBadRequest)
		return
	}
	m.Deliveries.WithLabelValues("bulk").Inc()
	n := int64(len(bulk.Entries))
	in := r.inflight.Add(n)
	defer r.inflight.Add(-n)
	for p := r.peak.Load(); in > p && !r.peak.CompareAndSwap(p, in); p = r.peak.Load() {
	}

	decoded := decodeAll(bulk.Entries, r.opts.MaxMessageBytes)
	resp := bulkResponse{Statuses: make([]bulkStatus, 0, len(bulk.Entries))}
	var stored []string // entry IDs of the messages in p
	p := &pending{done: make(chan outcome, 1)}
	for i, e := range bulk.Entries {
		if e.EntryID == "" {
			continue // cannot be answered; daprd retries it
		}
		d := decoded[i]
		switch {
		case d.err != nil:
			m.Dropped.WithLabelValues(d.reason).Inc()
			m.Received.WithLabelValues("dropped").Inc()
			r.opts.Logger.Warn("dropping message", "reason", d.reason, "error", d.err, "deadLetterTopic", r.opts.DeadLetterTopic, "entry", e.EntryID)
			resp.Statuses = append(resp.Statuses, bulkStatus{e.EntryID, StatusDrop})
		case d.ignore:
			m.Ignored.WithLabelValues(d.reason).Inc()
			m.Received.WithLabelValues("acked").Inc()
			resp.Statuses = append(resp.Statuses, bulkStatus{e.EntryID, StatusSuccess})
		default:
			p.msgs = append(p.msgs, d.msg)
			stored = append(stored, e.EntryID)
		}
	}
	if len(p.msgs) > 0 {
		select {
		case r.queue <- p:
		case <-req.Context().Done():
			return
		}
		status, label := StatusSuccess, "acked"
		if out := <-p.done; out.err != nil {
			status, label = StatusRetry, "retried"
		}
		m.Received.WithLabelValues(label).Add(float64(len(stored)))
		for _, id := range stored {
			resp.Statuses = append(resp.Statuses, bulkStatus{id, status})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

type decodedEntry struct {
	msg    store.Message
	ignore bool
	reason string
	err    error
}

// decodeAll decodes the entries, on every CPU when there are enough of
// them: daprd sends a subscription's bulk requests one at a time, so a
// request's decoding is not overlapped by another's commit.
func decodeAll(entries []bulkEntry, maxBytes int64) []decodedEntry {
	out := make([]decodedEntry, len(entries))
	decode := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := &out[i]
			d.msg, d.ignore, d.reason, d.err = Decode(entries[i].Event, maxBytes)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(entries)/16)
	if workers < 2 {
		decode(0, len(entries))
		return out
	}
	var wg sync.WaitGroup
	per := (len(entries) + workers - 1) / workers
	for lo := 0; lo < len(entries); lo += per {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			decode(lo, hi)
		}(lo, min(lo+per, len(entries)))
	}
	wg.Wait()
	return out
}
