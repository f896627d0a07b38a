package rediscache

import (
	"net/url"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

func TestOpen_CacheURLWrapsTheBackend(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	mr.RequireAuth("s3cret")
	cacheURL := "redis://:s3cret@" + mr.Addr() + "/0?prefix=app:&ttl=1m&ttl.messages=10s&timeout=1s&invalidate_timeout=2s&invalidate_retry=50ms"
	repo, err := session.Open(ctxT(t), "memory://?cache="+url.QueryEscape(cacheURL))
	require.NoError(t, err)
	t.Cleanup(func() { _ = repo.Close() })
	c, ok := repo.(*Cache)
	require.True(t, ok)
	assert.Equal(t, "app:", c.opts.Prefix)
	assert.Equal(t, time.Minute, c.opts.KindTTL[KindSession])
	assert.Equal(t, 10*time.Second, c.opts.KindTTL[KindMessages])
	assert.Equal(t, 2*time.Second, c.opts.InvalidateTimeout)
	assert.Equal(t, 50*time.Millisecond, c.opts.InvalidateRetry)

	mustCreateSession(t, repo, "s1", nil)
	_, err = repo.GetSession(ctxT(t), "s1")
	require.NoError(t, err)
	assert.NotEmpty(t, mr.Keys())
	for _, k := range mr.Keys() {
		assert.Regexp(t, `^app:\{s1\}:`, k)
	}
	require.NoError(t, c.Ping(ctxT(t)))
}

func TestOpen_BadCacheOptionsAreInvalidArgumentsWithoutPassword(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"ttl=soon", "prefix=a{b", "jitter=3", "ttl.nope=1s", "breaker_failures=-1", "invalidate_timeout=0s", "invalidate_retry=x", "bogus_option=1"} {
		cacheURL := "redis://:s3cret@127.0.0.1:1/0?" + q
		_, err := session.Open(ctxT(t), "memory://?cache="+url.QueryEscape(cacheURL))
		require.ErrorIs(t, err, session.ErrInvalidArgument, q)
		assert.NotContains(t, err.Error(), "s3cret", q)
	}
}

func TestKeys_HashTagIsAlwaysWellFormed(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"plain", "a{b}c", "}{", "{", "}", "%7B", "user@example.com"} {
		k := keysFor("p:", id)
		open, close := indexOf(k.gen, '{'), indexOf(k.gen, '}')
		require.Equal(t, len("p:"), open, id)
		tag := k.gen[open+1 : close]
		assert.NotEmpty(t, tag, id)
		assert.NotContains(t, tag, "{", id)
		assert.Equal(t, "}:g", k.gen[close:], "the tag ends where the id ends: %q", id)
	}
	assert.NotEqual(t, keysFor("p:", "{").gen, keysFor("p:", "%7B").gen, "escaping is one-to-one")
}

func indexOf(s string, b byte) int {
	for i := range len(s) {
		if s[i] == b {
			return i
		}
	}
	return -1
}
