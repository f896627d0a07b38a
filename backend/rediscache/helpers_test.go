package rediscache

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

// countingRepo wraps a repository and counts backend reads; gate, when
// set, is called before each GetSession/GetMetadata read so tests can hold a
// read in flight.
type countingRepo struct {
	session.Repository
	reads atomic.Int64
	gate  func()
}

func (r *countingRepo) GetSession(ctx context.Context, id string) (*session.Session, error) {
	r.reads.Add(1)
	if r.gate != nil {
		r.gate()
	}
	return r.Repository.GetSession(ctx, id)
}

func (r *countingRepo) GetMetadata(ctx context.Context, id string) (map[string]any, error) {
	r.reads.Add(1)
	if r.gate != nil {
		r.gate()
	}
	return r.Repository.GetMetadata(ctx, id)
}

func (r *countingRepo) ListMessages(ctx context.Context, sid, aid string, off, lim int) ([]*session.Message, error) {
	r.reads.Add(1)
	return r.Repository.ListMessages(ctx, sid, aid, off, lim)
}

// sharedRepo keeps the backend open when a decorator over it closes, so
// two decorators can share one backend.
type sharedRepo struct{ session.Repository }

func (sharedRepo) Close() error { return nil }

// fakeClock is a settable clock for the breaker.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// countingHandler counts slog records at Warn and above.
type countingHandler struct {
	warns atomic.Int64
	infos atomic.Int64
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	switch {
	case r.Level >= slog.LevelWarn:
		h.warns.Add(1)
	case r.Level == slog.LevelInfo:
		h.infos.Add(1)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

type fixture struct {
	mr      *miniredis.Miniredis
	client  *redis.Client
	backend *countingRepo
	cache   *Cache
}

// newFixture builds memory backend + miniredis + decorator.
func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	backend := &countingRepo{Repository: memory.New(memory.Options{})}
	if opts.Logger == nil {
		opts.Logger = slog.New(&countingHandler{})
	}
	if opts.RedisTimeout == 0 {
		// Generous: -race on a shared 2-core machine; timeouts are tested
		// explicitly elsewhere.
		opts.RedisTimeout = 2 * time.Second
	}
	c, err := New(backend, client, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &fixture{mr: mr, client: client, backend: backend, cache: c}
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func stat(c *Cache, name string) int {
	return int(c.Stats()[name])
}

func mustCreateSession(t *testing.T, r session.Repository, id string, md map[string]any) {
	t.Helper()
	require.NoError(t, r.CreateSession(ctxT(t), &session.Session{ID: id, ApplicationName: "app", Metadata: md}))
}

// blackHole returns the address of a listener that accepts connections and
// never answers: a Redis that hangs.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}
