package rediscache

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

func TestFailOpen_RedisDownServesBackendOpensBreakerAndRecovers(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	logs := &countingHandler{}
	f := newFixture(t, Options{BreakerFailures: 3, BreakerCooldown: time.Hour, Now: clock.Now,
		Logger: slog.New(logs), RedisTimeout: 200 * time.Millisecond})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", map[string]any{"v": int64(1)})
	_, err := f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)

	require.NoError(t, f.cache.PingCache(ctx))
	f.mr.Close()
	require.NoError(t, f.cache.Ping(ctx), "the backend answers: the repository is up")
	assert.ErrorContains(t, f.cache.PingCache(ctx), "redis did not answer", "the cache is degraded")
	for range 10 {
		md, err := f.cache.GetMetadata(ctx, "s1")
		require.NoError(t, err, "reads fail open")
		assert.Equal(t, int64(1), md["v"])
	}
	// A write while Redis is down still succeeds, and is never read stale.
	require.NoError(t, f.cache.UpdateMetadata(ctx, "s1", map[string]any{"v": int64(2)}))

	assert.Equal(t, int(BreakerOpen), stat(f.cache, "cache_breaker_state"))
	assert.Equal(t, 3, stat(f.cache, "cache_errors_total"), "only calls before the breaker opened waited on Redis")
	assert.Equal(t, 1, stat(f.cache, "cache_pending_invalidations"))
	assert.EqualValues(t, 1, logs.warns.Load(), "logged once per state change, not per call")

	require.NoError(t, f.mr.Restart())
	clock.Add(time.Hour) // cooldown over: next call probes
	md, err := f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), md["v"], "no stale read after recovery")

	// The retry loop's next tick probes Redis, flushes the pending
	// invalidation and closes the breaker; then caching resumes by itself.
	f.cache.retryPending(ctx)
	assert.Equal(t, 0, stat(f.cache, "cache_pending_invalidations"))
	assert.Equal(t, int(BreakerClosed), stat(f.cache, "cache_breaker_state"))
	assert.NoError(t, f.cache.PingCache(ctx))
	assert.EqualValues(t, 1, logs.infos.Load())
	hits := stat(f.cache, "cache_hits_total")
	for range 2 {
		md, err = f.cache.GetMetadata(ctx, "s1")
		require.NoError(t, err)
		assert.Equal(t, int64(2), md["v"])
	}
	assert.Equal(t, hits+1, stat(f.cache, "cache_hits_total"))
}

func TestFailOpen_PendingInvalidationProtectsAgainstStaleEntries(t *testing.T) {
	t.Parallel()
	// Redis keeps the old entry (it was unreachable from this writer only):
	// until the retry succeeds this process must not serve it.
	f := newFixture(t, Options{BreakerFailures: 1, BreakerCooldown: time.Hour})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", map[string]any{"v": int64(1)})
	_, err := f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)

	f.mr.SetError("LOADING simulated outage")
	require.NoError(t, f.cache.UpdateMetadata(ctx, "s1", map[string]any{"v": int64(2)}))
	f.mr.SetError("")
	f.cache.br.success() // Redis is back; the entry from before the write is still there

	md, err := f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), md["v"])
	f.cache.retryPending(ctx)
	md, err = f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), md["v"])
}

