package rediscache

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// clusterClient builds a Cluster client the way Wrap does from a cache URL
// that lists the nodes with "addr" (redis.ParseClusterURL, context
// timeouts on).
func clusterClient(t *testing.T, cl *testservice.RedisCluster) *redis.ClusterClient {
	t.Helper()
	addrs := cl.Addrs()
	q := url.Values{}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	co, err := redis.ParseClusterURL("redis://" + addrs[0] + "?" + q.Encode())
	require.NoError(t, err)
	co.ContextTimeoutEnabled = true
	client := redis.NewClusterClient(co)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// TestRedisCluster runs against one real Redis Cluster (three masters, one
// replica each, on loopback), started once for both parts because startup
// costs seconds: first the conformance suite through the cache, then a
// failover (which kills a master, so it comes last).
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	cl := testservice.StartRedisCluster(t)

	t.Run("conformance", func(t *testing.T) {
		conformance.Run(t, cacheHarness(clusterClient(t, cl)))
	})
	t.Run("failover", func(t *testing.T) { clusterFailover(t, cl) })
}

// clusterFailover: a writer and a reader process (two Caches with their own
// Cluster clients, as in TestStaleness_TwoProcesses) work on sessions spread
// over every master while one master is killed with SIGKILL and its replica
// takes over. Every call succeeds (the cache fails open while the slots are
// down), nothing acknowledged is missing from the backend, no read is
// stale beyond the bound, and afterwards both caches serve from Redis again.
func clusterFailover(t *testing.T, cl *testservice.RedisCluster) {
	backend := memory.New(memory.Options{})
	t.Cleanup(func() { _ = backend.Close() })
	newProc := func() *Cache {
		c, err := New(sharedRepo{backend}, clusterClient(t, cl), Options{Prefix: "failover:", TTL: staleTTL,
			BreakerCooldown: DefaultBreakerCooldown / 4, Logger: slog.New(&countingHandler{})})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	writer, reader := newProc(), newProc()
	bound := time.Duration(float64(staleTTL)*(1+writer.opts.Jitter)) + reader.opts.RedisTimeout
	ctx := testservice.WithTimeout(t, 2*time.Minute)

	const sessions = 24
	ids := make([]string, sessions)
	for i := range ids {
		ids[i] = fmt.Sprintf("fo-%02d", i)
		require.NoError(t, writer.CreateSession(ctx, &session.Session{ID: ids[i], ApplicationName: "app",
			Metadata: map[string]any{"ctr": int64(0)}}))
	}
	// The victim is the master of the first session's slot.
	master, err := writer.client.(*redis.ClusterClient).MasterForKey(ctx, keysFor(writer.opts.Prefix, ids[0]).gen)
	require.NoError(t, err)
	victim := cl.Node(master.Options().Addr)
	require.NotNil(t, victim, "master %s", master.Options().Addr)

	var committed [sessions]atomic.Int64
	var doneMu sync.Mutex
	doneAt := map[string]time.Time{}
	var counts staleCounts
	var readErrs, writeErrs atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	seed := uint64(time.Now().UnixNano())
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(seed, 1))
		for {
			select {
			case <-stop:
				return
			default:
			}
			i := rng.IntN(sessions)
			n := committed[i].Load() + 1
			if err := writer.UpdateMetadata(ctx, ids[i], map[string]any{"ctr": n}); err != nil {
				writeErrs.Add(1)
				continue
			}
			doneMu.Lock()
			doneAt[fmt.Sprint(i, "/", n)] = time.Now()
			doneMu.Unlock()
			committed[i].Store(n)
			time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
		}
	})
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(seed, 2))
		for {
			select {
			case <-stop:
				return
			default:
			}
			i := rng.IntN(sessions)
			before := committed[i].Load()
			start := time.Now()
			md, err := reader.GetMetadata(ctx, ids[i])
			if err != nil {
				readErrs.Add(1)
				continue
			}
			counts.reads.Add(1)
			if v, _ := md["ctr"].(int64); v < before {
				doneMu.Lock()
				age := start.Sub(doneAt[fmt.Sprint(i, "/", v+1)])
				doneMu.Unlock()
				counts.observe(age)
			}
		}
	})

	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	victim.Stop(t)
	require.NoError(t, cl.WaitFailover(victim, 30*time.Second), "a replica took over the killed master's slots")
	promoted := time.Since(killed)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	t.Logf("CLUSTER FAILOVER killed=%s promoted_after=%s writes=%d reads=%d stale=%d max_stale_age=%s bound=%s "+
		"read_errors=%d write_errors=%d writer{pending=%v invalidation_failures=%v breaker_opens=%v} reader{bypasses=%v errors=%v}",
		victim.Addr, promoted.Round(time.Millisecond), sumCommitted(committed[:]), counts.reads.Load(), counts.stale.Load(),
		time.Duration(counts.maxAge.Load()).Round(time.Millisecond), bound, readErrs.Load(), writeErrs.Load(),
		writer.Stats()["cache_pending_invalidations"], writer.Stats()["cache_invalidation_failures_total"],
		writer.Stats()["cache_breaker_opens_total"], reader.Stats()["cache_bypasses_total"], reader.Stats()["cache_errors_total"])
	assert.Zero(t, readErrs.Load(), "reads fail open")
	assert.Zero(t, writeErrs.Load(), "writes never depend on Redis")
	assert.LessOrEqual(t, time.Duration(counts.maxAge.Load()), bound, "stale reads end within the bound")
	for i, id := range ids {
		md, err := backend.GetMetadata(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, committed[i].Load(), md["ctr"], "nothing acknowledged is lost: %s", id)
	}
	// After the failover both caches serve from the promoted replica again,
	// and serve what the backend holds.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		hits := reader.Stats()["cache_hits_total"]
		for i, id := range ids {
			for _, p := range []*Cache{writer, reader} {
				md, err := p.GetMetadata(ctx, id)
				if assert.NoError(c, err) {
					assert.Equal(c, committed[i].Load(), md["ctr"], id)
				}
			}
		}
		assert.Greater(c, reader.Stats()["cache_hits_total"], hits, "served from Redis")
		assert.Zero(c, writer.Stats()["cache_pending_invalidations"])
	}, 20*time.Second, 100*time.Millisecond, "writer %v\nreader %v", writer.Stats(), reader.Stats())
}

func sumCommitted(cs []atomic.Int64) int64 {
	var n int64
	for i := range cs {
		n += cs[i].Load()
	}
	return n
}
