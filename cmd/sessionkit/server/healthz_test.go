package server_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

// /healthz tells the backend (required) from the cache (optional, fails
// open): Redis down is 200 "degraded" with the reason, the backend down is
// 503 with the API's error object. /metrics describes the cache's breaker
// and pending invalidations.
func TestHealthz_CacheDegradedIsHealthyBackendDownIsNot(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = client.Close() })
	var cache *rediscache.Cache
	f := newFixture(t, func(o *server.Options) {
		c, err := rediscache.New(o.Repository, client, rediscache.Options{})
		require.NoError(t, err)
		cache = c
		o.Repository = c
	})
	health := func() (int, map[string]any) {
		status, body, _ := f.do(t, request{method: "GET", path: "/healthz", noAuth: true})
		return status, body
	}

	status, body := health()
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"status": "ok", "backend": "ok", "cache": "ok"}, body)

	resp, err := http.Get(f.url + "/metrics")
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	for _, want := range []string{
		"# HELP sessionkit_cache_breaker_state Circuit breaker over Redis reads: 0 closed, 1 half-open, 2 open.\n# TYPE sessionkit_cache_breaker_state gauge\nsessionkit_cache_breaker_state 0\n",
		"# HELP sessionkit_cache_pending_invalidations ",
		"# TYPE sessionkit_cache_pending_invalidations gauge\nsessionkit_cache_pending_invalidations 0\n",
	} {
		assert.Contains(t, string(raw), want)
	}

	mr.Close()
	status, body = health()
	assert.Equal(t, 200, status, "the cache fails open: the instance still serves")
	assert.Equal(t, "degraded", body["status"])
	assert.Equal(t, "ok", body["backend"])
	assert.Equal(t, "degraded", body["cache"])
	assert.Contains(t, body["reason"], "redis did not answer")
	assert.NotContains(t, body, "error")
	status, _, _ = f.do(t, request{method: "GET", path: "/api/sessions/demo-t-support"})
	assert.Equal(t, 200, status, "requests are served from the backend")

	require.NoError(t, cache.Close())
	status, body = health()
	assert.Equal(t, 503, status)
	assert.Equal(t, "unavailable", body["status"])
	assert.Equal(t, "unavailable", body["backend"])
	assert.Equal(t, map[string]any{"code": "backend_unavailable", "message": "backend did not answer"}, body["error"])
}
