package memory_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// sharedView delegates the snapshot role too, so the conformance peer case
// runs on memory.

func (v sharedView) PutSnapshot(ctx context.Context, sessionID, key string, data []byte) (*session.SnapshotInfo, error) {
	return v.Repository.(session.SnapshotStore).PutSnapshot(ctx, sessionID, key, data)
}

func (v sharedView) GetSnapshot(ctx context.Context, sessionID, key string) (*session.Snapshot, error) {
	return v.Repository.(session.SnapshotStore).GetSnapshot(ctx, sessionID, key)
}

func (v sharedView) DeleteSnapshot(ctx context.Context, sessionID, key string) error {
	return v.Repository.(session.SnapshotStore).DeleteSnapshot(ctx, sessionID, key)
}

func (v sharedView) ListSnapshots(ctx context.Context, sessionID string, q session.SnapshotQuery) (*session.SnapshotPage, error) {
	return v.Repository.(session.SnapshotStore).ListSnapshots(ctx, sessionID, q)
}

func TestOpen_URLSnapshotLimitApplies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := session.Open(ctx, "memory://?max_snapshot_bytes=4")
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
	st := r.(session.SnapshotStore)
	_, err = st.PutSnapshot(ctx, "s", "k", []byte("1234"))
	require.NoError(t, err)
	_, err = st.PutSnapshot(ctx, "s", "k", []byte("12345"))
	require.ErrorIs(t, err, session.ErrTooLarge)
}
