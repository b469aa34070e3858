package connection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/schemas"
)

// ErrUnknownDriver is the error of a driver that Gatekeeper does not read
// from a config's form.
var ErrUnknownDriver = errors.New("unknown driver")

// CheckDriver says whether a config of the form (schemas.FormConfigMap or
// schemas.FormConnection) can name the driver. The error wraps
// ErrUnknownDriver and lists the valid drivers.
func CheckDriver(form, driver string) error {
	valid := schemas.DriversFor(form)
	if slices.Contains(valid, driver) {
		return nil
	}
	if d, err := schemas.Driver(driver); err == nil {
		where := "a Connection resource (connection.gatekeeper.sh/v1alpha1, Gatekeeper v3.20 and later)"
		if d.HasForm(schemas.FormConfigMap) {
			where = "a ConfigMap (Gatekeeper v3.13 to v3.19)"
		}
		return fmt.Errorf("%w %q in a %s: Gatekeeper %s and later read the %s driver from %s; valid drivers in a %s are %s",
			ErrUnknownDriver, driver, form, d.Since, driver, where, form, strings.Join(valid, ", "))
	}
	return fmt.Errorf("%w %q: valid drivers are %s", ErrUnknownDriver, driver, strings.Join(valid, ", "))
}

// PointerError is a problem at a JSON pointer inside a config.
type PointerError struct {
	Pointer string
	Err     error
}

func (e *PointerError) Error() string { return fmt.Sprintf("at %s: %v", e.Pointer, e.Err) }
func (e *PointerError) Unwrap() error { return e.Err }

// DecodeConfig decodes a driver's config from JSON and validates it
// against the driver's schema. Syntax errors give the byte offset.
func DecodeConfig(driver string, raw []byte) (map[string]any, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	if err := ValidateConfig(driver, v); err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// ValidateConfig validates a decoded config against the driver's schema
// and the bounds of its duration keys (for disk, closedConnectionTTL from
// 1m to 10m), which the schema cannot express.
func ValidateConfig(driver string, v any) error {
	problems, err := schemas.Validate(schemas.ConnectionConfig(driver), v)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrUnknownDriver, driver, err)
	}
	if len(problems) == 0 {
		return checkDurations(driver, v)
	}
	msgs := make([]string, 0, len(problems))
	for _, p := range problems[1:] {
		msgs = append(msgs, p.String())
	}
	err = errors.New(problems[0].Message)
	if len(msgs) > 0 {
		err = fmt.Errorf("%s (also %s)", problems[0].Message, strings.Join(msgs, "; "))
	}
	return &PointerError{Pointer: problems[0].Pointer, Err: err}
}

// checkDurations checks the keys the driver's schema bounds with
// x-durationRange, as Gatekeeper does (time.ParseDuration, then the range).
func checkDurations(driver string, v any) error {
	d, err := schemas.Driver(driver)
	if err != nil {
		return nil
	}
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(d.DurationRanges))
	for k := range d.DurationRanges {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s, ok := m[k].(string)
		if !ok {
			continue
		}
		r := d.DurationRanges[k]
		dur, err := time.ParseDuration(s)
		switch {
		case err != nil:
			return &PointerError{Pointer: "/" + k, Err: fmt.Errorf("%q is not a Go duration such as 5m", s)}
		case dur < r.Min || dur > r.Max:
			return &PointerError{Pointer: "/" + k, Err: fmt.Errorf("%s is out of range: want %s to %s", s, shortDuration(r.Min), shortDuration(r.Max))}
		}
	}
	return nil
}

// shortDuration renders 10m0s as 10m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// decodeJSON decodes one JSON value (numbers as json.Number); its errors
// say where, as jsonError.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(raw, err)
	}
	if dec.More() {
		off := dec.InputOffset()
		return nil, &offsetError{off: off, err: fmt.Errorf("invalid JSON at offset %d: more than one value", off)}
	}
	return v, nil
}

// offsetError is a JSON error at a byte offset of the text.
type offsetError struct {
	off int64
	err error
}

func (e *offsetError) Error() string { return e.err.Error() }
func (e *offsetError) Unwrap() error { return errors.Unwrap(e.err) }

// syntaxPosition is the line and column of a decodeJSON error in raw (0, 0
// when unknown).
func syntaxPosition(raw []byte, err error) (line, col int) {
	var oe *offsetError
	if !errors.As(err, &oe) || oe.off <= 0 {
		return 0, 0
	}
	return position(raw, oe.off)
}

// jsonError says where in raw a JSON error is: "invalid JSON at offset N
// (line L, column C): cause".
func jsonError(raw []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(raw, se.Offset)
		return &offsetError{off: se.Offset, err: fmt.Errorf("invalid JSON at offset %d (line %d, column %d): %w", se.Offset, line, col, err)}
	case errors.As(err, &te):
		return &offsetError{off: te.Offset, err: fmt.Errorf("invalid JSON at offset %d: %w", te.Offset, err)}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		off := int64(len(bytes.TrimRight(raw, " \t\r\n")))
		return &offsetError{off: off, err: fmt.Errorf("invalid JSON at offset %d: unexpected end of input: %w", len(raw), err)}
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// position is the 1-based line and column of byte offset (as Go's JSON
// decoder counts it: the offset just past the byte at fault) in text.
func position(raw []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(raw)); i++ {
		if raw[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
