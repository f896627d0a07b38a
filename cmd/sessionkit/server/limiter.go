package server

import (
	"sort"
	"sync"
	"time"
)

// limiter is a per-key token bucket. It runs no goroutine: buckets refill
// lazily when consulted, and idle full buckets are dropped when the table
// grows; past maxBuckets the fullest tenth is dropped, so memory stays
// bounded whatever keys clients make up, and a flood of made-up keys never
// resets a spent bucket (the target under attack).
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
			l.evictFullest(now)
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

// evictFullest drops the tenth of the buckets with the most tokens: they
// cost the least to forget (a forgotten key starts over with a full
// bucket), and the spent ones, those limiting someone, are kept. Done a
// tenth at a time, the sort is paid once per maxBuckets/10 new keys.
func (l *limiter) evictFullest(now time.Time) {
	type entry struct {
		key    string
		tokens float64
	}
	all := make([]entry, 0, len(l.buckets))
	for k, b := range l.buckets {
		all = append(all, entry{k, b.tokens + now.Sub(b.last).Seconds()*l.rate.PerSecond})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].tokens > all[j].tokens })
	for _, e := range all[:max(len(all)/10, 1)] {
		delete(l.buckets, e.key)
	}
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
