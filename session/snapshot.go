package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Snapshot storage: the byte store behind Strands' SnapshotSessionManager
// (strands-agents 1.62's Storage protocol: write, read, delete and list by
// prefix over bytes under string keys). sessionkit scopes every key to a
// session: the SDK key "session/<sid>/<rest>" is session <sid>, key <rest>.
// A session owns its keys, so DeleteSession deletes them and export/import
// carries them. The store never parses the bytes: a corrupt snapshot is
// returned exactly as it was written, so nothing is lost.

// Limits of the snapshot store.
const (
	// MaxSnapshotKeyBytes is the longest key accepted, before normalization.
	MaxSnapshotKeyBytes = 1024
	// DefaultMaxSnapshotBytes is the snapshot size limit a backend applies
	// when its options set none. A snapshot holds a whole conversation, so
	// the default is generous; it bounds what one write may hold in memory.
	DefaultMaxSnapshotBytes = 64 << 20
	// DefaultSnapshotListLimit is the page size of ListSnapshots when
	// SnapshotQuery.Limit is 0.
	DefaultSnapshotListLimit = 1000
	// MaxSnapshotListLimit is the largest page ListSnapshots returns.
	MaxSnapshotListLimit = 10000
)

// SnapshotInfo describes one stored snapshot without its bytes.
type SnapshotInfo struct {
	// Key is the normalized key (see driver.NormalizeSnapshotKey).
	Key string
	// SizeBytes is the length of the stored bytes.
	SizeBytes int64
	// UpdatedAt is when the bytes were last written.
	UpdatedAt time.Time
}

// Snapshot is one stored snapshot with its bytes.
type Snapshot struct {
	SnapshotInfo
	// Data is the stored bytes, exactly as written. The caller owns it.
	Data []byte
}

// SnapshotQuery selects a page of ListSnapshots.
type SnapshotQuery struct {
	// Prefix keeps keys that start with it (after driver.NormalizeSnapshotPrefix);
	// empty lists every key of the session.
	Prefix string
	// Cursor continues a listing: only keys after it, in byte order, are
	// returned. It is the NextCursor of the previous page; empty starts at
	// the first key.
	Cursor string
	// Limit is the page size: 0 means DefaultSnapshotListLimit; at most
	// MaxSnapshotListLimit.
	Limit int
}

// SnapshotPage is one page of ListSnapshots.
type SnapshotPage struct {
	// Snapshots are in ascending byte order of Key.
	Snapshots []SnapshotInfo
	// NextCursor continues the listing; empty on the last page.
	NextCursor string
}

// SnapshotStore stores opaque bytes under keys owned by a session. It is a
// role interface a Repository may implement (every backend in this module
// does, and decorators delegate to it when the repository they wrap does);
// callers find it with SnapshotsOf. Keys are normalized with
// driver.NormalizeSnapshotKey, so "a//b/" and "a/b" name the same snapshot.
type SnapshotStore interface {
	// PutSnapshot stores data under key, replacing what was there. The
	// overwrite is atomic: a concurrent reader gets the old bytes or the new
	// ones, never a mix. The store keeps its own copy of data. Contract:
	// ErrNotFound if the session does not exist; ErrInvalidArgument naming
	// "key" for a bad key; ErrTooLarge over the backend's snapshot size
	// limit (DefaultMaxSnapshotBytes unless configured) — in every error
	// case nothing is written.
	PutSnapshot(ctx context.Context, sessionID, key string, data []byte) (*SnapshotInfo, error)
	// GetSnapshot returns the bytes stored under key. Contract: ErrNotFound
	// if the session or the key does not exist.
	GetSnapshot(ctx context.Context, sessionID, key string) (*Snapshot, error)
	// DeleteSnapshot removes key. Deleting a missing key succeeds (Strands'
	// delete is a no-op then). Contract: ErrNotFound only if the session
	// does not exist.
	DeleteSnapshot(ctx context.Context, sessionID, key string) error
	// ListSnapshots returns a page of the session's keys in ascending byte
	// order. Contract: ErrNotFound if the session does not exist;
	// ErrInvalidArgument naming "prefix", "cursor" or "limit".
	ListSnapshots(ctx context.Context, sessionID string, q SnapshotQuery) (*SnapshotPage, error)
}

// SnapshotsOf returns repo's SnapshotStore. When repo lacks the role the
// error matches errors.ErrUnsupported, so callers can tell "this backend
// stores no snapshots" from a failed call.
func SnapshotsOf(repo any) (SnapshotStore, error) {
	if s, ok := repo.(SnapshotStore); ok {
		return s, nil
	}
	return nil, fmt.Errorf("%T does not store snapshots: %w", repo, errors.ErrUnsupported)
}
