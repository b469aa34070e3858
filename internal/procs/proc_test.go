package procs

import "testing"

// TestFreePortNeverRepeats draws many ports: the kernel picks a port for a
// bind to port 0 from about 28,000, so without the process-wide record a
// repeat among 3,000 draws is all but certain.
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]int{}
	for i := range 3000 {
		p, err := FreePort()
		if err != nil {
			t.Fatalf("draw %d: %v", i, err)
		}
		if j, ok := seen[p]; ok {
			t.Fatalf("draw %d returned port %d, already returned by draw %d", i, p, j)
		}
		seen[p] = i
	}
}
