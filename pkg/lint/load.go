package lint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

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
)

type job struct {
	kind jobKind
	path string
}

type loaded struct {
	objs  []render.Object
	total int // objects read, kept or not
	files int
	err   error
}

// Load reads every PATH of opts into objects, in the order of the paths
// (files of a directory in lexical order). Charts are rendered with Helm
// and kustomizations built with kustomize, in-process. Errors name the path.
func Load(ctx context.Context, opts Options) ([]render.Object, int, error) {
	objs, _, files, err := load(ctx, opts, nil)
	return objs, files, err
}

// load is Load keeping only the objects for which keep (when not nil) is
// true; total counts all objects read.
func load(ctx context.Context, opts Options, keep func(render.Object) bool) (objs []render.Object, total, files int, err error) {
	jobs, err := plan(opts.Paths)
	if err != nil {
		return nil, 0, 0, err
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
	n := 0
	for _, r := range results {
		if r.err != nil {
			return nil, 0, 0, r.err
		}
		n += len(r.objs)
	}
	objs = make([]render.Object, 0, n)
	for _, r := range results {
		objs = append(objs, r.objs...)
		total += r.total
		files += r.files
	}
	return objs, total, files, ctx.Err()
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

// plan expands the paths into jobs: a file, a chart, a kustomization, stdin.
func plan(paths []string) ([]job, error) {
	var jobs []job
	stdin := false
	for _, p := range paths {
		if p == StdinPath {
			if stdin {
				return nil, errors.New("-: standard input given twice")
			}
			stdin = true
			jobs = append(jobs, job{jobStdin, p})
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		if !fi.IsDir() {
			jobs = append(jobs, job{jobFile, p})
			continue
		}
		if k, ok := dirKind(p); ok {
			jobs = append(jobs, job{k, p})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("reading %s: %w", path, err)
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if path == p {
					return nil
				}
				if k, ok := dirKind(path); ok {
					jobs = append(jobs, job{k, path})
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				jobs = append(jobs, job{jobFile, path})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return jobs, nil
}

// dirKind tells a chart (Chart.yaml) or a kustomization directory.
func dirKind(dir string) (jobKind, bool) {
	if exists(filepath.Join(dir, "Chart.yaml")) {
		return jobChart, true
	}
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if exists(filepath.Join(dir, n)) {
			return jobKustomize, true
		}
	}
	return 0, false
}

func exists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func runJob(ctx context.Context, opts Options, j job) loaded {
	if err := ctx.Err(); err != nil {
		return loaded{err: err}
	}
	switch j.kind {
	case jobStdin:
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		data, err := io.ReadAll(in)
		if err != nil {
			return loaded{err: fmt.Errorf("reading standard input: %w", err)}
		}
		objs, err := render.SplitYAML(StdinSource, data)
		if err != nil {
			return loaded{err: fmt.Errorf("reading standard input: %w", err)}
		}
		return loaded{objs: objs, files: 1}
	case jobChart:
		objs, err := render.Chart(ctx, j.path, render.ChartOptions{
			Namespace: opts.Namespace, ValueFiles: opts.ValueFiles, Set: opts.Set, SetString: opts.SetString,
		})
		if err != nil {
			return loaded{err: fmt.Errorf("chart %s: %w", j.path, err)}
		}
		return loaded{objs: objs, files: distinctSources(objs)}
	case jobKustomize:
		objs, err := render.Kustomize(ctx, j.path)
		if err != nil {
			return loaded{err: fmt.Errorf("kustomization %s: %w", j.path, err)}
		}
		return loaded{objs: objs, files: distinctSources(objs)}
	default:
		data, err := os.ReadFile(j.path)
		if err != nil {
			return loaded{err: fmt.Errorf("reading %s: %w", j.path, err)}
		}
		objs, err := render.SplitYAML(j.path, data)
		if err != nil {
			return loaded{err: fmt.Errorf("reading %s: %w", j.path, err)}
		}
		return loaded{objs: objs, files: 1}
	}
}

func distinctSources(objs []render.Object) int {
	seen := map[string]bool{}
	for _, o := range objs {
		seen[o.Source] = true
	}
	return len(seen)
}
