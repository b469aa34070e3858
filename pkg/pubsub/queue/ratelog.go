package queue

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// rateLimitedLogger logs a repeated message at most once per interval,
// with the number of repeats it held back.
type rateLimitedLogger struct {
	l        *slog.Logger
	interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
	held     map[string]int
}

func newRateLimitedLogger(l *slog.Logger, interval time.Duration) *rateLimitedLogger {
	return &rateLimitedLogger{l: l, interval: interval, last: map[string]time.Time{}, held: map[string]int{}}
}

func (r *rateLimitedLogger) log(level slog.Level, msg string, args ...any) {
	if !r.l.Enabled(context.Background(), level) {
		return
	}
	r.mu.Lock()
	now := time.Now()
	if t, ok := r.last[msg]; ok && now.Sub(t) < r.interval {
		r.held[msg]++
		r.mu.Unlock()
		return
	}
	held := r.held[msg]
	r.last[msg] = now
	r.held[msg] = 0
	r.mu.Unlock()
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	r.l.Log(context.Background(), level, msg, args...)
}

func (r *rateLimitedLogger) Error(msg string, args ...any) { r.log(slog.LevelError, msg, args...) }
func (r *rateLimitedLogger) Warn(msg string, args ...any)  { r.log(slog.LevelWarn, msg, args...) }
