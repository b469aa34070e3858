// Package queue is the publisher's asynchronous, bounded send queue:
// Enqueue returns as soon as a message is queued; workers take batches of
// one topic, send them with a Sender, retry what failed transiently with
// exponential backoff and jitter, and count what failed for good. The
// queue is bounded by count and by bytes; when it is full the configured
// policy blocks the caller (with its context) or drops and counts.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Item is one message.
type Item struct {
	Topic string
	Data  []byte
	// ContentType of Data; empty means the sender's default.
	ContentType string
	// ID identifies the entry within a batch; the queue assigns one.
	ID string
}

// Sender sends a batch of items of one topic and returns one error per item
// (nil when sent). Wrap an error with Permanent when retrying cannot help.
type Sender func(ctx context.Context, topic string, batch []Item) []error

// PermanentError marks a failure that retrying cannot fix.
type PermanentError struct {
	// Reason is a short label for metrics, for example "too_large".
	Reason string
	Err    error
}

func (e *PermanentError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a permanent failure with a reason label.
func Permanent(reason string, err error) error { return &PermanentError{Reason: reason, Err: err} }

// FullPolicy says what Enqueue does when the queue is full.
type FullPolicy int

const (
	// Block waits for room until the caller's context ends.
	Block FullPolicy = iota
	// Drop drops the message at once and counts it (reason "queue_full").
	Drop
)

// ParsePolicy reads "block" or "drop".
func ParsePolicy(s string) (FullPolicy, error) {
	switch strings.ToLower(s) {
	case "block", "":
		return Block, nil
	case "drop":
		return Drop, nil
	}
	return Block, fmt.Errorf("queue full policy %q: want block or drop", s)
}

func (p FullPolicy) String() string {
	if p == Drop {
		return "drop"
	}
	return "block"
}

// Errors returned by Enqueue.
var (
	ErrFull     = errors.New("publish queue full")
	ErrClosed   = errors.New("publish queue closed")
	ErrTooLarge = errors.New("message larger than the queue's byte bound")
)

// Options bound and tune the queue. Zero values take the defaults.
type Options struct {
	// MaxItems bounds queued plus in-flight messages. Default 10,000.
	MaxItems int
	// MaxBytes bounds their payload bytes. Default 64 MiB.
	MaxBytes int64
	// Policy when full. Default Block.
	Policy FullPolicy
	// BatchSize is the most messages one send carries. Default 200.
	BatchSize int
	// MaxBatchBytes is the most payload bytes one send carries. Default 1 MiB.
	MaxBatchBytes int
	// Workers is how many sends may be in flight. Default 4.
	Workers int
	// MinBackoff and MaxBackoff bound the wait between retries of a batch
	// (exponential, with jitter). Defaults 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts per message; 0 retries transient failures until Close.
	MaxAttempts int
	// SendTimeout bounds one send. Default 10s.
	SendTimeout time.Duration
	// Metrics, if set, receives counts; see NewMetrics.
	Metrics *Metrics
	// Logger receives failures, rate limited. Default discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxItems <= 0 {
		o.MaxItems = 10000
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 1 << 20
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	return o
}

// Stats are the queue's counts since it started.
type Stats struct {
	Enqueued  int64
	Published int64
	Retried   int64
	// Failed counts messages that failed for good, by reason.
	Failed map[string]int64
	// Dropped counts messages never sent, by reason (queue_full, closed).
	Dropped map[string]int64
}

// Lost is the number of messages failed or dropped.
func (s Stats) Lost() int64 {
	var n int64
	for _, v := range s.Failed {
		n += v
	}
	for _, v := range s.Dropped {
		n += v
	}
	return n
}

// Queue is the bounded asynchronous queue. Safe for concurrent use.
type Queue struct {
	opts Options
	send Sender
	log  *rateLimitedLogger

	mu       sync.Mutex
	items    []Item // waiting, in order
	count    int    // waiting + in flight
	bytes    int64  // payload bytes waiting + in flight
	closed   bool
	space    chan struct{} // closed when room is made
	ready    chan struct{} // closed when items arrive or the queue closes
	idle     chan struct{} // closed when count drops to 0
	nextID   uint64
	statsMu  sync.Mutex
	stats    Stats
	enqueued atomic.Int64

	runCtx context.Context
	abort  context.CancelFunc
	wg     sync.WaitGroup
}

// New starts a queue with its workers.
func New(opts Options, send Sender) *Queue {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		opts:   opts,
		send:   send,
		log:    newRateLimitedLogger(opts.Logger, 10*time.Second),
		space:  make(chan struct{}),
		ready:  make(chan struct{}),
		idle:   make(chan struct{}),
		runCtx: ctx,
		abort:  cancel,
		stats:  Stats{Failed: map[string]int64{}, Dropped: map[string]int64{}},
	}
	close(q.idle)
	for i := 0; i < opts.Workers; i++ {
		q.wg.Add(1)
		go q.worker()
	}
	return q
}

