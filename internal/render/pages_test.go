package render

import (
	"bufio"
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func TestPages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []int // sizes
		joined bool  // more than one page
	}{
		{"empty", nil, false},
		{"one line", []int{40}, false},
		{"a Component", []int{11, 20, 9, 30, 25, 14, 33, 40, 19}, false},
		{"just one page", []int{maxPage - 1, 1}, false},
		{"one byte over", []int{maxPage, 1}, true},
		{"a long line", []int{3*maxPage + 17}, true},
		{"many lines", []int{70000, 1, 200000, 5}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pages
			var want []byte
			for i, n := range tc.writes {
				b := bytes.Repeat([]byte{byte('a' + i)}, n)
				p.write(b)
				want = append(want, b...)
			}
			if got := p.bytes(); !bytes.Equal(got, want) {
				t.Fatalf("bytes() differs: %d bytes, want %d", len(got), len(want))
			}
			if (len(p.full) > 0) != tc.joined {
				t.Errorf("%d full pages; joined %v, want %v", len(p.full), len(p.full) > 0, tc.joined)
			}
		})
	}
}

// TestStreamedDocumentAllocation: a large document read from a stream is
// gathered at about twice its size (its pages, then the joined text), not
// the five times a slice grown by append costs.
func TestStreamedDocumentAllocation(t *testing.T) {
	const size = 8 << 20
	data := []byte(strings.Repeat("# x\n", size/4))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	err := eachDoc(nil, bufio.NewReaderSize(bytes.NewReader(data), 64<<10), func(d doc) error {
		n += len(d.text)
		return nil
	})
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("read %d bytes (%v), want %d", n, err, size)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > size*5/2 {
		t.Errorf("allocated %.1f MiB for a %d MiB document, want at most 2.5 times its size", float64(got)/(1<<20), size>>20)
	}
}
