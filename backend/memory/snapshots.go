package memory

import (
	"context"
	"sort"
	"strings"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Snapshots live in the session's entry (sessionEntry.snaps), so
// DeleteSession drops them with the rest. A write replaces the entry's
// pointer under the write lock, so a reader sees the old or the new bytes
// whole. They count towards MaxSessionBytes like everything else in the
// session.

var _ session.SnapshotStore = (*Repository)(nil)

// snapshotEntry is one stored snapshot; its Data is never modified after
// it is stored (a write stores a new entry).
type snapshotEntry struct {
	info session.SnapshotInfo
	data []byte
}

func snapshotSize(e *snapshotEntry) int {
	if e == nil {
		return 0
	}
	return recordOverhead + len(e.info.Key) + len(e.data)
}

// PutSnapshot implements session.SnapshotStore.
func (r *Repository) PutSnapshot(ctx context.Context, sessionID, key string, data []byte) (*session.SnapshotInfo, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	norm, err := driver.NormalizeSnapshotKey(key)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	if err := driver.CheckSnapshotSize(int64(len(data)), r.opts.MaxSnapshotBytes); err != nil {
		return nil, driver.SnapshotError(sessionID, norm, err)
	}
	now := r.now()
	next := &snapshotEntry{
		info: session.SnapshotInfo{Key: norm, SizeBytes: int64(len(data)), UpdatedAt: now},
		data: append([]byte{}, data...),
	}
	if err := r.lock(); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	delta := 0
	if r.limited() {
		delta = snapshotSize(next) - snapshotSize(e.snaps[norm])
	}
	if err := r.fits(sessionID, e, delta); err != nil {
		return nil, err
	}
	if e.snaps == nil {
		e.snaps = map[string]*snapshotEntry{}
	}
	e.snaps[norm] = next
	r.grow(e, delta)
	touch(e, now)
	info := next.info
	return &info, nil
}

// GetSnapshot implements session.SnapshotStore.
func (r *Repository) GetSnapshot(ctx context.Context, sessionID, key string) (*session.Snapshot, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	norm, err := driver.NormalizeSnapshotKey(key)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	e, err := r.session(sessionID)
	var snap *snapshotEntry
	if err == nil {
		snap = e.snaps[norm]
	}
	r.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, driver.SnapshotError(sessionID, norm, session.ErrNotFound)
	}
	// The entry's bytes are immutable, so they are copied outside the lock.
	return &session.Snapshot{SnapshotInfo: snap.info, Data: append([]byte{}, snap.data...)}, nil
}

// DeleteSnapshot implements session.SnapshotStore.
func (r *Repository) DeleteSnapshot(ctx context.Context, sessionID, key string) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	norm, err := driver.NormalizeSnapshotKey(key)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return err
	}
	old, ok := e.snaps[norm]
	if !ok {
		return nil
	}
	delete(e.snaps, norm)
	r.grow(e, -snapshotSize(old))
	touch(e, r.now())
	return nil
}

// ListSnapshots implements session.SnapshotStore.
func (r *Repository) ListSnapshots(ctx context.Context, sessionID string, q session.SnapshotQuery) (*session.SnapshotPage, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	q, err := driver.PrepareSnapshotQuery(q)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	infos := []session.SnapshotInfo{}
	for k, s := range e.snaps {
		if strings.HasPrefix(k, q.Prefix) && k > q.Cursor {
			infos = append(infos, s.info)
		}
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Key < infos[j].Key })
	if len(infos) > q.Limit+1 {
		infos = infos[:q.Limit+1]
	}
	return driver.SnapshotPageOf(infos, q.Limit), nil
}
