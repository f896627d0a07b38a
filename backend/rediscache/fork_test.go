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

// TestFork_RetiresCachedAnswersOfTheNewID: a cached "not found" of the new
// id, and a cached session of a deleted session with that id, are never
// served after the fork; the fork's lineage survives the cache.
func TestFork_RetiresCachedAnswersOfTheNewID(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	c, err := New(memory.New(memory.Options{}), client, Options{RedisTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	require.NoError(t, c.CreateSession(ctx, &session.Session{ID: "src", ApplicationName: "app"}))
	require.NoError(t, c.CreateAgent(ctx, "src", &session.Agent{ID: "a"}))
	require.NoError(t, c.CreateMessage(ctx, "src", "a", &session.Message{ID: 0,
		Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("hi")}}}))

	_, err = c.GetSession(ctx, "fork")
	require.ErrorIs(t, err, session.ErrNotFound) // cached
	_, err = c.CountMessages(ctx, "fork", "a")
	require.ErrorIs(t, err, session.ErrNotFound) // cached

	got, err := c.ForkSession(ctx, session.ForkRequest{SourceID: "src", ID: "fork", AgentID: "a"})
	require.NoError(t, err)
	require.NotNil(t, got.ForkedFrom)

	for range 2 { // a miss, then a hit: both carry the lineage
		s, err := c.GetSession(ctx, "fork")
		require.NoError(t, err, "a cached not-found was served after the fork")
		require.NotNil(t, s.ForkedFrom)
		assert.Equal(t, "src", s.ForkedFrom.SessionID)
		require.NotNil(t, s.ForkedFrom.MessageID)
		assert.Equal(t, 0, *s.ForkedFrom.MessageID)
		n, err := c.CountMessages(ctx, "fork", "a")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	}

	// Delete and fork again under the same id, from another cut.
	require.NoError(t, c.DeleteSession(ctx, "fork"))
	require.NoError(t, c.CreateSession(ctx, &session.Session{ID: "src2"}))
	_, err = c.ForkSession(ctx, session.ForkRequest{SourceID: "src2", ID: "fork"})
	require.NoError(t, err)
	s, err := c.GetSession(ctx, "fork")
	require.NoError(t, err)
	assert.Equal(t, "src2", s.ForkedFrom.SessionID, "the deleted fork's cached record was served")
}

func TestFork_UnsupportedBackend(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	inner := memory.New(memory.Options{})
	require.NoError(t, inner.CreateSession(context.Background(), &session.Session{ID: "src"}))
	c, err := New(struct{ session.Repository }{inner}, client, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.ForkSession(context.Background(), session.ForkRequest{SourceID: "src", ID: "fork"})
	assert.True(t, errors.Is(err, errors.ErrUnsupported), "want ErrUnsupported, got %v", err)
	_, err = inner.GetSession(context.Background(), "fork")
	assert.ErrorIs(t, err, session.ErrNotFound)
}
