package soak_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/hooks"
	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/internal/soak"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// No goroutine of the workload, the cache, the hooks or the backends may
// outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scale is the run size: CI by default, SESSIONKIT_SOAK_SCALE locally.
func scale(t *testing.T) soak.Scale {
	t.Helper()
	s, err := soak.ParseScale(os.Getenv(soak.ScaleEnv))
	require.NoError(t, err)
	return s
}

// requireHealthy verifies the store against the ledger and fails the test
// with the summary on any broken guarantee.
func requireHealthy(t *testing.T, ctx context.Context, res *soak.Result, check session.Repository) *soak.Report {
	t.Helper()
	rep, err := soak.Verify(ctx, check, res.Ledger)
	require.NoError(t, err)
	var sb stringsBuilder
	soak.WriteSummary(&sb, res, rep)
	t.Log("\n" + sb.String())
	require.NoError(t, soak.Healthy(res, rep))
	return rep
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *stringsBuilder) String() string              { return string(s.b) }

func openSQLite(t *testing.T, dir string) *sqlite.Repository {
	t.Helper()
	r, err := sqlite.Open(testservice.WithTimeout(t, 30*time.Second), dir, sqlite.Options{})
	require.NoError(t, err)
	return r
}

// Without faults every call is acknowledged and everything is stored once.
func TestRun_Memory_NoFaults_EveryWriteAcknowledgedAndStoredOnce(t *testing.T) {
	t.Parallel()
	ctx := testservice.WithTimeout(t, 60*time.Second)
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })

	res, err := soak.Run(ctx, repo, soak.Config{Seed: 3}.WithScale(scale(t)))
	require.NoError(t, err)
	rep := requireHealthy(t, ctx, res, repo)

	s := res.Config
	assert.Equal(t, res.Stats.Ops, res.Stats.Acks, "errors: %v", res.Stats.Errors)
	assert.Zero(t, rep.Unknown)
	assert.Equal(t, int64(s.Agents*s.Ops), res.Stats.ByOp["append"]+res.Stats.ByOp["metadata"]+res.Stats.ByOp["feedback"])
	assert.Equal(t, rep.Messages, rep.Stored, "every stored message is an acknowledged one")
	assert.Positive(t, rep.Metadata)
	assert.Positive(t, rep.Feedback)
}

// SQLite behind injected latency, errors before and after the write is
// applied, and a full outage: unknown outcomes are stored at most once,
// acknowledged ones exactly once, ids stay dense.
func TestRun_SQLite_InjectedErrorsLatencyAndOutage_NothingAcknowledgedLost(t *testing.T) {
	t.Parallel()
	ctx := testservice.WithTimeout(t, 60*time.Second)
	backend := openSQLite(t, t.TempDir())
	flaky := faultinject.New(backend, faultinject.Options{
		ErrorRate: 0.05, WriteErrorAfter: 0.05, Latency: time.Millisecond, Jitter: 2 * time.Millisecond, Seed: 11,
	})
	t.Cleanup(func() { _ = flaky.Close() })

	res, err := soak.Run(ctx, flaky, soak.Config{
		Seed:   5,
		Faults: []soak.Fault{soak.Outage("backend down", flaky, 0.3, 150*time.Millisecond)},
	}.WithScale(scale(t)))
	require.NoError(t, err)
	rep := requireHealthy(t, ctx, res, backend)

	// The outage always fires, so faults were injected and some outcomes are
	// unknown; how many of those the backend applied (errors injected after
	// the write) is chance, so it is logged, not asserted: what must hold —
	// each stored at most once, every acknowledged one exactly once — is
	// what requireHealthy checks.
	assert.Positive(t, res.Stats.Errors["injected"], "faults were injected")
	assert.Positive(t, rep.Unknown)
	assert.Positive(t, rep.Messages)
	t.Logf("%d unknown outcomes, %d of them applied", rep.Unknown, rep.UnknownApplied)
}

