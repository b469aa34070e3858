package lint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/model"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/rules"
	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/render"
)

// StdinPath is the PATH that reads objects from standard input.
const StdinPath = "-"

// StdinSource is the Source of objects read from standard input.
const StdinSource = "<stdin>"

type jobKind int

const (
	jobFile jobKind = iota
	jobChart
	jobKustomize
	jobStdin
	// jobError is an input that failed while the paths were expanded.
	jobError
)

type job struct {
	kind jobKind
	path string
	err  error // of a jobError
}

// loaded is what one job read.
type loaded struct {
	// objs are the objects read, when the job had no reader (Load).
	objs []render.Object
	// entries are the relevant objects classified by the reader, and
	// found what its per-object rules reported on them.
	entries []model.Entry
	found   []rules.Finding
	total   int // objects read, kept or not
	files   int
	err     error // an *InputError, or an ErrRulePanicked
	// unknownValues are Helm values keys the chart does not define.
	unknownValues []model.UnknownValue
	// file says the input can be read again from disk, so released
	// objects need not keep their Raw; dropped that one did not.
	file, dropped bool
	// copies say, by source, where the text of released objects without
	// Raw can be read again: the file itself, or standard input's spool.
	copies map[string]textCopy
	// note is what the user should know about this input.
	note string
}

// textCopy is where the text of an input can be read again, and the CRC-32
// of what was read: the locator uses it only when unchanged.
type textCopy struct {
	path string
	sum  uint32
	// spool: path is a temporary copy of standard input, removed after the
	// run.
	spool bool
}

// add takes one object as it is read: as is without a reader, else
// through the reader.
func (l *loaded) add(rd *reader, o render.Object) error {
	if rd == nil {
		l.objs = append(l.objs, o)
		l.total++
		return nil
	}
	return rd.add(o, l)
}

// reader turns objects into Setup entries as they are read, so memory holds
// only what the rules need: it classifies each object (model.Classify),
// drops the irrelevant ones, runs the per-object rules (Rule.CheckObject)
// while the object's tree is there, then releases the trees of Components,
// whose model holds what the other rules read.
type reader struct {
	namespace string
	rules     []*rules.Rule
}

func newReader(opts Options) *reader {
	rd := &reader{namespace: opts.Namespace}
	if rd.namespace == "" {
		rd.namespace = model.DefaultOptions().Namespace
	}
	for _, r := range rules.All() {
		if r.CheckObject != nil && opts.Config.severity(r) != rules.None {
			rd.rules = append(rd.rules, r)
		}
	}
	return rd
}

func (rd *reader) add(o render.Object, into *loaded) error {
	into.total++
	e := model.Classify(o, rd.namespace)
	if e.Class == model.Irrelevant {
		return nil
	}
	for _, r := range rd.rules {
		fs, err := runObjectRule(r, e)
		if err != nil {
			return err
		}
		into.found = append(into.found, fs...)
	}
	release := e.Class == model.ClassComponent
	if release {
		e.Obj.Release()
	}
	// A released object of a file lets its Raw go: the locator reads the
	// file again if a finding needs the object's position.
	if release && into.file {
		e.Obj.Raw = nil
		into.dropped = true
	}
	into.entries = append(into.entries, e)
	return nil
}

// loadResult is what all the jobs read.
type loadResult struct {
	objs    []render.Object
	entries []model.Entry
	found   []rules.Finding
	// copies are the inputs read again for positions (loaded.copies).
	copies       map[string]textCopy
	total, files int
	// notes are what the user should know: inputs skipped, flags without
	// effect.
	notes []string
	// errs are the inputs that could not be loaded (*InputError), in the
	// order of the paths.
	errs []error
	// livePods are the running Pods of the audits, in live mode.
	livePods []render.Object
	// unknownValues are Helm values keys the charts do not define.
	unknownValues []model.UnknownValue
}