// Options returns the queue's effective options.
func (q *Queue) Options() Options { return q.opts }

// Enqueue queues one message. It returns at once while there is room; when
// full it blocks until ctx ends (Block) or drops the message (Drop),
// returning ErrFull. It never holds the caller longer than ctx allows.
func (q *Queue) Enqueue(ctx context.Context, it Item) error {
	size := int64(len(it.Data))
	if size > q.opts.MaxBytes || size > int64(q.opts.MaxBatchBytes) {
		q.failed("too_large", 1)
		return fmt.Errorf("%w: %d bytes, bound %d", ErrTooLarge, size, min(q.opts.MaxBytes, int64(q.opts.MaxBatchBytes)))
	}
	q.mu.Lock()
	for {
		if q.closed {
			q.mu.Unlock()
			q.dropped("closed", 1)
			return ErrClosed
		}
		if q.count < q.opts.MaxItems && q.bytes+size <= q.opts.MaxBytes {
			break
		}
		if q.opts.Policy == Drop {
			q.mu.Unlock()
			q.dropped("queue_full", 1)
			return ErrFull
		}
		space := q.space
		q.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			q.dropped("enqueue_timeout", 1)
			return fmt.Errorf("%w: waiting for room: %w", ErrFull, ctx.Err())
		}
		q.mu.Lock()
	}
	q.nextID++
	it.ID = fmt.Sprintf("%d", q.nextID)
	q.items = append(q.items, it)
	if q.count == 0 {
		q.idle = make(chan struct{})
	}
	q.count++
	q.bytes += size
	q.opts.Metrics.depth.Set(float64(q.count))
	q.opts.Metrics.bytes.Set(float64(q.bytes))
	close(q.ready)
	q.ready = make(chan struct{})
	q.mu.Unlock()
	q.enqueued.Add(1)
	return nil
}

// take waits for items and removes a batch of one topic.
func (q *Queue) take() ([]Item, bool) {
	q.mu.Lock()
	for len(q.items) == 0 {
		if q.closed || q.runCtx.Err() != nil {
			q.mu.Unlock()
			return nil, false
		}
		ready := q.ready
		q.mu.Unlock()
		select {
		case <-ready:
		case <-q.runCtx.Done():
		}
		q.mu.Lock()
	}
	topic := q.items[0].Topic
	n, bytes := 0, 0
	for n < len(q.items) && n < q.opts.BatchSize && q.items[n].Topic == topic {
		if n > 0 && bytes+len(q.items[n].Data) > q.opts.MaxBatchBytes {
			break
		}
		bytes += len(q.items[n].Data)
		n++
	}
	batch := make([]Item, n)
	copy(batch, q.items[:n])
	clear(q.items[:n])
	q.items = q.items[n:]
	if len(q.items) == 0 {
		q.items = nil // let the backing array go
	}
	q.mu.Unlock()
	return batch, true
}

// done releases n finished messages of the given bytes.
func (q *Queue) done(items []Item) {
	if len(items) == 0 {
		return
	}
	var size int64
	for _, it := range items {
		size += int64(len(it.Data))
	}
	q.mu.Lock()
	q.count -= len(items)
	q.bytes -= size
	q.opts.Metrics.depth.Set(float64(q.count))
	q.opts.Metrics.bytes.Set(float64(q.bytes))
	close(q.space)
	q.space = make(chan struct{})
	if q.count == 0 {
		close(q.idle)
	}
	q.mu.Unlock()
}

func (q *Queue) worker() {
	defer q.wg.Done()
	for {
		batch, ok := q.take()
		if !ok {
			return
		}
		q.process(batch)
	}
}

