// Package forward follows the files Gatekeeper's disk export driver (v3.20+)
// writes, one per audit run under <path>/<topic>/, and sends every line,
// run markers included, through pkg/pubsub to the pod's daprd, in the
// encoding of Gatekeeper's Dapr driver. A checkpoint written after each
// batch the broker accepted lets a restart resume with at most that batch
// sent again.
package forward

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/dapr"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/pubsub/queue"
)

// Publisher sends messages and tells when they were accepted:
// pkg/pubsub/dapr's Connection.
type Publisher interface {
	Publish(ctx context.Context, data any, topic string) error
	Flush(ctx context.Context) error
	Stats() queue.Stats
}

// Options configure a Forwarder.
type Options struct {
	// Dir is the directory the disk driver writes the topic's runs to:
	// the connection's path joined with the topic.
	Dir string
	// Topic the lines are published to.
	Topic string
	// Checkpoint is the checkpoint file; its directory must exist and must
	// not be Dir (the driver deletes the oldest files there).
	Checkpoint string
	// Publisher sends the lines.
	Publisher Publisher
	// Poll is how often the directory is looked at when caught up
	// (default 250ms).
	Poll time.Duration
	// BatchLines is the most lines sent between two checkpoints (default
	// 1000): a restart sends at most that many again.
	BatchLines int
	// MaxLineBytes bounds a line (default 1 MiB); a longer one is skipped
	// and counted lost.
	MaxLineBytes int
	// MaxBackoff caps the wait before sending a refused batch again
	// (default 30s).
	MaxBackoff time.Duration
	// Settle, if set, holds back the lines of a run being written until
	// its file has not grown for this long (or its unsent part exceeds
	// MaxUnsentBytes): sending goes on beside the audit only when the audit
	// pauses or ends, so on a busy node the forwarder does not take the
	// audit's CPU while it runs. Zero sends lines as they are appended.
	Settle time.Duration
	// MaxUnsentBytes bounds what Settle holds back (default 16 MiB).
	MaxUnsentBytes int64
	Metrics        *Metrics
	Logger         *slog.Logger
}

// Forwarder sends the disk driver's runs in order.
type Forwarder struct {
	opts Options

	mu sync.Mutex
	cp Checkpoint
	// seen holds the runs seen in the directory and not yet sent
	// entirely, to tell when one is rotated away first.
	seen map[string]bool
	// behindSince is when the forwarder last had nothing to send and then
	// found something; zero while caught up.
	behindSince time.Time
	// growing is the run being written as last seen, and when its size
	// last changed (for Settle).
	growing   runFile
	growingAt time.Time

	started atomic.Bool
	healthy atomic.Bool
}

