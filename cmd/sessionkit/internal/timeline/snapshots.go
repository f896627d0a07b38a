package timeline

import (
	"context"
	"errors"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Snapshot lists one key of the session's snapshot store in the timeline;
// the bytes themselves are read with GET /api/sessions/{id}/snapshots/{key}.
type Snapshot struct {
	Key       string    `json:"key"`
	SizeBytes int64     `json:"size_bytes"`
	UpdatedAt time.Time `json:"updated_at"`
}

// listSnapshots returns the first page of the session's snapshot keys (at
// most session.DefaultSnapshotListLimit) and whether there are more; none
// when the repository stores no snapshots.
func listSnapshots(ctx context.Context, repo session.Repository, id string) ([]Snapshot, bool, error) {
	st, err := session.SnapshotsOf(repo)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, false, nil
	}
	page, err := st.ListSnapshots(ctx, id, session.SnapshotQuery{})
	if err != nil {
		return nil, false, err
	}
	out := make([]Snapshot, 0, len(page.Snapshots))
	for _, i := range page.Snapshots {
		out = append(out, Snapshot{Key: i.Key, SizeBytes: i.SizeBytes, UpdatedAt: i.UpdatedAt.UTC()})
	}
	return out, page.NextCursor != "", nil
}