// process sends a batch until every message is sent, failed for good, or
// the queue is aborted, retrying only the messages that failed.
func (q *Queue) process(pending []Item) {
	topic := pending[0].Topic
	for attempt := 1; len(pending) > 0; attempt++ {
		if q.runCtx.Err() != nil {
			q.dropped("closed", len(pending))
			q.done(pending)
			return
		}
		ctx, cancel := context.WithTimeout(q.runCtx, q.opts.SendTimeout)
		start := time.Now()
		errs := q.send(ctx, topic, pending)
		cancel()
		q.opts.Metrics.latency.Observe(time.Since(start).Seconds())
		q.opts.Metrics.batch.Observe(float64(len(pending)))
		var retry, finished []Item
		var sent int
		for i, it := range pending {
			var err error
			if i < len(errs) {
				err = errs[i]
			} else {
				err = errors.New("sender returned no result for this message")
			}
			var pe *PermanentError
			switch {
			case err == nil:
				sent++
				finished = append(finished, it)
			case errors.As(err, &pe):
				q.failed(pe.Reason, 1)
				q.log.Error("message failed permanently", "topic", topic, "reason", pe.Reason, "error", err)
				finished = append(finished, it)
			default:
				retry = append(retry, it)
				q.log.Warn("send failed, will retry", "topic", topic, "error", err)
			}
		}
		q.published(sent)
		q.done(finished)
		if len(retry) == 0 {
			return
		}
		if q.opts.MaxAttempts > 0 && attempt >= q.opts.MaxAttempts {
			q.failed("retries_exhausted", len(retry))
			q.done(retry)
			return
		}
		q.retried(len(retry))
		pending = retry
		select {
		case <-time.After(backoff(attempt, q.opts.MinBackoff, q.opts.MaxBackoff)):
		case <-q.runCtx.Done():
		}
	}
}

// backoff is exponential in attempt, capped, with full jitter on its upper half.
func backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Flush waits until everything queued so far is sent or has failed. When
// ctx ends first it returns an error saying how many are still pending.
func (q *Queue) Flush(ctx context.Context) error {
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		n := q.count
		q.mu.Unlock()
		return fmt.Errorf("flush: %d message(s) not yet sent: %w", n, ctx.Err())
	}
}

// Close stops accepting messages, drains the queue within ctx, then stops
// the workers. Messages still unsent when ctx ends are dropped, counted
// (reason "closed") and reported in the error.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.ready)
	q.ready = make(chan struct{})
	q.mu.Unlock()

	flushErr := q.Flush(ctx)
	q.abort()
	q.wg.Wait()
	q.mu.Lock()
	left := q.items
	q.items = nil
	q.mu.Unlock()
	if len(left) > 0 {
		q.dropped("closed", len(left))
		q.done(left)
	}
	if flushErr != nil {
		return fmt.Errorf("closing publish queue: %w", flushErr)
	}
	return nil
}

// Stats returns the counts so far.
func (q *Queue) Stats() Stats {
	q.statsMu.Lock()
	defer q.statsMu.Unlock()
	s := q.stats
	s.Enqueued = q.enqueued.Load()
	s.Failed = maps.Clone(q.stats.Failed)
	s.Dropped = maps.Clone(q.stats.Dropped)
	return s
}

// Len returns the number of messages queued or in flight.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count
}

func (q *Queue) published(n int) {
	if n == 0 {
		return
	}
	q.statsMu.Lock()
	q.stats.Published += int64(n)
	q.statsMu.Unlock()
	q.opts.Metrics.published.Add(float64(n))
}

func (q *Queue) retried(n int) {
	q.statsMu.Lock()
	q.stats.Retried += int64(n)
	q.statsMu.Unlock()
	q.opts.Metrics.retried.Add(float64(n))
}

func (q *Queue) failed(reason string, n int) {
	q.statsMu.Lock()
	q.stats.Failed[reason] += int64(n)
	q.statsMu.Unlock()
	q.opts.Metrics.failed.WithLabelValues(reason).Add(float64(n))
}

func (q *Queue) dropped(reason string, n int) {
	q.statsMu.Lock()
	q.stats.Dropped[reason] += int64(n)
	q.statsMu.Unlock()
	q.opts.Metrics.dropped.WithLabelValues(reason).Add(float64(n))
}

// String summarises the stats, for reports.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "enqueued=%d published=%d retried=%d", s.Enqueued, s.Published, s.Retried)
	for _, part := range []struct {
		name string
		m    map[string]int64
	}{{"failed", s.Failed}, {"dropped", s.Dropped}} {
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s[%s]=%d", part.name, k, part.m[k])
		}
	}
	return b.String()
}
