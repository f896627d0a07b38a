package hooks

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// rateLimitedLog writes at most one error record per interval and counts
// the ones it suppressed, so a dead endpoint cannot flood the logs.
type rateLimitedLog struct {
	logger   *slog.Logger
	interval time.Duration
	hook     string
	now      func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newRateLimitedLog(l *slog.Logger, interval time.Duration, hook string) *rateLimitedLog {
	return &rateLimitedLog{logger: l, interval: interval, hook: hook, now: time.Now}
}

func (r *rateLimitedLog) error(msg string, err error, attrs ...any) {
	r.mu.Lock()
	now := r.now()
	if !r.last.IsZero() && now.Sub(r.last) < r.interval {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := r.suppressed
	r.last, r.suppressed = now, 0
	r.mu.Unlock()
	args := append([]any{"hook", r.hook, "error", err.Error(), "suppressed", suppressed}, attrs...)
	r.logger.Log(context.Background(), slog.LevelError, msg, args...)
}

// flush reports suppressed records, if any, so Close leaves no silent gap.
func (r *rateLimitedLog) flush() {
	r.mu.Lock()
	n := r.suppressed
	r.suppressed = 0
	r.mu.Unlock()
	if n > 0 {
		r.logger.Log(context.Background(), slog.LevelError, "delivery errors suppressed by rate limit", "hook", r.hook, "suppressed", n)
	}
}
