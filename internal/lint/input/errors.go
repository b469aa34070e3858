package input

import (
	"errors"
	"strconv"
	"strings"
)

var (
	// ErrInputTooLarge is wrapped by the error of an input longer than
	// Options.MaxInputBytes.
	ErrInputTooLarge = errors.New("input too large")
	// ErrNotRegular is wrapped by the error of a PATH that is neither a
	// regular file nor a directory (a FIFO, a device, a socket).
	ErrNotRegular = errors.New("not a regular file")
	// ErrNoChart is returned by Load when Helm values (--values, --set,
	// --set-string, --set-file) are given but no chart is among the inputs.
	ErrNoChart = errors.New("no Helm chart among the inputs")
)

// Error is one input that could not be loaded. Its message names the
// input (and the line, for YAML errors); Unwrap gives the cause.
type Error struct {
	// Path is the file, chart or kustomization directory, or StdinSource.
	Path string
	// Line is the 1-based line of a YAML error in Path; 0 when unknown.
	Line int
	// Err names Path itself.
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Message is the error without what a finding's location already says:
// a leading "reading PATH: " and "PATH:LINE: ".
func (e *Error) Message() string {
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

// newError wraps err, which names path, and finds the line of a YAML
// error ("PATH:LINE: ..." after an optional "reading ...: ").
func newError(path string, err error) *Error {
	e := &Error{Path: path, Err: err}
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
