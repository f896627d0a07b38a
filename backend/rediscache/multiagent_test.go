package rediscache

import (
	"context"
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

// sharedRepo passes the orchestrator role through, so the suite's peer
// cases (a second cache over the same backend) cover multi-agent state.

func (s sharedRepo) store() session.MultiAgentStore { return s.Repository.(session.MultiAgentStore) }

func (s sharedRepo) CreateMultiAgent(ctx context.Context, sid string, m *session.MultiAgent) error {
	return s.store().CreateMultiAgent(ctx, sid, m)
}

func (s sharedRepo) GetMultiAgent(ctx context.Context, sid, id string) (*session.MultiAgent, error) {
	return s.store().GetMultiAgent(ctx, sid, id)
}

func (s sharedRepo) UpdateMultiAgent(ctx context.Context, sid string, m *session.MultiAgent) error {
	return s.store().UpdateMultiAgent(ctx, sid, m)
}

func (s sharedRepo) ListMultiAgents(ctx context.Context, sid string) ([]*session.MultiAgent, error) {
	return s.store().ListMultiAgents(ctx, sid)
}

// countingMultiAgents counts backend reads of orchestrator state.
type countingMultiAgents struct {
	*memory.Repository
	gets, lists int
}

func (r *countingMultiAgents) GetMultiAgent(ctx context.Context, sid, id string) (*session.MultiAgent, error) {
	r.gets++
	return r.Repository.GetMultiAgent(ctx, sid, id)
}

func (r *countingMultiAgents) ListMultiAgents(ctx context.Context, sid string) ([]*session.MultiAgent, error) {
	r.lists++
	return r.Repository.ListMultiAgents(ctx, sid)
}

func TestMultiAgent_ReadsHitTheCacheAndWritesInvalidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	backend := &countingMultiAgents{Repository: memory.New(memory.Options{})}
	c, err := New(backend, client, Options{RedisTimeout: 2 * time.Second, KindTTL: map[Kind]time.Duration{KindMultiAgent: time.Minute}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	require.NoError(t, c.CreateSession(ctx, &session.Session{ID: "s"}))
	require.NoError(t, c.CreateMultiAgent(ctx, "s", &session.MultiAgent{ID: "g", State: map[string]any{"n": int64(1), "b": []byte{0, 1}}}))
	for range 3 {
		got, err := c.GetMultiAgent(ctx, "s", "g")
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"n": int64(1), "b": []byte{0, 1}}, got.State)
		list, err := c.ListMultiAgents(ctx, "s")
		require.NoError(t, err)
		require.Len(t, list, 1)
	}
	assert.Equal(t, 1, backend.gets, "repeated reads must be served from Redis")
	assert.Equal(t, 1, backend.lists)

	require.NoError(t, c.UpdateMultiAgent(ctx, "s", &session.MultiAgent{ID: "g", State: map[string]any{"n": int64(2)}}))
	got, err := c.GetMultiAgent(ctx, "s", "g")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"n": int64(2)}, got.State, "a read after an update returned the old state")
	assert.Equal(t, 2, backend.gets)

	// A cached not-found is retired by the create.
	_, err = c.GetMultiAgent(ctx, "s", "w")
	require.ErrorIs(t, err, session.ErrNotFound)
	require.NoError(t, c.CreateMultiAgent(ctx, "s", &session.MultiAgent{ID: "w"}))
	_, err = c.GetMultiAgent(ctx, "s", "w")
	require.NoError(t, err)
}

func TestMultiAgent_UnsupportedBackend(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	c, err := New(struct{ session.Repository }{memory.New(memory.Options{})}, client, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.GetMultiAgent(context.Background(), "s", "g")
	assert.True(t, errors.Is(err, errors.ErrUnsupported), "want ErrUnsupported, got %v", err)
}