// Load reads every PATH of opts into objects, in the order of the paths
// (files of a directory in lexical order). Charts are rendered with Helm
// and kustomizations built with kustomize, in-process. An input that
// cannot be loaded does not stop the others: the objects of all the others
// are returned, with the input errors joined (each an *InputError naming
// its path).
func Load(ctx context.Context, opts Options) ([]render.Object, int, error) {
	in, err := load(ctx, opts, nil)
	if err != nil {
		return nil, 0, err
	}
	return in.objs, in.files, errors.Join(in.errs...)
}

// load is Load, or with a reader, the entries of the relevant objects and
// what the per-object rules found on them; total counts all objects read.
// Its error is for the whole run (usage, context, a rule that panicked);
// the inputs that failed are in errs.
func load(ctx context.Context, opts Options, rd *reader) (*loadResult, error) {
	jobs, notes, err := plan(opts.Paths)
	if err != nil {
		return nil, err
	}
	jobs, notes = exclude(jobs, opts.Exclude, notes)
	valuesErr, err := checkChartFlags(opts, jobs, &notes)
	if err != nil {
		return nil, err
	}
	results := make([]loaded, len(jobs))
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
					results[i] = loaded{err: newInputError(jobs[i].path, fmt.Errorf("chart %s: %w", jobs[i].path, valuesErr))}
					continue
				}
				results[i] = runJob(ctx, opts, jobs[i], rd)
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
			removeSpooled(r.copies)
		}
		return nil, err
	}
	out := &loadResult{notes: notes}
	n, m := 0, 0
	for _, r := range results {
		if errors.Is(r.err, ErrRulePanicked) {
			for _, r := range results {
				removeSpooled(r.copies)
			}
			return nil, r.err
		}
		n += len(r.objs)
		m += len(r.entries)
	}
	out.objs = make([]render.Object, 0, n)
	if len(results) > 1 {
		out.entries = make([]model.Entry, 0, m)
	}
	for _, r := range results {
		if r.err != nil {
			out.errs = append(out.errs, r.err)
			continue
		}
		out.objs = append(out.objs, r.objs...)
		if len(results) == 1 {
			out.entries = r.entries // no copy of a large file's entries
		} else {
			out.entries = append(out.entries, r.entries...)
		}
		out.found = append(out.found, r.found...)
		for k, v := range r.copies {
			if out.copies == nil {
				out.copies = map[string]textCopy{}
			}
			out.copies[k] = v
		}
		out.unknownValues = append(out.unknownValues, r.unknownValues...)
		if r.note != "" {
			out.notes = append(out.notes, r.note)
		}
		out.total += r.total
		out.files += r.files
	}
	return out, nil
}

// plan expands the paths into jobs: a file, a chart, a kustomization,
// stdin, or an input error (a PATH that does not exist or is neither a
// regular file nor a directory). In directories only regular files (or
// links to one) are read; the others are skipped with a note.
func plan(paths []string) (jobs []job, notes []string, err error) {
	stdin := false
	for _, p := range paths {
		if p == StdinPath {
			if stdin {
				return nil, nil, errors.New("-: standard input given twice")
			}
			stdin = true
			jobs = append(jobs, job{kind: jobStdin, path: p})
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			jobs = append(jobs, job{kind: jobError, path: p, err: fmt.Errorf("reading %s: %w", p, err)})
		case fi.Mode().IsRegular():
			jobs = append(jobs, job{kind: jobFile, path: p})
		case fi.IsDir():
			jobs, notes = walk(p, jobs, notes)
		default:
			jobs = append(jobs, job{kind: jobError, path: p, err: fmt.Errorf("reading %s: %w or directory but %s; a PATH is a file, a directory or - (standard input)", p, ErrNotRegular, describeMode(fi.Mode()))})
		}
	}
	return jobs, notes, nil
}

