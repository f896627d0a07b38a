package rediscache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// staleFault is one fault injected into the Redis that a writer process and
// a reader process share, between on and off.
type staleFault struct {
	name string
	// canComplete: the writer's Redis calls can complete while the fault
	// lasts (Redis answers, maybe slowly, maybe with errors for some
	// commands), so no read may be stale. Otherwise reads may be stale for
	// at most the stated bound.
	canComplete bool
	// hold is how long the fault lasts (default: a quarter of the run).
	hold    time.Duration
	on, off func(t *testing.T, e *staleEnv)
	// during, when set, runs repeatedly between on and off.
	during func(t *testing.T, e *staleEnv)
}

// staleEnv is one real redis-server, the proxy in front of the writer's
// connection to it and an admin client.
type staleEnv struct {
	srv   *testservice.Process
	proxy *testservice.Proxy
	admin *redis.Client
	rng   *rand.Rand
}

func (e *staleEnv) do(t *testing.T, args ...any) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.admin.Do(ctx, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
		t.Logf("admin %v: %v", args, err)
	}
}

var staleFaults = []staleFault{
	{name: "oom-noeviction", canComplete: true,
		on: func(t *testing.T, e *staleEnv) {
			e.do(t, "CONFIG", "SET", "maxmemory-policy", "noeviction")
			e.do(t, "CONFIG", "SET", "maxmemory", "1")
		},
		off: func(t *testing.T, e *staleEnv) { e.do(t, "CONFIG", "SET", "maxmemory", "0") }},
	{name: "maxmemory-changes", canComplete: true,
		on: func(t *testing.T, e *staleEnv) { e.do(t, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru") },
		during: func(t *testing.T, e *staleEnv) {
			e.do(t, "CONFIG", "SET", "maxmemory", fmt.Sprint([]int{1, 0, 1 << 20}[e.rng.IntN(3)]))
			e.do(t, "CONFIG", "SET", "maxmemory-policy", []string{"noeviction", "allkeys-lru", "volatile-ttl"}[e.rng.IntN(3)])
		},
		off: func(t *testing.T, e *staleEnv) { e.do(t, "CONFIG", "SET", "maxmemory", "0") }},
	{name: "client-kill", canComplete: true,
		during: func(t *testing.T, e *staleEnv) { e.do(t, "CLIENT", "KILL", "TYPE", "normal") }},
	{name: "flushall", canComplete: true,
		during: func(t *testing.T, e *staleEnv) { e.do(t, "FLUSHALL") }},
	{name: "proxy-delay", canComplete: true,
		// Each direction 60 ms: a round trip over the 100 ms RedisTimeout, so
		// every read times out and the breaker opens (observed item 2); a new
		// connection's handshake and a DEL fit in InvalidateTimeout.
		on:  func(t *testing.T, e *staleEnv) { e.proxy.SetDelay(60 * time.Millisecond) },
		off: func(t *testing.T, e *staleEnv) { e.proxy.SetDelay(0) }},
	{name: "debug-sleep",
		on: func(t *testing.T, e *staleEnv) { e.do(t, "DEBUG", "SLEEP", "0.8") }},
	{name: "kill9-restart", hold: time.Second,
		on:  func(t *testing.T, e *staleEnv) { e.srv.Stop(t) },
		off: func(t *testing.T, e *staleEnv) { e.srv.Restart(t) }},
	// Longer than the invalidation budget and the TTL: the writer's DELs cannot
	// land, and the reader's stale window is cut by the TTL alone.
	{name: "proxy-drop", hold: 2 * staleTTL,
		on:  func(t *testing.T, e *staleEnv) { e.proxy.SetDrop(true) },
		off: func(t *testing.T, e *staleEnv) { e.proxy.SetDrop(false) }},
}

// staleTTL is the entry TTL of the staleness test, short so that the bound
// (which is the TTL) is measured in a short run.
const staleTTL = 1500 * time.Millisecond

// TestStaleness_TwoProcesses runs one writer and one reader, each a Cache
// with its own go-redis client (own connection pool) and own breaker and
// pending set, over one backend and one real redis-server, under each fault
// (one subtest, with its own redis-server, per fault), with randomized
// operation timing and fault timing.
//
// Why two Caches in one test process stand for two OS processes: the
// Caches share no state at all — not a client, a connection, a breaker,
// a singleflight group, a pending set or a counter. What they share is
// exactly what two processes share: the backend (here one memory store
// where processes would share one SQLite file or MongoDB; the cache's
// correctness never depends on which) and the redis-server, reached over
// separate TCP connections (the writer's through a proxy, so its path alone
// can be delayed or cut). Nothing a Cache does can reach the other but
// through Redis, as between processes.
//
// A read is stale when it started after a write returned and shows a value
// older than that write. Whenever the writer's DEL can complete within its
// invalidation budget there must be none; otherwise a stale read may come at most the bound
// after the write that made it stale returned: the entry TTL times
// (1 + Jitter), plus one reader's Redis timeout for a fill in flight.
// SESSIONKIT_STALE_DURATION (a Go duration) lengthens each run.
func TestStaleness_TwoProcesses(t *testing.T) {
	t.Parallel()
	// Long enough for a recovery over twice the breaker cooldown: a skipped
	// invalidation shows only once the reader's own breaker has closed again
	// while the writer's is still open.
	dur := 2 * time.Second
	if v := os.Getenv("SESSIONKIT_STALE_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err)
		dur = d
	}
	for _, f := range staleFaults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			runStaleness(t, f, dur)
		})
	}
}

type staleCounts struct {
	reads, stale atomic.Int64
	maxAge       atomic.Int64 // nanoseconds
}

