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

// sharedRepo passes the snapshot role through, so the suite's peer case
// (a second cache over the same backend) covers snapshots.

func (s sharedRepo) snaps() session.SnapshotStore { return s.Repository.(session.SnapshotStore) }

func (s sharedRepo) PutSnapshot(ctx context.Context, sid, key string, data []byte) (*session.SnapshotInfo, error) {
	return s.snaps().PutSnapshot(ctx, sid, key, data)
}

func (s sharedRepo) GetSnapshot(ctx context.Context, sid, key string) (*session.Snapshot, error) {
	return s.snaps().GetSnapshot(ctx, sid, key)
}

func (s sharedRepo) DeleteSnapshot(ctx context.Context, sid, key string) error {
	return s.snaps().DeleteSnapshot(ctx, sid, key)
}

func (s sharedRepo) ListSnapshots(ctx context.Context, sid string, q session.SnapshotQuery) (*session.SnapshotPage, error) {
	return s.snaps().ListSnapshots(ctx, sid, q)
}

// A snapshot write moves the session's updated_at in the backend, so a
// session read the cache served before it must not be served after it.
func TestSnapshot_WritesInvalidateTheSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	backend := memory.New(memory.Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	c, err := New(backend, client, Options{RedisTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	require.NoError(t, c.CreateSession(ctx, &session.Session{ID: "s"}))
	before, err := c.GetSession(ctx, "s") // now cached
	require.NoError(t, err)
	_, err = c.PutSnapshot(ctx, "s", "latest", []byte("v1"))
	require.NoError(t, err)
	after, err := c.GetSession(ctx, "s")
	require.NoError(t, err)
	assert.True(t, after.UpdatedAt.After(before.UpdatedAt), "PutSnapshot: the cache served updated_at %s from before it", after.UpdatedAt)
	require.NoError(t, c.DeleteSnapshot(ctx, "s", "latest"))
	again, err := c.GetSession(ctx, "s")
	require.NoError(t, err)
	assert.True(t, again.UpdatedAt.After(after.UpdatedAt), "DeleteSnapshot: the cache served a stale updated_at")
	_, err = c.GetSnapshot(ctx, "s", "latest")
	require.ErrorIs(t, err, session.ErrNotFound)
}

func TestSnapshot_UnsupportedBackend(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	c, err := New(struct{ session.Repository }{memory.New(memory.Options{})}, client, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.PutSnapshot(context.Background(), "s", "k", []byte("x"))
	assert.True(t, errors.Is(err, errors.ErrUnsupported), "want ErrUnsupported, got %v", err)
	_, err = c.ListSnapshots(context.Background(), "s", session.SnapshotQuery{})
	assert.True(t, errors.Is(err, errors.ErrUnsupported), "want ErrUnsupported, got %v", err)
}
