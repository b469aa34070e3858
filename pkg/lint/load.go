package lint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/pkg/lint/model"
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
	objs  []render.Object
	total int // objects read, kept or not
	files int
	err   error // an *InputError
	// unknownValues are Helm values keys the chart does not define.
	unknownValues []model.UnknownValue
}

// loadResult is what all the jobs read.
type loadResult struct {
	objs         []render.Object
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

// load is Load keeping only the objects for which keep (when not nil) is
// true; total counts all objects read. Its error is for the whole run
// (usage, context); the inputs that failed are in errs.
func load(ctx context.Context, opts Options, keep func(render.Object) bool) (*loadResult, error) {
	jobs, notes, err := plan(opts.Paths)
	if err != nil {
		return nil, err
	}
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
				results[i] = runJob(ctx, opts, jobs[i])
				results[i].total = len(results[i].objs)
				if keep != nil {
					results[i].objs = filter(results[i].objs, keep)
				}
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := &loadResult{notes: notes}
	n := 0
	for _, r := range results {
		n += len(r.objs)
	}
	out.objs = make([]render.Object, 0, n)
	for _, r := range results {
		if r.err != nil {
			out.errs = append(out.errs, r.err)
			continue
		}
		out.objs = append(out.objs, r.objs...)
		out.unknownValues = append(out.unknownValues, r.unknownValues...)
		out.total += r.total
		out.files += r.files
	}
	return out, nil
}

// filter keeps the objects for which keep is true, in order, and lets the
// others go.
func filter(objs []render.Object, keep func(render.Object) bool) []render.Object {
	out := objs[:0]
	for _, o := range objs {
		if keep(o) {
			out = append(out, o)
		}
	}
	clear(objs[len(out):])
	if len(out) == 0 {
		return nil
	}
	return out
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

func runJob(ctx context.Context, opts Options, j job) loaded {
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
		data, err := readLimited(in, "standard input", limit, 0)
		if err != nil {
			return loaded{err: newInputError(StdinSource, err)}
		}
		objs, err := render.SplitYAML(StdinSource, data)
		if err != nil {
			return loaded{err: newInputError(StdinSource, fmt.Errorf("reading standard input: %w", err))}
		}
		return loaded{objs: objs, files: 1}
	case jobChart:
		r, err := render.RenderChart(ctx, j.path, render.ChartOptions{
			Namespace: opts.Namespace, ValueFiles: opts.ValueFiles, Set: opts.Set, SetString: opts.SetString,
			SetFile: opts.SetFile, KubeVersion: opts.KubeVersion,
		})
		if err != nil {
			return loaded{err: newInputError(j.path, naming(j.path, "chart", err))}
		}
		var unknown []model.UnknownValue
		for _, u := range r.UnknownValues {
			unknown = append(unknown, model.UnknownValue{Chart: j.path, Key: u.Key, Suggestion: u.Suggestion})
		}
		return loaded{objs: r.Objects, files: distinctSources(r.Objects), unknownValues: unknown}
	case jobKustomize:
		objs, err := render.Kustomize(ctx, j.path)
		if err != nil {
			return loaded{err: newInputError(j.path, naming(j.path, "kustomization", err))}
		}
		return loaded{objs: objs, files: distinctSources(objs)}
	default:
		data, err := readRegular(j.path, limit)
		if err != nil {
			return loaded{err: newInputError(j.path, err)}
		}
		objs, err := render.SplitYAML(j.path, data)
		if err != nil {
			return loaded{err: newInputError(j.path, fmt.Errorf("reading %s: %w", j.path, err))}
		}
		return loaded{objs: objs, files: 1}
	}
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
