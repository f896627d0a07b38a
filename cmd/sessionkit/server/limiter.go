package server

import (
	"sync"
	"time"
)

// limiter is a per-key token bucket. It runs no goroutine: buckets refill
// lazily when consulted, and idle full buckets are dropped when the table
// grows; past maxBuckets a random bucket is dropped, so memory stays bounded
// whatever keys clients make up.
type limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets is the table size past which idle full buckets are dropped.
const maxBuckets = 10000

func newLimiter(r Rate, now func() time.Time) *limiter {
	if r.Burst < 1 {
		r.Burst = 1
	}
	return &limiter{rate: r, now: now, buckets: map[string]*bucket{}}
}

// refill returns key's bucket brought up to date. l.mu must be held.
func (l *limiter) refill(key string) *bucket {
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		if len(l.buckets) >= maxBuckets {
			// Every bucket is in use (a flood of distinct keys): forget
			// one at random rather than grow without bound. Its key
			// starts over with a full bucket, which costs the limiter
			// one burst, never memory.
			for k := range l.buckets {
				delete(l.buckets, k)
				break
			}
		}
		b = &bucket{tokens: float64(l.rate.Burst), last: now}
		l.buckets[key] = b
		return b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(float64(l.rate.Burst), b.tokens+el*l.rate.PerSecond)
		b.last = now
	}
	return b
}

func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate.PerSecond >= float64(l.rate.Burst) {
			delete(l.buckets, k)
		}
	}
}

// allow takes a token for key and reports whether there was one.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// take removes a token for key and reports whether there was one. A
// failure is recorded either way: an empty bucket stays empty until it
// refills.
func (l *limiter) take(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
