package rediscache

import (
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

// expiringFixture is a cache over memory, both on one settable clock.
func expiringFixture(t *testing.T) (*miniredis.Miniredis, *memory.Repository, *Cache, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Millisecond)}
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	inner := memory.New(memory.Options{Now: clock.Now})
	c, err := New(inner, client, Options{Now: clock.Now, RedisTimeout: 2 * time.Second, TTL: time.Hour, Jitter: -1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return mr, inner, c, clock
}

// An expiry set by a writer that bypassed the cache is learnt from the
// session record's fill: the session's other entries, filled before, are
// not served past it.
func TestExpiry_LearntFromTheSessionReadGuardsEveryEntry(t *testing.T) {
	t.Parallel()
	_, inner, c, clock := expiringFixture(t)
	ctx := ctxT(t)
	require.NoError(t, inner.CreateSession(ctx, &session.Session{ID: "s", ExpiresAt: clock.Now().Add(time.Minute)}))
	require.NoError(t, inner.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
	for range 2 { // fill, then hit
		_, err := c.GetAgent(ctx, "s", "a")
		require.NoError(t, err)
		_, err = c.GetSession(ctx, "s")
		require.NoError(t, err)
	}
	hits := stat(c, "cache_hits_total")
	require.Positive(t, hits)

	clock.Add(time.Minute)
	_, err := c.GetAgent(ctx, "s", "a")
	assert.ErrorIs(t, err, session.ErrNotFound, "the cached agent is not served past the expiry")
	_, err = c.GetSession(ctx, "s")
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.Equal(t, hits, stat(c, "cache_hits_total"), "no hit after the expiry")
}

// Entries of a session with an expiry live in Redis no longer than until
// it, whatever the configured TTL.
func TestExpiry_EntryTTLIsCappedAtTheExpiry(t *testing.T) {
	t.Parallel()
	mr, _, c, clock := expiringFixture(t)
	ctx := ctxT(t)
	require.NoError(t, c.CreateSession(ctx, &session.Session{ID: "s", ExpiresAt: clock.Now().Add(90 * time.Second)}))
	require.NoError(t, c.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
	_, err := c.GetAgent(ctx, "s", "a")
	require.NoError(t, err)
	_, err = c.GetSession(ctx, "s")
	require.NoError(t, err)
	keys := keysFor(c.opts.Prefix, "s")
	for _, field := range []string{fieldAgent("a"), fieldSession()} {
		ttl := mr.TTL(keys.entry(field))
		assert.Positive(t, ttl, field)
		assert.LessOrEqual(t, ttl, 90*time.Second, "%s: capped at the expiry, not the hour's TTL", field)
	}
	assert.Greater(t, mr.TTL(keys.expiry()), 90*time.Second, "the expiry key outlives the entries it guards")

	// Clearing the expiry through the cache forgets it.
	require.NoError(t, c.SetSessionExpiry(ctx, "s", time.Time{}))
	assert.False(t, mr.Exists(keys.expiry()))
	clock.Add(time.Hour)
	_, err = c.GetAgent(ctx, "s", "a")
	assert.NoError(t, err, "a cleared expiry never expires")
}

func TestExpiry_UnsupportedWithoutAnExpiringBackend(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c, err := New(struct{ session.Repository }{f.backend.Repository}, f.client, Options{Prefix: "plain:"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := ctxT(t)
	assert.ErrorIs(t, c.SetSessionExpiry(ctx, "s", time.Now().Add(time.Hour)), errors.ErrUnsupported)
	_, err = c.SweepExpired(ctx, 1)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}
