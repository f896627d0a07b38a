package memory_test

import (
	"context"

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