// walk adds the jobs of directory root: root itself when it is a chart or
// a kustomization, else its YAML and JSON files and the charts and
// kustomizations below it, skipping hidden entries.
func walk(root string, jobs []job, notes []string) ([]job, []string) {
	if k, ok := dirKind(root); ok {
		return append(jobs, job{kind: k, path: root}), notes
	}
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// A directory that cannot be read; what it did list is walked.
			jobs = append(jobs, job{kind: jobError, path: path, err: fmt.Errorf("reading %s: %w", path, err)})
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			if k, ok := dirKind(path); ok {
				jobs = append(jobs, job{kind: k, path: path})
				return filepath.SkipDir
			}
			return nil
		}
		manifest := false
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			manifest = true
		}
		t := d.Type()
		switch {
		case t.IsRegular():
			if manifest {
				jobs = append(jobs, job{kind: jobFile, path: path})
			}
		case t&fs.ModeSymlink != 0:
			fi, err := os.Stat(path)
			switch {
			case err != nil:
				if manifest {
					jobs = append(jobs, job{kind: jobError, path: path, err: fmt.Errorf("reading %s: %w", path, err)})
				}
			case fi.Mode().IsRegular():
				if manifest {
					jobs = append(jobs, job{kind: jobFile, path: path})
				}
			case fi.IsDir():
				notes = append(notes, fmt.Sprintf("skipped %s: a symbolic link to a directory (links to directories are not followed)", path))
			default:
				if manifest {
					target, _ := os.Readlink(path)
					notes = append(notes, fmt.Sprintf("skipped %s: a symbolic link to %s (%s), not a regular file", path, describeMode(fi.Mode()), target))
				}
			}
		default:
			if manifest {
				notes = append(notes, fmt.Sprintf("skipped %s: %s, not a regular file", path, describeMode(t)))
			}
		}
		return nil
	})
	return jobs, notes
}

// dirKind tells a chart (Chart.yaml) or a kustomization directory.
func dirKind(dir string) (jobKind, bool) {
	if isRegular(filepath.Join(dir, "Chart.yaml")) {
		return jobChart, true
	}
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if isRegular(filepath.Join(dir, n)) {
			return jobKustomize, true
		}
	}
	return 0, false
}

