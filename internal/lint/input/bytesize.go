package input

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

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
