package queue

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRateLimitedLogger(t *testing.T) {
	var buf bytes.Buffer
	l := newRateLimitedLogger(slog.New(slog.NewTextHandler(&buf, nil)), 50*time.Millisecond)
	for i := 0; i < 100; i++ {
		l.Warn("send failed, will retry", "error", "broker down")
	}
	l.Error("message failed permanently", "reason", "too_large")
	if got := strings.Count(buf.String(), "send failed"); got != 1 {
		t.Fatalf("100 repeats logged %d times within the interval, want 1:\n%s", got, buf.String())
	}
	if !strings.Contains(buf.String(), "message failed permanently") {
		t.Fatal("a different message was held back with the repeated one")
	}
	time.Sleep(60 * time.Millisecond)
	l.Warn("send failed, will retry", "error", "broker down")
	if !strings.Contains(buf.String(), "suppressed=99") {
		t.Fatalf("the next line after the interval does not count the 99 held back:\n%s", buf.String())
	}
}
