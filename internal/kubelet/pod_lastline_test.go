package kubelet

import (
	"strings"
	"testing"
)

func TestLastLine(t *testing.T) {
	long := strings.Repeat("x", 400)
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"one\n", "one"},
		{"a\nb\n\n\n", "b"},
		{"fatal: port 46061 in use", "fatal: port 46061 in use"},
		{"start\n" + long + "\n", long[:300] + "..."},
	} {
		if got := lastLine(tc.in); got != tc.want {
			t.Errorf("lastLine(%.20q) = %.40q, want %.40q", tc.in, got, tc.want)
		}
	}
}