// A backend that stops answering (a server that accepts the request and
// never replies) must not hang anyone: every call returns with a deadline
// error within its deadline plus the slack.
func TestRun_HungBackend_EveryCallReturnsWithinItsDeadline(t *testing.T) {
	t.Parallel()
	ctx := testservice.WithTimeout(t, 60*time.Second)
	backend := memory.New(memory.Options{})
	hung := &hangingRepo{Repository: backend}
	t.Cleanup(func() { _ = hung.Close() })

	cfg := soak.Config{
		Seed: 9, OpTimeout: 150 * time.Millisecond, Slack: 300 * time.Millisecond,
		Faults: []soak.Fault{{
			Name: "backend hangs", At: 0.2, Hold: 400 * time.Millisecond,
			Inject:  func(context.Context) error { hung.hang.Store(true); return nil },
			Recover: func(context.Context) error { hung.hang.Store(false); return nil },
		}},
	}.WithScale(scale(t))
	res, err := soak.Run(ctx, hung, cfg)
	require.NoError(t, err)
	requireHealthy(t, ctx, res, backend)
	assert.Positive(t, res.Stats.Errors["deadline"], "calls during the hang ended at their deadline")
	assert.Less(t, res.Stats.Max, cfg.OpTimeout+cfg.Slack)
}

// hangingRepo blocks every call until its context ends while hang is set.
type hangingRepo struct {
	session.Repository
	hang atomic.Bool
}

func (h *hangingRepo) wait(ctx context.Context) error {
	if !h.hang.Load() {
		return nil
	}
	<-ctx.Done()
	return fmt.Errorf("hanging backend: %w", ctx.Err())
}

func (h *hangingRepo) GetSession(ctx context.Context, id string) (*session.Session, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Repository.GetSession(ctx, id)
}

func (h *hangingRepo) CreateSession(ctx context.Context, s *session.Session) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Repository.CreateSession(ctx, s)
}

func (h *hangingRepo) GetAgent(ctx context.Context, sid, aid string) (*session.Agent, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Repository.GetAgent(ctx, sid, aid)
}

func (h *hangingRepo) CreateAgent(ctx context.Context, sid string, a *session.Agent) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Repository.CreateAgent(ctx, sid, a)
}

func (h *hangingRepo) ListMessages(ctx context.Context, sid, aid string, off, lim int) ([]*session.Message, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Repository.ListMessages(ctx, sid, aid, off, lim)
}

func (h *hangingRepo) CountMessages(ctx context.Context, sid, aid string) (int, error) {
	if err := h.wait(ctx); err != nil {
		return 0, err
	}
	return h.Repository.CountMessages(ctx, sid, aid)
}

func (h *hangingRepo) CreateMessage(ctx context.Context, sid, aid string, m *session.Message) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Repository.CreateMessage(ctx, sid, aid, m)
}

func (h *hangingRepo) UpdateMetadata(ctx context.Context, sid string, md map[string]any) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Repository.UpdateMetadata(ctx, sid, md)
}

func (h *hangingRepo) AddFeedback(ctx context.Context, sid string, f *session.Feedback) (*session.Feedback, error) {
	if err := h.wait(ctx); err != nil {
		return nil, err
	}
	return h.Repository.AddFeedback(ctx, sid, f)
}

// newCache wraps inner with a Redis cache on addr whose client never
// retries, so a dead Redis costs one short timeout per call.
func newCache(t *testing.T, inner session.Repository, addr string) *rediscache.Cache {
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

// shared keeps a repository open when a decorator over it closes.
type shared struct{ session.Repository }

func (shared) Close() error { return nil }

// Cache over SQLite: Redis is killed mid-run and restarted on the same port,
// and later the backend has an outage. Nothing acknowledged is lost, and
// after recovery the cache that lived through it — and a fresh cache
// instance — answer exactly as the backend does.
func TestRun_CacheOverSQLite_RedisKilledAndRestarted_NoLossNoStaleRead(t *testing.T) {
	t.Parallel()
	ctx := testservice.WithTimeout(t, 90*time.Second)
	rds := testservice.StartRedis(t)
	backend := openSQLite(t, t.TempDir())
	t.Cleanup(func() { _ = backend.Close() })
	flaky := faultinject.New(shared{backend}, faultinject.Options{WriteErrorAfter: 0.03, Seed: 21})
	cache := newCache(t, flaky, rds.Addr)
	t.Cleanup(func() { _ = cache.Close() })

	res, err := soak.Run(ctx, cache, soak.Config{
		Seed: 13,
		Faults: []soak.Fault{
			{
				Name: "redis killed", At: 0.25, Hold: 300 * time.Millisecond,
				Inject:  func(context.Context) error { rds.Stop(t); return nil },
				Recover: func(context.Context) error { rds.Restart(t); return nil },
			},
			soak.Outage("backend down", flaky, 0.6, 150*time.Millisecond),
		},
	}.WithScale(scale(t)))
	require.NoError(t, err)
	requireHealthy(t, ctx, res, backend)
	assert.Positive(t, cache.Stats()["cache_hits_total"]+cache.Stats()["cache_misses_total"], "reads went through the cache")

	// Give the breaker time to close and pending invalidations to retry.
	sessions := res.Ledger.SessionIDs()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, soak.CompareFresh(ctx, cache, backend, sessions))
	}, 10*time.Second, 100*time.Millisecond, "the cache that lived through the faults serves no stale read")
	// Twice: the second pass's first comparison is served from Redis, and
	// each pass writes a new generation that no old entry may answer.
	fresh := newCache(t, shared{backend}, rds.Addr)
	t.Cleanup(func() { _ = fresh.Close() })
	for range 2 {
		require.NoError(t, soak.CompareFresh(ctx, fresh, backend, sessions))
	}
	assert.Positive(t, fresh.Stats()["cache_hits_total"], "the second pass was served from Redis")
}