// New checks opts and makes a Forwarder.
func New(opts Options) (*Forwarder, error) {
	switch {
	case opts.Dir == "":
		return nil, errors.New("forward: no directory")
	case opts.Topic == "":
		return nil, errors.New("forward: no topic")
	case opts.Checkpoint == "":
		return nil, errors.New("forward: no checkpoint file")
	case opts.Publisher == nil:
		return nil, errors.New("forward: no publisher")
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.BatchLines <= 0 {
		opts.BatchLines = 1000
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = 1 << 20
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.MaxUnsentBytes <= 0 {
		opts.MaxUnsentBytes = 16 << 20
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Forwarder{opts: opts, seen: map[string]bool{}}
	opts.Metrics.watch(f)
	return f, nil
}

// Checkpoint returns how far the forwarder has sent.
func (f *Forwarder) Checkpoint() Checkpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cp
}

// Healthy reports whether the last attempt to send was accepted (or there
// was nothing to send).
func (f *Forwarder) Healthy() bool { return f.started.Load() && f.healthy.Load() }

// Run forwards until ctx ends. It returns an error only for a checkpoint
// it cannot read or write; a broker that refuses is waited for.
func (f *Forwarder) Run(ctx context.Context) error {
	cp, err := LoadCheckpoint(f.opts.Checkpoint)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.cp = cp
	f.mu.Unlock()
	f.opts.Logger.Info("forwarding", "dir", f.opts.Dir, "topic", f.opts.Topic, "checkpoint", f.opts.Checkpoint, "run", cp.Run, "offset", cp.Offset, "done", cp.Done)
	f.started.Store(true)
	f.healthy.Store(true)
	backoff := time.Duration(0)
	for {
		progressed, err := f.step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var fatal *checkpointError
		if errors.As(err, &fatal) {
			return err
		}
		wait := f.opts.Poll
		switch {
		case err != nil:
			f.healthy.Store(false)
			backoff = min(max(2*backoff, time.Second), f.opts.MaxBackoff)
			wait = backoff
			f.opts.Logger.Error("forwarding; sending again from the checkpoint", "error", err, "retryIn", wait)
		case progressed:
			f.healthy.Store(true)
			backoff = 0
			continue
		default:
			f.healthy.Store(true)
			backoff = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

type checkpointError struct{ err error }

func (e *checkpointError) Error() string { return e.err.Error() }
func (e *checkpointError) Unwrap() error { return e.err }

// errRescan: the run's file moved between the scan and the open.
var errRescan = errors.New("run file moved; looking again")

// step sends what one run's file holds beyond the checkpoint and reports
// whether it made progress.
func (f *Forwarder) step(ctx context.Context) (bool, error) {
	runs, err := scanRuns(f.opts.Dir)
	if err != nil {
		return false, err
	}
	cp := f.Checkpoint()
	present := map[string]bool{}
	for _, r := range runs {
		present[r.name] = true
	}
	f.noteLost(cp, runs, present)

	if cp.Run != "" && !cp.Done && !present[cp.Run] {
		// The driver deleted the run's file before it was sent entirely.
		f.opts.Metrics.runsLost.Inc()
		f.opts.Logger.Error("LOST: the audit run's file was deleted before it was sent entirely (the disk driver keeps maxAuditResults runs; raise it or give the forwarder time to catch up)",
			"run", cp.Run, "sentBytes", cp.Offset, "sentLines", cp.Lines)
		return true, f.save(Checkpoint{Run: cp.Run, Offset: cp.Offset, Lines: cp.Lines, Done: true})
	}
	var cur *runFile
	newer := false
	for i := range runs {
		r := &runs[i]
		switch {
		case cur == nil && r.name == cp.Run && !cp.Done:
			cur = r
		case cur == nil && r.name > cp.Run:
			cur = r
			cp = Checkpoint{Run: r.name}
		case cur != nil && r.name > cur.name:
			newer = true
		}
	}
	if cur == nil {
		f.caughtUp()
		return false, nil
	}
	// A run is final when the audit renamed it, or when a newer run began
	// (the audit writes one run at a time: an older .txt is a crashed
	// audit's, never written again).
	final := cur.complete || newer
	if !final && f.settling(*cur, cp) {
		f.behind()
		return false, nil
	}
	sent, end, err := f.send(ctx, cur, cp, final)
	if err != nil {
		if errors.Is(err, errRescan) {
			return true, nil
		}
		return sent, err
	}
	if final && end {
		c := f.Checkpoint()
		c.Done = true
		if err := f.save(c); err != nil {
			return true, err
		}
		f.opts.Metrics.runs.Inc()
		f.mu.Lock()
		delete(f.seen, cur.name)
		f.mu.Unlock()
		f.opts.Logger.Info("run forwarded", "run", cur.name, "lines", c.Lines, "crashedAudit", !cur.complete)
		return true, nil
	}
	if sent {
		f.behind()
	} else {
		f.caughtUp()
	}
	return sent, nil
}

// settling reports whether the lines of r, a run being written, are held
// back: its file grew less than Settle ago and what is unsent is small.
func (f *Forwarder) settling(r runFile, cp Checkpoint) bool {
	if f.opts.Settle <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if r.name != f.growing.name || r.size != f.growing.size {
		f.growing, f.growingAt = r, now
	}
	var offset int64
	if cp.Run == r.name {
		offset = cp.Offset
	}
	return now.Sub(f.growingAt) < f.opts.Settle && r.size-offset < f.opts.MaxUnsentBytes
}

// noteLost counts the runs seen earlier, not sent yet, and gone now.
func (f *Forwarder) noteLost(cp Checkpoint, runs []runFile, present map[string]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name := range f.seen {
		if present[name] {
			continue
		}
		delete(f.seen, name)
		if name > cp.Run {
			f.opts.Metrics.runsLost.Inc()
			f.opts.Logger.Error("LOST: an audit run's file was deleted before it was sent (the disk driver keeps maxAuditResults runs; raise it or give the forwarder time to catch up)", "run", name)
		}
	}
	for _, r := range runs {
		if r.name > cp.Run || (r.name == cp.Run && !cp.Done) {
			f.seen[r.name] = true
		}
	}
}

// send publishes the complete lines of r from the checkpoint, a batch at a
// time, saving the checkpoint after each batch the broker accepted. end
// reports that the file was read to its end (a final run's unterminated
// last line, written by a crashed audit, is counted lost).
func (f *Forwarder) send(ctx context.Context, r *runFile, cp Checkpoint, final bool) (sent, end bool, err error) {
	file, err := os.Open(r.path(f.opts.Dir))
	if errors.Is(err, fs.ErrNotExist) {
		return false, false, errRescan
	}
	if err != nil {
		return false, false, fmt.Errorf("run %s: %w", r.name, err)
	}
	defer file.Close()
	if _, err := file.Seek(cp.Offset, io.SeekStart); err != nil {
		return false, false, fmt.Errorf("run %s: seeking to the checkpoint's offset %d: %w", r.name, cp.Offset, err)
	}
	br := bufio.NewReaderSize(file, 64<<10)
	offset, lines, batch := cp.Offset, cp.Lines, 0
	before := f.opts.Publisher.Stats().Lost()
	commit := func() error {
		if err := f.opts.Publisher.Flush(ctx); err != nil {
			return fmt.Errorf("run %s: waiting for the broker: %w", r.name, err)
		}
		if lost := f.opts.Publisher.Stats().Lost() - before; lost > 0 {
			return fmt.Errorf("run %s: %d of %d lines after offset %d not accepted", r.name, lost, batch, cp.Offset)
		}
		f.opts.Metrics.linesSent.Add(float64(batch))
		cp.Offset, cp.Lines = offset, lines
		if err := f.save(cp); err != nil {
			return err
		}
		sent = true
		batch = 0
		return nil
	}
	for {
		line, n, complete, tooLong, rerr := readLine(br, f.opts.MaxLineBytes)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return sent, false, fmt.Errorf("run %s: reading at offset %d: %w", r.name, offset, rerr)
		}
		if !complete {
			if n > 0 && final {
				// The unterminated end of a crashed audit's file.
				offset += int64(n)
				f.opts.Metrics.linesLost.WithLabelValues("unterminated").Inc()
				f.opts.Logger.Error("LOST: the run's last line has no end (its audit stopped while writing it)", "run", r.name, "offset", offset-int64(n), "bytes", n)
			}
			break
		}
		offset += int64(n)
		switch {
		case tooLong:
			f.opts.Metrics.linesLost.WithLabelValues("too_large").Inc()
			f.opts.Logger.Error("LOST: a line over the size limit was skipped", "run", r.name, "offset", offset-int64(n), "bytes", n, "maxLineBytes", f.opts.MaxLineBytes)
			continue
		case len(bytes.TrimSpace(line)) == 0:
			continue
		}
		if err := f.opts.Publisher.Publish(ctx, dapr.Message{Data: bytes.Clone(line), ContentType: dapr.GatekeeperContentType}, f.opts.Topic); err != nil {
			return sent, false, fmt.Errorf("run %s: %w", r.name, err)
		}
		lines++
		batch++
		if batch >= f.opts.BatchLines {
			if err := commit(); err != nil {
				return sent, false, err
			}
		}
	}
	if batch > 0 || offset != cp.Offset {
		if err := commit(); err != nil {
			return sent, false, err
		}
	}
	return sent, true, nil
}

// readLine reads one line from br without its newline. n is the bytes it
// took, newline included. complete is false at the end of the data
// before a newline (n then counts the partial line, which a later read
// will see whole). A line over max is returned empty with tooLong set.
func readLine(br *bufio.Reader, max int) (line []byte, n int, complete, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(buf)+len(chunk) > max+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return nil, n, true, true, nil
			}
			return buf[:len(buf)-1], n, true, false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, n, false, false, err
		}
	}
}

func (f *Forwarder) save(cp Checkpoint) error {
	cp.Updated = time.Now().UTC()
	if err := cp.Save(f.opts.Checkpoint); err != nil {
		return &checkpointError{err}
	}
	f.mu.Lock()
	f.cp = cp
	f.mu.Unlock()
	return nil
}

func (f *Forwarder) behind() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.behindSince.IsZero() {
		f.behindSince = time.Now()
	}
}

func (f *Forwarder) caughtUp() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behindSince = time.Time{}
}

// lagSeconds is how long the forwarder has had lines to send.
func (f *Forwarder) lagSeconds() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.behindSince.IsZero() {
		return 0
	}
	return time.Since(f.behindSince).Seconds()
}

// lagLines counts the lines written and not sent yet: the rest of the
// checkpoint's run and every newer run (read in pieces, bounded by the
// driver's few files).
func (f *Forwarder) lagLines() float64 {
	cp := f.Checkpoint()
	runs, err := scanRuns(f.opts.Dir)
	if err != nil {
		return 0
	}
	var n int
	for _, r := range runs {
		var from int64
		switch {
		case r.name < cp.Run || (r.name == cp.Run && cp.Done):
			continue
		case r.name == cp.Run:
			from = cp.Offset
		}
		n += countLines(r.path(f.opts.Dir), from)
	}
	return float64(n)
}

func countLines(path string, from int64) int {
	file, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer file.Close()
	if _, err := file.Seek(from, io.SeekStart); err != nil {
		return 0
	}
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := file.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err != nil {
			return n
		}
	}
}
