package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// DefaultMaxInputBytes is how much of one input (a file or standard input)
// is read when Options.MaxInputBytes is not set: 64Mi.
const DefaultMaxInputBytes int64 = 64 << 20

// InputErrorRule is the rule ID of the findings that report an input (a
// file, standard input, a chart or a kustomization) that could not be read,
// parsed or rendered. It is not a rule of pkg/lint/rules: it cannot be
// disabled, and a run with such a finding has Result.Errors (the CLI exits
// 2).
const InputErrorRule = "input-error"

// The engine's other rules, which are not rules of pkg/lint/rules either
// (they cannot be disabled; docs.go describes them):
const (
	// ChartValuesRule: a chart's values fail its values.schema.json or a
	// template's fail or required check. Its findings are on the values
	// (the -f file and line, or the --set flag) and fail the run as errors.
	ChartValuesRule = "chart-values-invalid"
	// SetupEmptyRule: no input object is part of the setup (a warning; an
	// error with Options.FailOnEmpty).
	SetupEmptyRule = "setup-empty"
	// IgnoreUnknownRule: an ignore annotation names a rule that does not
	// exist.
	IgnoreUnknownRule = "ignore-rule-unknown"
)

// engineRule says whether id is one of the engine's rules.
func engineRule(id string) bool {
	switch id {
	case InputErrorRule, ChartValuesRule, SetupEmptyRule, IgnoreUnknownRule:
		return true
	}
	return false
}

var (
	// ErrInputTooLarge is wrapped by the error of an input longer than
	// Options.MaxInputBytes.
	ErrInputTooLarge = errors.New("input too large")
	// ErrNotRegular is wrapped by the error of a PATH that is neither a
	// regular file nor a directory (a FIFO, a device, a socket).
	ErrNotRegular = errors.New("not a regular file")
	// ErrNoChart is returned by Run when Helm values (--values, --set,
	// --set-string, --set-file) are given but no chart is among the inputs.
	ErrNoChart = errors.New("no Helm chart among the inputs")
)

// InputError is one input that could not be loaded. Its message names the
// input (and the line, for YAML errors); Unwrap gives the cause.
type InputError struct {
	// Path is the file, chart or kustomization directory, or StdinSource.
	Path string
	// Line is the 1-based line of a YAML error in Path; 0 when unknown.
	Line int
	// Err names Path itself.
	Err error
}

func (e *InputError) Error() string { return e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

// message is the error without what the finding's location already says:
// a leading "reading PATH: " and "PATH:LINE: ".
func (e *InputError) message() string {
	msg := e.Err.Error()
	name := e.Path
	if name == StdinSource {
		msg = strings.TrimPrefix(msg, "reading standard input: ")
	}
	msg = strings.TrimPrefix(msg, "reading "+name+": ")
	if rest, ok := strings.CutPrefix(msg, name+":"); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if _, err := strconv.Atoi(rest[:i]); err == nil {
				return rest[i+2:]
			}
		}
		return strings.TrimPrefix(rest, " ")
	}
	return msg
}

// newInputError wraps err, which names path, and finds the line of a YAML
// error ("PATH:LINE: ..." after an optional "reading ...: ").
func newInputError(path string, err error) *InputError {
	e := &InputError{Path: path, Err: err}
	msg := err.Error()
	for {
		i := strings.Index(msg, path+":")
		if i < 0 {
			return e
		}
		msg = msg[i+len(path)+1:]
		if j := strings.IndexByte(msg, ':'); j > 0 {
			if n, err := strconv.Atoi(msg[:j]); err == nil && n > 0 {
				e.Line = n
				return e
			}
		}
	}
}

// Note adds a note: something the user should know that is not a finding
// (an input that was skipped, an assumption the rules made). Text output
// prints notes after the findings.
func (r *Result) Note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// addInputs records what loading found besides objects: notes first (in
// path order, before those of Check), and the input errors, each also a
// finding of InputErrorRule so that every output format shows it. It
// returns the input errors joined, or nil.
func (r *Result) addInputs(notes []string, errs []error) error {
	if len(notes) > 0 {
		r.Notes = append(notes[:len(notes):len(notes)], r.Notes...)
	}
	if len(errs) == 0 {
		return nil
	}
	r.Errors = errs
	for _, err := range errs {
		f := Finding{Rule: InputErrorRule, Severity: "error", Message: err.Error()}
		var ie *InputError
		if errors.As(err, &ie) {
			f.File, f.Line, f.Message = ie.Path, ie.Line, ie.message()
		}
		r.Findings = append(r.Findings, f)
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if len(errs) == 1 {
		r.Note("1 input could not be loaded: findings that depend on its objects may be missing or wrong")
	} else {
		r.Note("%d inputs could not be loaded: findings that depend on their objects may be missing or wrong", len(errs))
	}
	return errors.Join(errs...)
}

// InputErrors counts the findings of InputErrorRule.
func (r *Result) InputErrors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Rule == InputErrorRule {
			n++
		}
	}
	return n
}

