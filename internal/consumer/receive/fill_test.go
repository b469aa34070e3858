package receive

import (
	"testing"
	"time"

	"github.com/gatekeeper-pubsub/gatekeeper-pubsub/internal/consumer/store"
)

// TestFillWaitsForWhatWasInFlight: daprd's workers each send their next
// message when the last is answered, so after a commit the deliveries in
// flight arrive one by one; the batch waits (up to Linger) for as many as
// were in flight at once, instead of committing the first one alone.
// This tests the mechanism with the arrivals staged; how full batches get
// with real daprd is a speed figure, measured by BenchmarkConsume
// (msgs_per_commit), not asserted in a test (an earlier timing-based test
// here failed on a loaded CI machine).
func TestFillWaitsForWhatWasInFlight(t *testing.T) {
	for _, tc := range []struct {
		name     string
		linger   time.Duration
		peak     int           // deliveries in flight at once since the last batch
		arriving int           // messages queued after the first
		gap      time.Duration // between them
		batch    int
		want     int
	}{
		{"waits for the ten in flight", time.Minute, 10, 9, 20 * time.Millisecond, 512, 10},
		{"takes no more than were in flight", time.Minute, 4, 9, 20 * time.Millisecond, 512, 4},
		{"stops at the batch size", time.Minute, 10, 9, 20 * time.Millisecond, 6, 6},
		{"stops at the linger", 20 * time.Millisecond, 10, 9, time.Second, 512, 1},
		{"never waits with a negative linger", -1, 10, 9, 20 * time.Millisecond, 512, 1},
		{"alone when alone in flight", time.Minute, 1, 9, 20 * time.Millisecond, 512, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Receiver{opts: Options{Linger: tc.linger, BatchSize: tc.batch}, queue: make(chan *pending, 64)}
			r.peak.Store(int64(tc.peak))
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for range tc.arriving {
					select {
					case <-stop:
						return
					case <-time.After(tc.gap):
					}
					r.queue <- &pending{msgs: []store.Message{{}}}
				}
			}()
			got := r.fill([]*pending{{msgs: []store.Message{{}}}})
			if len(got) != tc.want {
				t.Fatalf("batch of %d, want %d", len(got), tc.want)
			}
		})
	}
}
