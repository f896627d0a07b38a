package mongotest_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/internal/soak"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// restartableFerret is an embedded FerretDB on a fixed loopback port and a
// fixed SQLite directory, so that it can be stopped and a new instance
// started in its place: the data survives, as with a restarted mongod.
type restartableFerret struct {
	port int
	dir  string

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func startRestartableFerret(t *testing.T) *restartableFerret {
	t.Helper()
	f := &restartableFerret{port: testservice.FreePort(t), dir: t.TempDir()}
	t.Cleanup(f.stop)
	f.start(t)
	return f
}

func (f *restartableFerret) uri() string { return "mongodb://127.0.0.1:" + strconv.Itoa(f.port) + "/" }

// start runs a new FerretDB instance on the port and directory.
func (f *restartableFerret) start(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Nil(t, f.cancel, "FerretDB is already running")
	srv, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:" + strconv.Itoa(f.port)},
		Handler:   "sqlite",
		SQLiteURL: "file:" + f.dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Run(ctx)
	}()
	f.cancel, f.done = cancel, done
	require.NoError(t, testservice.WaitTCP("127.0.0.1:"+strconv.Itoa(f.port), 10*time.Second))
}

// stop shuts the running instance down and waits for it; a no-op when it is
// not running.
func (f *restartableFerret) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel == nil {
		return
	}
	f.cancel()
	<-f.done
	f.cancel, f.done = nil, nil
}

// unclosedRepo keeps a repository open when a decorator over it closes.
type unclosedRepo struct{ session.Repository }

func (unclosedRepo) Close() error { return nil }

// soakCache wraps inner with a Redis cache whose client never retries, so a
// dead Redis costs one short timeout per call.
func soakCache(t *testing.T, inner session.Repository, addr string) *rediscache.Cache {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: 100 * time.Millisecond, PoolSize: 16})
	c, err := rediscache.New(inner, client, rediscache.Options{
		RedisTimeout: 50 * time.Millisecond, BreakerCooldown: 100 * time.Millisecond, CloseClient: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	return c
}

// The soak over cache-over-Mongo: simulated agents write through the
// session manager while the MongoDB-wire server is stopped and restarted
// on the same port and data directory, Redis is killed and restarted, and
// some writes fail after being applied. Expected: every call returns within
// its deadline, failures are errors (never a panic or a hang), nothing
// acknowledged is lost or duplicated, ids stay dense, the cache serves no
// stale read after recovery, and no goroutine outlives the test.
//
// Not parallel: goleak compares against the goroutines alive when it
// starts.
func TestSoak_CacheOverFerretDB_ServerAndRedisRestarted(t *testing.T) {
	if os.Getenv("MONGODB_URI") != "" {
		t.Log("MONGODB_URI is set, but this test needs a server it can stop: using embedded FerretDB")
	}
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) }) // runs last
	scale, err := soak.ParseScale(os.Getenv(soak.ScaleEnv))
	require.NoError(t, err)
	// FerretDB serializes each session's writes: give larger runs time.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second+time.Duration(scale.Agents*scale.Ops)*100*time.Millisecond)
	t.Cleanup(cancel)

	ferret := startRestartableFerret(t)
	rds := testservice.StartRedis(t)
	backend, err := mongo.Open(ctx, ferret.uri(), mongo.Options{Database: uniqueDB(t)}, mongo.PoolOptions{
		MinPoolSize: 1, ServerSelectionTimeout: 500 * time.Millisecond, ConnectTimeout: 500 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = backend.Close() })
	flaky := faultinject.New(unclosedRepo{backend}, faultinject.Options{WriteErrorAfter: 0.03, Seed: 31})
	cache := soakCache(t, flaky, rds.Addr)
	t.Cleanup(func() { _ = cache.Close() })

	cfg := soak.Config{
		Seed: 29, OpTimeout: 2 * time.Second, Slack: time.Second,
		Faults: []soak.Fault{
			{
				Name: "mongo-wire server stopped, restarted on the same port and data", At: 0.2, Hold: time.Second,
				Inject:  func(context.Context) error { ferret.stop(); return nil },
				Recover: func(context.Context) error { ferret.start(t); return nil },
			},
			{
				Name: "redis killed and restarted", At: 0.55, Hold: 500 * time.Millisecond,
				Inject:  func(context.Context) error { rds.Stop(t); return nil },
				Recover: func(context.Context) error { rds.Restart(t); return nil },
			},
		},
	}.WithScale(scale)
	res, err := soak.Run(ctx, cache, cfg)
	require.NoError(t, err)
	rep, err := soak.Verify(ctx, backend, res.Ledger)
	require.NoError(t, err)
	var sb strings.Builder
	soak.WriteSummary(&sb, res, rep)
	t.Log("\n" + sb.String())
	require.NoError(t, soak.Healthy(res, rep))

	// The faults happened: each fired, lasted at least its hold and
	// recovered. Whether a call happened to land in the window and fail is
	// up to the scheduler (on a loaded machine none may), so it is reported,
	// never asserted: what is asserted is what a fault must not break.
	for i, f := range res.Faults {
		assert.True(t, f.Fired, "fault %q fired", f.Name)
		assert.GreaterOrEqual(t, f.Held, cfg.Faults[i].Hold, "fault %q lasted its hold", f.Name)
		assert.NoError(t, f.InjectErr, "fault %q inject", f.Name)
		assert.NoError(t, f.RecoverErr, "fault %q recover", f.Name)
	}
	t.Logf("calls failed during the faults: %d (%v)", res.Stats.Ops-res.Stats.Acks-res.Stats.Errors["injected"], res.Stats.Errors)
	assert.Positive(t, rep.Messages, "messages were acknowledged")
	assert.Less(t, res.Stats.Max, cfg.OpTimeout+cfg.Slack, "no call outlived its deadline")

	sessions := res.Ledger.SessionIDs()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, soak.CompareFresh(ctx, cache, backend, sessions))
	}, 15*time.Second, 200*time.Millisecond, "after recovery the cache serves no stale read")
	fresh := soakCache(t, unclosedRepo{backend}, rds.Addr)
	t.Cleanup(func() { _ = fresh.Close() })
	for pass := range 2 {
		require.NoError(t, soak.CompareFresh(ctx, fresh, backend, sessions), "fresh cache, pass %d", pass)
	}
	assert.Positive(t, fresh.Stats()["cache_hits_total"], "the second pass was served from Redis")
}
