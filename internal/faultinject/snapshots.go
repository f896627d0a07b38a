package faultinject

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.SnapshotStore = (*Repository)(nil)

// PutSnapshot implements session.SnapshotStore by delegation; it fails with
// errors.ErrUnsupported when the wrapped repository lacks it.
func (r *Repository) PutSnapshot(ctx context.Context, sid, key string, data []byte) (*session.SnapshotInfo, error) {
	if err := r.before(ctx, "PutSnapshot"); err != nil {
		return nil, err
	}
	st, err := session.SnapshotsOf(r.inner)
	if err != nil {
		return nil, err
	}
	info, err := st.PutSnapshot(ctx, sid, key, data)
	return info, r.afterWrite("PutSnapshot", err)
}

// GetSnapshot implements session.SnapshotStore by delegation.
func (r *Repository) GetSnapshot(ctx context.Context, sid, key string) (*session.Snapshot, error) {
	if err := r.before(ctx, "GetSnapshot"); err != nil {
		return nil, err
	}
	st, err := session.SnapshotsOf(r.inner)
	if err != nil {
		return nil, err
	}
	return st.GetSnapshot(ctx, sid, key)
}

// DeleteSnapshot implements session.SnapshotStore by delegation.
func (r *Repository) DeleteSnapshot(ctx context.Context, sid, key string) error {
	if err := r.before(ctx, "DeleteSnapshot"); err != nil {
		return err
	}
	st, err := session.SnapshotsOf(r.inner)
	if err != nil {
		return err
	}
	return r.afterWrite("DeleteSnapshot", st.DeleteSnapshot(ctx, sid, key))
}

// ListSnapshots implements session.SnapshotStore by delegation.
func (r *Repository) ListSnapshots(ctx context.Context, sid string, q session.SnapshotQuery) (*session.SnapshotPage, error) {
	if err := r.before(ctx, "ListSnapshots"); err != nil {
		return nil, err
	}
	st, err := session.SnapshotsOf(r.inner)
	if err != nil {
		return nil, err
	}
	return st.ListSnapshots(ctx, sid, q)
}