// isRegular says whether p is a regular file, or a link to one.
func isRegular(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func runJob(ctx context.Context, opts Options, j job, rd *reader) loaded {
	if err := ctx.Err(); err != nil {
		return loaded{err: err}
	}
	limit := opts.maxInput()
	switch j.kind {
	case jobError:
		return loaded{err: newInputError(j.path, j.err)}
	case jobStdin:
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		if rd != nil {
			if res, ok := readStdinSpooled(in, limit, rd); ok {
				return res
			}
		}
		data, err := readLimited(in, "standard input", limit, 0)
		if err != nil {
			return loaded{err: newInputError(StdinSource, err)}
		}
		res := loaded{files: 1}
		if err := render.EachYAML(StdinSource, data, func(o render.Object) error { return res.add(rd, o) }); err != nil {
			if errors.Is(err, ErrRulePanicked) {
				return loaded{err: err}
			}
			return loaded{err: newInputError(StdinSource, fmt.Errorf("reading standard input: %w", err))}
		}
		return res
	case jobChart:
		r, err := render.RenderChart(ctx, j.path, render.ChartOptions{
			Namespace: opts.Namespace, ValueFiles: opts.ValueFiles, Set: opts.Set, SetString: opts.SetString,
			SetFile: opts.SetFile, KubeVersion: opts.KubeVersion,
		})
		if err != nil {
			if found, ok := chartValueFindings(j.path, opts, err); ok {
				return loaded{found: found, note: fmt.Sprintf("chart %s was not rendered: its values fail its checks (findings of %s), so its objects are not linted", j.path, ChartValuesRule)}
			}
			return loaded{err: newInputError(j.path, naming(j.path, "chart", err))}
		}
		var unknown []model.UnknownValue
		for _, u := range r.UnknownValues {
			unknown = append(unknown, model.UnknownValue{Chart: j.path, Key: u.Key, Suggestion: u.Suggestion})
		}
		return addAll(rd, loaded{files: distinctSources(r.Objects), unknownValues: unknown}, r.Objects)
	case jobKustomize:
		objs, err := render.Kustomize(ctx, j.path)
		if err != nil {
			return loaded{err: newInputError(j.path, naming(j.path, "kustomization", err))}
		}
		return addAll(rd, loaded{files: distinctSources(objs)}, objs)
	default:
		f, size, err := openRegular(j.path, limit)
		if err != nil {
			return loaded{err: newInputError(j.path, err)}
		}
		defer f.Close()
		// A buffer no larger than the file: a repository has thousands of
		// small ones.
		sum := crc32.NewIEEE()
		res := stream(j.path, j.path, f, int(min(max(size+1, 512), 64<<10)), limit, sum, rd)
		if res.dropped {
			res.copies = map[string]textCopy{j.path: {path: j.path, sum: sum.Sum32()}}
		}
		return res
	}
}

// stream reads one input as it is decoded, never whole: through the
// --max-input-bytes limit and a buffer of bufSize, writing what it reads to
// copyTo (the CRC-32 kept for the locator; for standard input, also its
// spool). what names the input in errors.
func stream(source, what string, r io.Reader, bufSize int, limit int64, copyTo io.Writer, rd *reader) loaded {
	res := loaded{files: 1, file: true}
	in := bufio.NewReaderSize(io.TeeReader(&capped{r: r, name: what, limit: limit}, copyTo), bufSize)
	if err := render.EachYAMLFrom(source, in, func(o render.Object) error { return res.add(rd, o) }); err != nil {
		switch {
		case errors.Is(err, ErrRulePanicked):
			return loaded{err: err}
		case errors.Is(err, ErrInputTooLarge):
			return loaded{err: newInputError(source, err)}
		}
		return loaded{err: newInputError(source, fmt.Errorf("reading %s: %w", what, err))}
	}
	return res
}

// spoolFile is the temporary copy of standard input.
type spoolFile interface {
	io.WriteCloser
	Name() string
}

// newSpool makes the temporary copy of standard input. A test replaces it
// to make writes fail: a full disk is a fault no real part here shows.
var newSpool = func() (spoolFile, error) { return os.CreateTemp("", "pubsub-lint-stdin-*.yaml") }

// spoolWriter copies to the spool until a write fails; it never fails the
// read. Without a copy, findings on released Components point at the
// object's line, as for a file changed since it was read.
type spoolWriter struct {
	f   spoolFile
	err error
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	if w.err == nil {
		_, w.err = w.f.Write(p)
	}
	return len(p), nil
}

// readStdinSpooled streams standard input like a file and copies it to a
// temporary file: when Components are released their text goes, and the
// locator reads it again from that copy (removed by
// loadResult.removeSpools). ok is false, with nothing read, when no
// temporary file can be made: the caller then reads it into memory.
func readStdinSpooled(in io.Reader, limit int64, rd *reader) (res loaded, ok bool) {
	spool, err := newSpool()
	if err != nil {
		return loaded{}, false
	}
	sum := crc32.NewIEEE()
	w := &spoolWriter{f: spool}
	res = stream(StdinSource, "standard input", in, 64<<10, limit, io.MultiWriter(w, sum), rd)
	if err := spool.Close(); w.err == nil {
		w.err = err
	}
	if res.err != nil || !res.dropped || w.err != nil {
		os.Remove(spool.Name())
		if res.err == nil && res.dropped {
			res.note = fmt.Sprintf("standard input could not be copied to a temporary file (%v): findings on Dapr Components "+
				"read from it point at the object's first line, not at the field", w.err)
		}
		return res, true
	}
	res.copies = map[string]textCopy{StdinSource: {path: spool.Name(), sum: sum.Sum32(), spool: true}}
	return res, true
}

// removeSpools removes the temporary copies of standard input.
func (r *loadResult) removeSpools() { removeSpooled(r.copies) }

func removeSpooled(copies map[string]textCopy) {
	for _, c := range copies {
		if c.spool {
			os.Remove(c.path)
		}
	}
}

// addAll adds objs to res (or the error that stopped it).
func addAll(rd *reader, res loaded, objs []render.Object) loaded {
	for _, o := range objs {
		if err := res.add(rd, o); err != nil {
			return loaded{err: err}
		}
	}
	return res
}

// naming returns err, which pkg/render's errors are, when it names path;
// else err wrapped as "what path: err".
func naming(path, what string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s %s: %w", what, path, err)
}

func distinctSources(objs []render.Object) int {
	seen := map[string]bool{}
	for _, o := range objs {
		seen[o.Source] = true
	}
	return len(seen)
}
