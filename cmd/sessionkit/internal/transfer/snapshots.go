package transfer

import (
	"context"
	"errors"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// SnapshotRecord is one snapshot of an exported session: its key and its
// bytes, which encoding/json writes as standard base64, so any bytes (a
// corrupt or non-JSON snapshot included) survive the JSON line unchanged.
type SnapshotRecord struct {
	Key  string `json:"key"`
	Data []byte `json:"data"`
	// UpdatedAt is when the snapshot was last written; an import sets it
	// back after writing the bytes (session.TimeRestorer).
	UpdatedAt time.Time `json:"updated_at"`
}

// readSnapshots returns every snapshot of the session, in key order, or
// none when the repository does not store snapshots.
func readSnapshots(ctx context.Context, repo session.Repository, id string) ([]*SnapshotRecord, error) {
	st, err := session.SnapshotsOf(repo)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, nil
	}
	var out []*SnapshotRecord
	q := session.SnapshotQuery{}
	for {
		page, err := st.ListSnapshots(ctx, id, q)
		if err != nil {
			return nil, err
		}
		for _, info := range page.Snapshots {
			snap, err := st.GetSnapshot(ctx, id, info.Key)
			if errors.Is(err, session.ErrNotFound) {
				continue // deleted while we listed
			}
			if err != nil {
				return nil, err
			}
			out = append(out, &SnapshotRecord{Key: snap.Key, Data: snap.Data, UpdatedAt: snap.UpdatedAt})
		}
		if page.NextCursor == "" {
			return out, nil
		}
		q.Cursor = page.NextCursor
	}
}

// decodeSnapshots validates a record's snapshot keys (before anything of
// the session is written) and returns them normalized.
func decodeSnapshots(sessionID string, in []*SnapshotRecord) ([]*SnapshotRecord, error) {
	seen := map[string]bool{}
	var out []*SnapshotRecord
	for i, s := range in {
		if s == nil {
			return nil, driver.SessionError(sessionID, driver.InvalidArgument("snapshots", "null entry %d", i))
		}
		key, err := driver.NormalizeSnapshotKey(s.Key)
		if err != nil {
			return nil, driver.SessionError(sessionID, err)
		}
		if seen[key] {
			return nil, driver.SnapshotError(sessionID, key, driver.InvalidArgument("key", "%q appears twice", key))
		}
		seen[key] = true
		out = append(out, &SnapshotRecord{Key: key, Data: s.Data, UpdatedAt: s.UpdatedAt})
	}
	return out, nil
}

// writeSnapshots stores p's snapshots. A repository without
// session.SnapshotStore fails the import (errors.ErrUnsupported) rather
// than dropping them.
func (p *plan) writeSnapshots(ctx context.Context, repo session.Repository) error {
	if len(p.snapshots) == 0 {
		return nil
	}
	st, err := session.SnapshotsOf(repo)
	if err != nil {
		return err
	}
	for _, s := range p.snapshots {
		if _, err := st.PutSnapshot(ctx, p.session.ID, s.Key, s.Data); err != nil {
			return err
		}
	}
	return nil
}
