package rediscache

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// cacheHarness runs the suite on cache-over-memory. Every repository gets
// its own key prefix on the one Redis; a peer is a second decorator over the
// same backend and the same Redis, as a second process would be.
func cacheHarness(client redis.UniversalClient) conformance.Harness {
	var n atomic.Int64
	opts := func(prefix string) Options {
		return Options{Prefix: prefix, RedisTimeout: 2 * time.Second}
	}
	return conformance.Harness{
		NewRepository: func(t *testing.T) session.Repository {
			prefix := fmt.Sprintf("conf%d:", n.Add(1))
			c, err := New(memory.New(memory.Options{}), client, opts(prefix))
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			return c
		},
		// The cache and the backend share the case's clock: the cache checks
		// expiries with Options.Now.
		NewRepositoryAt: func(t *testing.T, now func() time.Time) session.Repository {
			prefix := fmt.Sprintf("conf%d:", n.Add(1))
			o := opts(prefix)
			o.Now = now
			c, err := New(memory.New(memory.Options{Now: now}), client, o)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			return c
		},
		NewPeer: func(t *testing.T, r session.Repository) session.Repository {
			c := r.(*Cache)
			p, err := New(sharedRepo{c.Inner()}, client, opts(c.opts.Prefix))
			require.NoError(t, err)
			t.Cleanup(func() { _ = p.Close() })
			return p
		},
	}
}

func TestConformance_Miniredis(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true, PoolSize: 64})
	t.Cleanup(func() { _ = client.Close() })
	conformance.Run(t, cacheHarness(client))
}

func TestConformance_RealRedis(t *testing.T) {
	t.Parallel()
	srv := testservice.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, PoolSize: 64})
	t.Cleanup(func() { _ = client.Close() })
	conformance.Run(t, cacheHarness(client))
}
