package input

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/render"
)

func runJob(ctx context.Context, opts Options, j job) Loaded {
	if err := ctx.Err(); err != nil {
		return Loaded{fatal: err}
	}
	limit := opts.maxInput()
	switch j.kind {
	case jobError:
		return failed(newError(j.path, j.err))
	case jobStdin:
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		if opts.Sink != nil {
			if res, ok := readStdinSpooled(in, limit, opts.Sink); ok {
				return res
			}
		}
		data, err := readLimited(in, "standard input", limit, 0)
		if err != nil {
			return failed(newError(StdinSource, err))
		}
		res := Loaded{Files: 1}
		if err := render.EachYAML(StdinSource, data, func(o render.Object) error { return res.add(opts.Sink, o) }); err != nil {
			if res.fatal != nil {
				return Loaded{fatal: res.fatal}
			}
			return failed(newError(StdinSource, fmt.Errorf("reading standard input: %w", err)))
		}
		return res
	case jobChart:
		r, err := render.RenderChart(ctx, j.path, render.ChartOptions{
			Namespace: opts.Namespace, ValueFiles: opts.ValueFiles, Set: opts.Set, SetString: opts.SetString,
			SetFile: opts.SetFile, KubeVersion: opts.KubeVersion,
		})
		if err != nil {
			if found, ok := chartValueFindings(j.path, opts, err); ok {
				return Loaded{Found: found, Notes: []string{fmt.Sprintf("chart %s was not rendered: its values fail its checks (findings of %s), so its objects are not linted", j.path, ChartValuesRule)}}
			}
			return failed(newError(j.path, naming(j.path, "chart", err)))
		}
		unknown := r.UnknownValues
		for i := range unknown {
			unknown[i].Chart = j.path
		}
		return addAll(opts.Sink, Loaded{Files: distinctSources(r.Objects), UnknownValues: unknown}, r.Objects)
	case jobKustomize:
		objs, err := render.Kustomize(ctx, j.path)
		if err != nil {
			return failed(newError(j.path, naming(j.path, "kustomization", err)))
		}
		return addAll(opts.Sink, Loaded{Files: distinctSources(objs)}, objs)
	default:
		f, size, err := openRegular(j.path, limit)
		if err != nil {
			return failed(newError(j.path, err))
		}
		defer f.Close()
		// A buffer no larger than the file: a repository has thousands of
		// small ones.
		sum := crc32.NewIEEE()
		res := stream(j.path, j.path, f, int(min(max(size+1, 512), 64<<10)), limit, sum, opts.Sink)
		if res.dropped {
			res.Copies = map[string]TextCopy{j.path: {Path: j.path, Sum: sum.Sum32()}}
		}
		return res
	}
}

// stream reads one input as it is decoded, never whole: through the
// --max-input-bytes limit and a buffer of bufSize, writing what it reads to
// copyTo (the CRC-32 kept for the locator; for standard input, also its
// spool). what names the input in errors.
func stream(source, what string, r io.Reader, bufSize int, limit int64, copyTo io.Writer, sink Sink) Loaded {
	res := Loaded{Files: 1, file: true}
	in := bufio.NewReaderSize(io.TeeReader(&capped{r: r, name: what, limit: limit}, copyTo), bufSize)
	if err := render.EachYAMLFrom(source, in, func(o render.Object) error { return res.add(sink, o) }); err != nil {
		switch {
		case res.fatal != nil:
			return Loaded{fatal: res.fatal}
		case errors.Is(err, ErrInputTooLarge):
			return failed(newError(source, err))
		}
		return failed(newError(source, fmt.Errorf("reading %s: %w", what, err)))
	}
	return res
}

// naming returns err, which internal/render's errors are, when it names path;
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
