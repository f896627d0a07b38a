package rediscache

import (
	"log/slog"
	"sync"
	"time"
)

// BreakerState is the circuit breaker's state, as reported in the
// "cache_breaker_state" stat.
type BreakerState int

// Breaker states.
const (
	// BreakerClosed: Redis is used.
	BreakerClosed BreakerState = 0
	// BreakerHalfOpen: one probe call is trying Redis; others skip it.
	BreakerHalfOpen BreakerState = 1
	// BreakerOpen: Redis is skipped until the cooldown passes.
	BreakerOpen BreakerState = 2
)

// String implements fmt.Stringer.
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	}
	return "open"
}

// breaker stops the cache from waiting on a dead Redis: it opens after
// threshold consecutive failures, lets one probe through after cooldown
// (half-open), and closes on the first success. It logs state changes, not
// calls.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	log       *slog.Logger

	mu       sync.Mutex
	state    BreakerState
	failures int
	openedAt time.Time
	opens    int64
}

// allow reports whether a call may use Redis. In the open state after the
// cooldown it moves to half-open and admits the caller as the probe.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true
	case BreakerOpen:
		if b.now().Sub(b.openedAt) >= b.cooldown {
			b.state = BreakerHalfOpen
			b.log.Debug("rediscache: breaker half-open, probing redis")
			return true
		}
	}
	return false
}

// success records a Redis call that worked.
func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	if b.state != BreakerClosed {
		b.state = BreakerClosed
		b.log.Info("rediscache: redis reachable again, caching resumed")
	}
}

// failure records a Redis call that failed.
func (b *breaker) failure(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	switch {
	case b.state == BreakerHalfOpen:
		b.state = BreakerOpen
		b.openedAt = b.now()
		b.log.Debug("rediscache: probe failed, breaker open again", "error", err)
	case b.state == BreakerClosed && b.failures >= b.threshold:
		b.state = BreakerOpen
		b.openedAt = b.now()
		b.opens++
		b.log.Warn("rediscache: redis failing, breaker open; serving from the backend",
			"consecutive_failures", b.failures, "cooldown", b.cooldown, "error", err)
	}
}

// abandon records a call that ended without telling whether Redis works (the
// caller's context ended). A half-open probe becomes due again at once.
func (b *breaker) abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerHalfOpen {
		b.state = BreakerOpen
		b.openedAt = b.now().Add(-b.cooldown)
	}
}

func (b *breaker) snapshot() (BreakerState, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.opens
}
