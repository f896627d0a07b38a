package rediscache

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

// Snapshots are not cached: every snapshot call goes to the wrapped
// repository. A snapshot is one large blob (up to 64 MiB by default) that
// Strands reads once, at agent start, and overwrites after every message,
// so a cached copy would rarely be read before it was invalidated, while
// it would cost Redis memory and a second encoding of the bytes. Writes
// (PutSnapshot, DeleteSnapshot) still retire the session's generation,
// because on memory and SQLite they move the session's updated_at, which
// the cache serves (on MongoDB they leave the session document alone).
// DeleteSession needs nothing more: the backend deletes the keys with the
// session.
//
// When the wrapped repository does not implement session.SnapshotStore,
// every method fails with an error matching errors.ErrUnsupported and
// touches neither Redis nor the backend.

var _ session.SnapshotStore = (*Cache)(nil)

// snapshots returns the wrapped repository's SnapshotStore after the closed
// check.
func (c *Cache) snapshots() (session.SnapshotStore, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return session.SnapshotsOf(c.inner)
}

// PutSnapshot implements session.SnapshotStore.
func (c *Cache) PutSnapshot(ctx context.Context, sessionID, key string, data []byte) (*session.SnapshotInfo, error) {
	st, err := c.snapshots()
	if err != nil {
		return nil, err
	}
	info, err := st.PutSnapshot(ctx, sessionID, key, data)
	return info, c.written(ctx, sessionID, err)
}

// GetSnapshot implements session.SnapshotStore, uncached.
func (c *Cache) GetSnapshot(ctx context.Context, sessionID, key string) (*session.Snapshot, error) {
	st, err := c.snapshots()
	if err != nil {
		return nil, err
	}
	return st.GetSnapshot(ctx, sessionID, key)
}

// DeleteSnapshot implements session.SnapshotStore.
func (c *Cache) DeleteSnapshot(ctx context.Context, sessionID, key string) error {
	st, err := c.snapshots()
	if err != nil {
		return err
	}
	return c.written(ctx, sessionID, st.DeleteSnapshot(ctx, sessionID, key))
}

// ListSnapshots implements session.SnapshotStore, uncached.
func (c *Cache) ListSnapshots(ctx context.Context, sessionID string, q session.SnapshotQuery) (*session.SnapshotPage, error) {
	st, err := c.snapshots()
	if err != nil {
		return nil, err
	}
	return st.ListSnapshots(ctx, sessionID, q)
}
