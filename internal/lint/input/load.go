package input

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/lint/rules"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

// StdinPath is the PATH that reads objects from standard input.
const StdinPath = "-"

// StdinSource is the Source of objects read from standard input.
const StdinSource = "<stdin>"

// Loaded is what was read: of one input while it is read, and of all of
// them once Load merged them.
type Loaded struct {
	// Objects are the objects read, when Options.Sink is nil.
	Objects []render.Object
	// Entries are the relevant objects as the Sink classified them, and
	// Found what it reported on them.
	Entries []model.Entry
	Found   []rules.Finding
	// Total counts the objects read, kept or not; Files the files.
	Total, Files int
	// Notes are what the user should know: inputs skipped, flags without
	// effect.
	Notes []string
	// Errs are the inputs that could not be loaded (*Error), in the order
	// of the paths.
	Errs []error
	// Copies say, by source, where the text of released objects without
	// Raw can be read again: the file itself, or standard input's spool
	// (removed by Close).
	Copies map[string]TextCopy
	// UnknownValues are Helm values keys the charts do not define.
	UnknownValues []render.UnknownValue
	// LivePods are the running Pods of the audits, in live mode.
	LivePods []render.Object

	// file says the input can be read again from disk, so released
	// objects need not keep their Raw; dropped that one did not.
	file, dropped bool
	// fatal is an error of the whole run: the Sink's or the context's.
	fatal error
}

// TextCopy is where the text of an input can be read again, and the CRC-32
// of what was read: use it only when unchanged.
type TextCopy struct {
	Path string
	Sum  uint32
	// Spool: Path is a temporary copy of standard input, removed by
	// Loaded.Close.
	Spool bool
}

// Sink takes each object as it is read, so that memory holds only what is
// kept: it returns the object's entry (Irrelevant ones are dropped) and
// what it found on it. An entry whose object it released
// (render.Object.Release) lets its Raw go when the input can be read again
// (Loaded.Copies). Its error stops the run.
type Sink func(o render.Object) (model.Entry, []rules.Finding, error)

// add takes one object as it is read: as is without a sink, else through
// the sink.
func (l *Loaded) add(sink Sink, o render.Object) error {
	l.Total++
	if sink == nil {
		l.Objects = append(l.Objects, o)
		return nil
	}
	e, found, err := sink(o)
	if err != nil {
		l.fatal = err
		return err
	}
	if e.Class == model.Irrelevant {
		return nil
	}
	l.Found = append(l.Found, found...)
	// A released object of a file lets its Raw go: the locator reads the
	// file again if a finding needs the object's position.
	if l.file && e.Obj.Released() {
		e.Obj.Raw = nil
		l.dropped = true
	}
	l.Entries = append(l.Entries, e)
	return nil
}

// Objects passes objects that are already loaded through sink.
func Objects(objs []render.Object, sink Sink) (*Loaded, error) {
	l := addAll(sink, Loaded{}, objs)
	if l.fatal != nil {
		return nil, l.fatal
	}
	return &l, nil
}

// Load reads every PATH of opts, in the order of the paths (files of a
// directory in lexical order), and then the cluster of opts.Live. Charts
// are rendered with Helm and kustomizations built with kustomize,
// in-process. An input that cannot be loaded does not stop the others: it
// is in Errs (an *Error naming its path). The error returned is for the
// whole run: usage (ErrNoChart, stdin given twice), a cancelled context,
// the cluster, the Sink's. Close the Loaded when done.
func Load(ctx context.Context, opts Options) (*Loaded, error) {
	in := &Loaded{}
	if len(opts.Paths) > 0 {
		var err error
		if in, err = load(ctx, opts); err != nil {
			return nil, err
		}
	}
	if opts.Live != nil {
		objs, pods, source, err := loadLive(ctx, *opts.Live)
		if err != nil {
			in.Close()
			return nil, err
		}
		l := addAll(opts.Sink, Loaded{}, objs)
		if l.fatal != nil {
			in.Close()
			return nil, l.fatal
		}
		in.Objects = append(in.Objects, l.Objects...)
		in.Entries = append(in.Entries, l.Entries...)
		in.Found = append(in.Found, l.Found...)
		in.Total += len(objs)
		in.Files++
		in.Notes = append(in.Notes, fmt.Sprintf("%s: read %d objects and %d running audit pods", source, len(objs), len(pods)))
		in.LivePods = pods
	}
	return in, nil
}

// load reads the paths.
func load(ctx context.Context, opts Options) (*Loaded, error) {
	jobs, notes, err := plan(opts.Paths)
	if err != nil {
		return nil, err
	}
	jobs, notes = exclude(jobs, opts.Exclude, notes)
	valuesErr, err := checkChartFlags(opts, jobs, &notes)
	if err != nil {
		return nil, err
	}
	results := make([]Loaded, len(jobs))
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if jobs[i].kind == jobChart && valuesErr != nil {
					results[i] = failed(newError(jobs[i].path, fmt.Errorf("chart %s: %w", jobs[i].path, valuesErr)))
					continue
				}
				results[i] = runJob(ctx, opts, jobs[i])
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		for _, r := range results {
			r.Close()
		}
		return nil, err
	}
	out := &Loaded{Notes: notes}
	n, m := 0, 0
	for _, r := range results {
		if r.fatal != nil {
			for _, r := range results {
				r.Close()
			}
			return nil, r.fatal
		}
		n += len(r.Objects)
		m += len(r.Entries)
	}
	out.Objects = make([]render.Object, 0, n)
	if len(results) > 1 {
		out.Entries = make([]model.Entry, 0, m)
	}
	for _, r := range results {
		if len(r.Errs) > 0 {
			out.Errs = append(out.Errs, r.Errs...)
			continue
		}
		out.Objects = append(out.Objects, r.Objects...)
		if len(results) == 1 {
			out.Entries = r.Entries // no copy of a large file's entries
		} else {
			out.Entries = append(out.Entries, r.Entries...)
		}
		out.Found = append(out.Found, r.Found...)
		for k, v := range r.Copies {
			if out.Copies == nil {
				out.Copies = map[string]TextCopy{}
			}
			out.Copies[k] = v
		}
		out.UnknownValues = append(out.UnknownValues, r.UnknownValues...)
		out.Notes = append(out.Notes, r.Notes...)
		out.Total += r.Total
		out.Files += r.Files
	}
	return out, nil
}

// failed is the Loaded of an input that could not be loaded.
func failed(err error) Loaded { return Loaded{Errs: []error{err}} }

// Close removes the temporary copies of standard input.
func (l *Loaded) Close() {
	for _, c := range l.Copies {
		if c.Spool {
			os.Remove(c.Path)
		}
	}
}

// failed says whether the input could not be loaded, or stopped the run.
func (l *Loaded) failed() bool { return len(l.Errs) > 0 || l.fatal != nil }

// addAll adds objs to res (or the error that stopped it).
func addAll(sink Sink, res Loaded, objs []render.Object) Loaded {
	for _, o := range objs {
		if err := res.add(sink, o); err != nil {
			return Loaded{fatal: err}
		}
	}
	return res
}