// Hooks whose endpoints are down — an SQS queue on a dead port and an API
// Gateway whose server is closed mid-run — never fail or slow a storage
// write; they count their failures and Close within its deadline.
func TestRun_HookEndpointsDown_StorageUnaffected(t *testing.T) {
	t.Parallel()
	ctx := testservice.WithTimeout(t, 60*time.Second)
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })

	httpClient := &http.Client{Transport: &http.Transport{}, Timeout: time.Second}
	t.Cleanup(httpClient.CloseIdleConnections)
	delivery := hooks.DeliveryOptions{
		Workers: 2, QueueSize: 64, MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		AttemptTimeout: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	creds := credentials.NewStaticCredentialsProvider("AKIDSOAK", "soak-secret", "")
	sqsHook, err := hooks.NewMetadataSQS(sqs.New(sqs.Options{
		Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String("http://" + deadAddr(t)), HTTPClient: httpClient,
	}), hooks.MetadataSQSOptions{QueueURL: "http://" + deadAddr(t) + "/000000000000/soak", Delivery: delivery})
	require.NoError(t, err)

	var posts atomic.Int64
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(gw.Close)
	poster, err := hooks.NewAPIGatewayClient(gw.URL, aws.Config{Region: "us-east-1", Credentials: creds, HTTPClient: httpClient})
	require.NoError(t, err)
	wsHook, err := hooks.NewMetadataWebSocket(poster, hooks.MetadataWebSocketOptions{Delivery: delivery})
	require.NoError(t, err)

	cfg := soak.Config{
		Seed: 17, Hooks: []manager.Hook{sqsHook.Hook, wsHook.Hook}, Mix: soak.Mix{Append: 2, Metadata: 6, Feedback: 2},
		Faults: []soak.Fault{{
			Name: "websocket endpoint closed", At: 0.4,
			Inject: func(context.Context) error { gw.Close(); return nil },
		}},
	}.WithScale(scale(t))
	// Every session has a WebSocket connection, so metadata writes push.
	cfg.RunID = "hooks" + fmt.Sprint(time.Now().UnixNano()%1e6)
	for i := range cfg.Sessions {
		require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: soak.SessionID(cfg.RunID, i),
			Metadata: map[string]any{hooks.DefaultConnectionIDKey: fmt.Sprintf("conn-%d", i)}}))
	}
	res, err := soak.Run(ctx, repo, cfg)
	require.NoError(t, err)
	requireHealthy(t, ctx, res, repo)
	assert.Equal(t, res.Stats.Ops, res.Stats.Acks, "a dead hook endpoint never fails a storage write: %v", res.Stats.Errors)

	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	_ = sqsHook.Close(cctx)
	_ = wsHook.Close(cctx)
	assert.Less(t, time.Since(start), 3*time.Second+500*time.Millisecond, "hooks close within their deadline")
	sq, ws := sqsHook.Stats(), wsHook.Stats()
	t.Logf("sqs hook %+v, websocket hook %+v, websocket posts before the close %d", sq, ws, posts.Load())
	assert.Zero(t, sq.Sent, "nothing reaches a dead port")
	assert.Positive(t, sq.Failed+sq.Dropped, "SQS failures are counted")
	assert.Positive(t, ws.Sent, "pushes succeeded before the endpoint closed")
	assert.Positive(t, ws.Failed+ws.Dropped, "pushes after the close are counted as failed")
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
