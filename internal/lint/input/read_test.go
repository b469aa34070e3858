package input

import (
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		err  string
	}{
		{"1048576", 1 << 20, ""},
		{"1", 1, ""},
		{"64Mi", 64 << 20, ""},
		{"64MiB", 64 << 20, ""},
		{"1Gi", 1 << 30, ""},
		{"2Ki", 2048, ""},
		{"1Ti", 1 << 40, ""},
		{"500k", 500000, ""},
		{"10M", 10000000, ""},
		{"3G", 3000000000, ""},
		{" 16Mi ", 16 << 20, ""},
		{"0", 0, "must be positive"},
		{"-1", 0, "positive number"},
		{"+5", 0, "positive number"},
		{"", 0, "positive number"},
		{"Mi", 0, "positive number"},
		{"1.5Gi", 0, "positive number"},
		{"64mb", 0, "positive number"},
		{"9223372036854775807Ki", 0, "too large"},
		{"99999999999999999999", 0, "positive number"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseByteSize(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), tt.in) {
					t.Errorf("ParseByteSize(%q) = %d, %v; want an error with %q naming the input", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatByteSize(t *testing.T) {
	for _, tt := range []struct {
		in   int64
		want string
	}{
		{64 << 20, "64Mi"},
		{1 << 30, "1Gi"},
		{1536, "1536"},
		{1024, "1Ki"},
		{1000, "1000"},
		{3 << 40, "3Ti"},
		{1, "1"},
	} {
		if got := FormatByteSize(tt.in); got != tt.want {
			t.Errorf("FormatByteSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
		if n, err := ParseByteSize(FormatByteSize(tt.in)); err != nil || n != tt.in {
			t.Errorf("ParseByteSize(FormatByteSize(%d)) = %d, %v", tt.in, n, err)
		}
	}
}

// endless is an endless stream of "a: b\n".
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "a: b\n"[i%5]
	}
	return len(p), nil
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadLimited(t *testing.T) {
	for _, tt := range []struct {
		name  string
		r     io.Reader
		limit int64
		hint  int64
		want  string
		err   string
	}{
		{"empty", strings.NewReader(""), 10, 0, "", ""},
		{"short", strings.NewReader("abc"), 10, 0, "abc", ""},
		{"exactly the limit", strings.NewReader("0123456789"), 10, 0, "0123456789", ""},
		{"one byte more", strings.NewReader("0123456789x"), 10, 0, "", "more than 10 bytes, the --max-input-bytes limit"},
		{"hint", strings.NewReader("abc"), 10, 3, "abc", ""},
		{"hint too small", strings.NewReader("abcdef"), 10, 3, "abcdef", ""},
		{"many chunks", strings.NewReader(strings.Repeat("x", 300<<10)), 1 << 20, 0, strings.Repeat("x", 300<<10), ""},
		{"endless", endless{}, 1 << 20, 0, "", "more than 1Mi (1048576 bytes)"},
		{"read error", failing{}, 10, 0, "", "disk on fire"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLimited(tt.r, "in.yaml", tt.limit, tt.hint)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "in.yaml") {
					t.Fatalf("error %v, want one naming in.yaml with %q", err, tt.err)
				}
				if strings.Contains(tt.err, "limit") || strings.Contains(tt.err, "more than") {
					if !errors.Is(err, ErrInputTooLarge) {
						t.Errorf("error %v is not ErrInputTooLarge", err)
					}
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %d bytes, %v; want %d bytes", len(got), err, len(tt.want))
			}
		})
	}
}

// TestReadLimitedMemory: an endless stream costs about the limit, not the
// doubling of a growing buffer, and not more as the stream goes on.
func TestReadLimitedMemory(t *testing.T) {
	const limit = 16 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := readLimited(endless{}, "<stdin>", limit, 0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrInputTooLarge) {
		t.Fatalf("error %v, want ErrInputTooLarge", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit+limit/2 {
		t.Errorf("allocated %d bytes to refuse a stream over %d", alloc, limit)
	}
}

func TestInputErrorLineAndMessage(t *testing.T) {
	for _, tt := range []struct {
		path     string
		err      string
		wantLine int
		wantMsg  string
	}{
		{"a.yaml", "reading a.yaml: a.yaml:7: invalid YAML: yaml: line 7: x", 7, "invalid YAML: yaml: line 7: x"},
		{"a.yaml", "reading a.yaml: open a.yaml: permission denied", 0, "open a.yaml: permission denied"},
		{"<stdin>", "reading standard input: <stdin>:2: invalid YAML: y", 2, "invalid YAML: y"},
		{"<stdin>", "reading standard input: input too large: more than 1Ki (1024 bytes), the --max-input-bytes limit", 0, "input too large: more than 1Ki (1024 bytes), the --max-input-bytes limit"},
		{"charts/x", "rendering chart charts/x: template: x/templates/a.yaml:3:4: bad", 0, "rendering chart charts/x: template: x/templates/a.yaml:3:4: bad"},
		{"dir/a.yaml", "dir/a.yaml: something: else", 0, "something: else"},
	} {
		e := newError(tt.path, errors.New(tt.err))
		if e.Line != tt.wantLine || e.Message() != tt.wantMsg || e.Error() != tt.err {
			t.Errorf("%q: line %d, message %q; want %d, %q", tt.err, e.Line, e.Message(), tt.wantLine, tt.wantMsg)
		}
	}
}

func TestSplitUnescaped(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"a=b", []string{"a=b"}},
		{"a=b,c=d", []string{"a=b", "c=d"}},
		{`a\,b=c,d=e`, []string{`a\,b=c`, "d=e"}},
		{"", []string{""}},
		{`trailing\`, []string{`trailing\`}},
	} {
		if got := splitUnescaped(tt.in, ','); !slices.Equal(got, tt.want) {
			t.Errorf("splitUnescaped(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