func TestFailOpen_SlowRedisCostsAtMostTheRedisTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{RedisTimeout: 50 * time.Millisecond, BreakerFailures: 100})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", nil)
	// miniredis has no latency hook: a second decorator over the same
	// backend talks to a listener that never answers.
	ln := blackHole(t)
	client := redis.NewClient(&redis.Options{Addr: ln, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	c, err := New(sharedRepo{f.backend}, client, Options{RedisTimeout: 50 * time.Millisecond, BreakerFailures: 100})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := c.GetSession(callCtx, "s1")
	require.NoError(t, err)
	assert.Equal(t, "s1", s.ID)
	require.NoError(t, callCtx.Err(), "served from the backend within the caller's deadline")
	assert.Equal(t, 1, stat(c, "cache_errors_total"))
}

func TestRealRedis_KilledMidRunThenRestarted(t *testing.T) {
	t.Parallel()
	srv := testservice.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = client.Close() })
	backend := memory.New(memory.Options{})
	newCache := func() *Cache {
		c, err := New(sharedRepo{backend}, client, Options{RedisTimeout: time.Second,
			BreakerFailures: 2, BreakerCooldown: 100 * time.Millisecond, Logger: slog.New(&countingHandler{})})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a, b := newCache(), newCache()
	ctx := ctxT(t)
	mustCreateSession(t, a, "s1", map[string]any{"v": int64(0)})
	for _, c := range []*Cache{a, b} {
		_, err := c.GetMetadata(ctx, "s1")
		require.NoError(t, err)
	}

	srv.Stop(t)
	for i := 1; i <= 5; i++ {
		require.NoError(t, a.UpdateMetadata(ctx, "s1", map[string]any{"v": int64(i)}), "writes succeed during the outage")
		for _, c := range []*Cache{a, b} {
			md, err := c.GetMetadata(ctx, "s1")
			require.NoError(t, err, "reads succeed during the outage")
			assert.Equal(t, int64(i), md["v"])
		}
	}
	assert.NotEqual(t, int(BreakerClosed), stat(a, "cache_breaker_state"), "open, or half-open while the retry loop probes: %v", a.Stats())

	srv.Restart(t)
	require.Eventually(t, func() bool {
		_, _ = a.GetMetadata(ctx, "s1")
		_, _ = b.GetMetadata(ctx, "s1")
		return stat(a, "cache_breaker_state") == int(BreakerClosed) && stat(b, "cache_breaker_state") == int(BreakerClosed) &&
			stat(a, "cache_pending_invalidations") == 0
	}, 10*time.Second, 20*time.Millisecond, "caching resumes by itself")
	require.NoError(t, b.UpdateMetadata(ctx, "s1", map[string]any{"v": int64(6)}))
	hits := stat(a, "cache_hits_total")
	for range 3 {
		md, err := a.GetMetadata(ctx, "s1")
		require.NoError(t, err)
		assert.Equal(t, int64(6), md["v"], "no stale read after recovery")
	}
	assert.Equal(t, hits+2, stat(a, "cache_hits_total"), "%v", a.Stats())
	var _ session.Repository = a
}

// Observed item 1, deterministically: the breaker is open (fills failed, as
// under OOM with noeviction) but Redis takes a DEL. The write must still
// invalidate, so another process never serves the old value.
func TestInvalidate_SentWhileTheBreakerIsOpen(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{BreakerFailures: 1, BreakerCooldown: time.Hour})
	ctx := ctxT(t)
	peer, err := New(sharedRepo{f.backend}, f.client, Options{RedisTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = peer.Close() })
	mustCreateSession(t, f.cache, "s1", map[string]any{"v": int64(1)})
	for range 2 {
		md, err := peer.GetMetadata(ctx, "s1") // fill, then hit
		require.NoError(t, err)
		require.Equal(t, int64(1), md["v"])
	}
	f.cache.br.failure(errors.New("OOM command not allowed when used memory > 'maxmemory'"))
	require.Equal(t, int(BreakerOpen), stat(f.cache, "cache_breaker_state"))

	require.NoError(t, f.cache.UpdateMetadata(ctx, "s1", map[string]any{"v": int64(2)}))
	assert.Zero(t, stat(f.cache, "cache_pending_invalidations"), "the DEL landed")
	md, err := peer.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), md["v"], "the other process does not serve the old value")
	assert.Equal(t, int(BreakerClosed), stat(f.cache, "cache_breaker_state"), "a DEL that worked shows Redis answers")
}

// The pending set drains by itself within about InvalidateRetry of Redis
// answering again, breaker open or not (its cooldown here is an hour).
func TestInvalidate_PendingDrainsAsSoonAsRedisAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{BreakerFailures: 1, BreakerCooldown: time.Hour,
		InvalidateTimeout: 50 * time.Millisecond, InvalidateRetry: 20 * time.Millisecond})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", nil)
	f.mr.SetError("LOADING simulated outage")
	require.NoError(t, f.cache.UpdateMetadata(ctx, "s1", map[string]any{"v": int64(2)}), "writes never depend on Redis")
	require.Equal(t, 1, stat(f.cache, "cache_pending_invalidations"))
	require.Equal(t, int(BreakerOpen), stat(f.cache, "cache_breaker_state"))
	f.mr.SetError("")
	require.Eventually(t, func() bool { return stat(f.cache, "cache_pending_invalidations") == 0 },
		5*time.Second, 5*time.Millisecond, "drained without waiting for the breaker's hour")
}