// maxInput is the limit in effect.
func (o Options) maxInput() int64 {
	if o.MaxInputBytes > 0 {
		return o.MaxInputBytes
	}
	return DefaultMaxInputBytes
}

func tooLarge(name string, limit int64) error {
	return fmt.Errorf("reading %s: %w: more than %s, the --max-input-bytes limit", name, ErrInputTooLarge, limitText(limit))
}

// limitText is "64Mi (67108864 bytes)", or "1000 bytes".
func limitText(limit int64) string {
	if f := FormatByteSize(limit); f != strconv.FormatInt(limit, 10) {
		return fmt.Sprintf("%s (%d bytes)", f, limit)
	}
	return fmt.Sprintf("%d bytes", limit)
}

// readLimited reads r to the end, but at most limit bytes: one more is an
// error naming name and the limit. It reads in chunks, so an endless stream
// costs about limit bytes before it fails (not the doubling of one growing
// buffer); sizeHint (when known and within the limit) sizes the first chunk
// to hold all of it.
func readLimited(r io.Reader, name string, limit, sizeHint int64) ([]byte, error) {
	const minChunk, maxChunk = 64 << 10, 4 << 20
	r = io.LimitReader(r, limit+1)
	var chunks [][]byte
	var total int64
	next := int64(minChunk)
	if sizeHint > 0 && sizeHint <= limit {
		next = sizeHint + 1 // +1 sees the end without another chunk
	}
	for {
		buf := make([]byte, min(next, limit+1-total))
		n, err := io.ReadFull(r, buf)
		total += int64(n)
		if n > 0 {
			chunks = append(chunks, buf[:n])
		}
		if total > limit {
			return nil, tooLarge(name, limit)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		next = min(max(next*2, minChunk), maxChunk)
	}
	switch len(chunks) {
	case 0:
		return nil, nil
	case 1:
		return chunks[0], nil
	}
	return bytes.Join(chunks, nil), nil
}

// openRegular opens a regular file of at most limit bytes for reading, and
// returns its size.
// It is opened without blocking (a FIFO that replaced the file since it
// was planned does not hang) and checked again once open.
func openRegular(path string, limit int64) (*os.File, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, notRegular(path, fi.Mode())
	}
	if fi.Size() > limit {
		return nil, 0, tooLarge(path, limit)
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, notRegular(path, fi.Mode())
	}
	return f, fi.Size(), nil
}

// capped reads r, but fails after limit bytes with the error of tooLarge
// (a file that grows while it is read).
type capped struct {
	r        io.Reader
	name     string
	n, limit int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, tooLarge(c.name, c.limit)
	}
	if room := c.limit + 1 - c.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return 0, tooLarge(c.name, c.limit)
	}
	return n, err
}

func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("reading %s: %w but %s", path, ErrNotRegular, describeMode(m))
}

// describeMode names a file type: "a named pipe (FIFO)", "a character
// device", ...
func describeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "an irregular file"
	}
}

// byteUnits are the suffixes ParseByteSize accepts.
var byteUnits = []struct {
	suffix string
	n      int64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}

// ParseByteSize parses a positive size in bytes: "1048576", or a whole
// number with a suffix as Kubernetes quantities have: "64Mi", "1Gi" (powers
// of 1024: Ki, Mi, Gi, Ti) or "500k", "10M" (powers of 1000: k, M, G, T). A
// trailing "B" is allowed ("64MiB").
func ParseByteSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "B")
	mult := int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = rest, u.n
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || t == "" || t[0] == '+' || t[0] == '-' {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, optionally with a suffix Ki, Mi, Gi, Ti, k, M, G or T", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("size %q: must be positive", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * mult, nil
}

// FormatByteSize writes n as ParseByteSize reads it, with the largest
// binary suffix that divides it ("64Mi"), else in bytes.
func FormatByteSize(n int64) string {
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if n >= u.n && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