func (s *staleCounts) observe(age time.Duration) {
	s.stale.Add(1)
	for {
		cur := s.maxAge.Load()
		if int64(age) <= cur || s.maxAge.CompareAndSwap(cur, int64(age)) {
			return
		}
	}
}

func runStaleness(t *testing.T, f staleFault, dur time.Duration) {
	seed := uint64(time.Now().UnixNano())
	srv := testservice.StartRedis(t)
	env := &staleEnv{srv: srv, proxy: testservice.StartProxy(t, srv.Addr), rng: rand.New(rand.NewPCG(seed, 1))}
	env.admin = redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = env.admin.Close() })

	backend := memory.New(memory.Options{})
	t.Cleanup(func() { _ = backend.Close() })
	// Both processes run the default RedisTimeout, breaker threshold and
	// retry period, with a short TTL so that the bound shows in a short run,
	// and a breaker cooldown a quarter of the default so that recovery
	// (where a skipped invalidation shows) fits in it too. The invalidation
	// budget is 1 s rather than 500 ms: under proxy-delay a DEL on a new
	// connection takes three 120 ms round trips (HELLO, CLIENT SETINFO,
	// DEL), which must fit with room to spare on a loaded -race CI machine
	// for "the writer's calls can complete" to hold.
	newProc := func(addr string) *Cache {
		client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
		c, err := New(sharedRepo{backend}, client, Options{TTL: staleTTL, CloseClient: true,
			BreakerCooldown: DefaultBreakerCooldown / 4, InvalidateTimeout: time.Second,
			Logger: slog.New(&countingHandler{})})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	writer, reader := newProc(env.proxy.Addr), newProc(srv.Addr)
	bound := time.Duration(float64(staleTTL)*(1+writer.opts.Jitter)) + reader.opts.RedisTimeout

	ctx, cancel := context.WithTimeout(context.Background(), dur+30*time.Second)
	defer cancel()
	require.NoError(t, writer.CreateSession(ctx, &session.Session{ID: "s1", ApplicationName: "app",
		Metadata: map[string]any{"ctr": int64(0)}}))

	// committed is the last value whose write returned; doneAt[n] is when
	// the write of n returned.
	var committed atomic.Int64
	var doneMu sync.Mutex
	doneAt := map[int64]time.Time{0: time.Now()}
	var writerReads, readerReads staleCounts
	var readErrs, writeErrs atomic.Int64

	// A stale read's age is from the return of the first write it missed to
	// the read's start: the guarantee is about reads that start after a
	// write returned (a read that starts in time may take long to return).
	check := func(c *Cache, counts *staleCounts) {
		before := committed.Load()
		start := time.Now()
		md, err := c.GetMetadata(ctx, "s1")
		if err != nil {
			readErrs.Add(1)
			return
		}
		counts.reads.Add(1)
		if v, _ := md["ctr"].(int64); v < before {
			doneMu.Lock()
			age := start.Sub(doneAt[v+1])
			doneMu.Unlock()
			counts.observe(age)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // writer: writes, and reads that fill (and fail to fill)
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, 2))
		for n := int64(1); ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := writer.UpdateMetadata(ctx, "s1", map[string]any{"ctr": n}); err != nil {
				writeErrs.Add(1)
				n--
				continue
			}
			doneMu.Lock()
			doneAt[n] = time.Now()
			doneMu.Unlock()
			committed.Store(n)
			for range rng.IntN(8) {
				check(writer, &writerReads)
			}
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		}
	}()
	go func() { // reader
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, 3))
		for {
			select {
			case <-stop:
				return
			default:
			}
			check(reader, &readerReads)
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
		}
	}()

	// The fault starts in the first fifth of the run and lasts its hold;
	// half the run follows as recovery, where a skipped invalidation would
	// show.
	time.Sleep(dur/10 + time.Duration(env.rng.Int64N(int64(dur/10))))
	if f.on != nil {
		f.on(t, env)
	}
	hold := f.hold
	if hold == 0 {
		hold = dur / 4
	}
	faultEnd := time.Now().Add(hold)
	for time.Now().Before(faultEnd) {
		if f.during != nil {
			f.during(t, env)
		}
		time.Sleep(time.Duration(20+env.rng.IntN(100)) * time.Millisecond)
	}
	if f.off != nil {
		f.off(t, env)
	}
	time.Sleep(time.Until(faultEnd.Add(dur / 2)))
	close(stop)
	wg.Wait()

	stale := readerReads.stale.Load() + writerReads.stale.Load()
	maxAge := time.Duration(max(readerReads.maxAge.Load(), writerReads.maxAge.Load()))
	t.Logf("STALENESS fault=%s seed=%d writes=%d reader_reads=%d reader_stale=%d writer_reads=%d writer_stale=%d "+
		"max_stale_age=%s bound=%s read_errors=%d write_errors=%d writer_stats{breaker_opens=%v invalidation_failures=%v pending=%v}",
		f.name, seed, committed.Load(), readerReads.reads.Load(), readerReads.stale.Load(),
		writerReads.reads.Load(), writerReads.stale.Load(), maxAge.Round(time.Millisecond), bound,
		readErrs.Load(), writeErrs.Load(), writer.Stats()["cache_breaker_opens_total"],
		writer.Stats()["cache_invalidation_failures_total"], writer.Stats()["cache_pending_invalidations"])
	assert.Zero(t, writerReads.stale.Load(), "the writer never reads its own writes stale")
	assert.Positive(t, readerReads.reads.Load(), "the reader read")
	if f.canComplete {
		assert.Zero(t, stale, "the writer's Redis calls could complete: no stale read")
	} else {
		assert.LessOrEqual(t, maxAge, bound, "stale reads end within the bound")
	}
}
