package rediscache

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNeverStale_RandomizedReadersAndWritersOnTwoInstances checks the
// staleness guarantee: every read that starts after a write completed
// observes that write or a later one. Writers on two decorator instances
// (two processes sharing one backend and one Redis) set a counter that only
// grows; a reader notes the highest value whose write had completed before
// it started and checks it never reads less.
func TestNeverStale_RandomizedReadersAndWritersOnTwoInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	peer, err := New(sharedRepo{f.backend}, f.client, Options{RedisTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = peer.Close() })
	caches := []*Cache{f.cache, peer}
	ctx := ctxT(t)
	ids := []string{"s{1}", "s}2{", "s3"}
	for _, id := range ids {
		mustCreateSession(t, f.cache, id, map[string]any{"n": int64(0)})
	}

	var (
		next      [3]atomic.Int64 // next value per session
		completed [3]atomic.Int64 // highest value whose write returned
		mu        [3]sync.Mutex   // one writer per session at a time keeps values monotonic
		wg        sync.WaitGroup
	)
	const writers, readers, ops = 2, 4, 60
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				pause(rng)
				i := rng.IntN(len(ids))
				mu[i].Lock()
				v := next[i].Add(1)
				err := caches[rng.IntN(2)].UpdateMetadata(ctx, ids[i], map[string]any{"n": v})
				if err == nil {
					completed[i].Store(v)
				}
				mu[i].Unlock()
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			for range ops * 2 {
				pause(rng)
				i := rng.IntN(len(ids))
				floor := completed[i].Load()
				c := caches[rng.IntN(2)]
				var got int64
				if rng.IntN(2) == 0 {
					md, err := c.GetMetadata(ctx, ids[i])
					if err != nil {
						t.Error(err)
						return
					}
					got = md["n"].(int64)
				} else {
					s, err := c.GetSession(ctx, ids[i])
					if err != nil {
						t.Error(err)
						return
					}
					got = s.Metadata["n"].(int64)
				}
				if got < floor {
					t.Errorf("session %q: read %d after write %d had completed", ids[i], got, floor)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Positive(t, stat(f.cache, "cache_hits_total")+stat(peer, "cache_hits_total"), "the cache was exercised")
}

// pause spreads operations out so that reads and writes interleave instead
// of one kind finishing before the other starts.
func pause(rng *rand.Rand) {
	time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
}
