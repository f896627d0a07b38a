package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// StoredTimes are times an import read from an export, to be set back
// after the records are written. Writing a session's records moves its
// UpdatedAt (every write under a session does), and on some layouts an
// agent's too (MongoDB's moves agents.<id>.updated_at on every append), so
// an import that only wrote would stamp the import time on them.
type StoredTimes struct {
	// UpdatedAt is the session's UpdatedAt; zero leaves it as it is.
	UpdatedAt time.Time
	// Agents maps an agent id to its UpdatedAt.
	Agents map[string]time.Time
	// Snapshots maps a snapshot key to its UpdatedAt.
	Snapshots map[string]time.Time
	// ForkedFrom is the session's lineage as the export recorded it (its
	// At a time like the others); nil leaves the lineage as it is.
	// CreateSession never takes lineage (only ForkSession records it), so
	// an import sets it back here; the source need not exist any more, as
	// lineage outlives its source.
	ForkedFrom *ForkOrigin
}

// TimeRestorer is implemented by repositories that can set stored times
// back, so that an export imported again changes nothing. It is a role
// interface (every backend in this module implements it, and decorators
// delegate to it when the repository they wrap does); callers find it
// with TimeRestorerOf. Restoring is for imports, not for ordinary writes:
// it bypasses the rule that every write moves the session's UpdatedAt.
type TimeRestorer interface {
	// RestoreTimes sets the times in t on the session's stored records,
	// and its lineage when t.ForkedFrom is set, and changes nothing else
	// (no other field, no other UpdatedAt). Times
	// are stored at the backend's precision, as on create. Contract:
	// ErrNotFound if the session, one of the agents or one of the snapshot
	// keys does not exist; ErrInvalidArgument naming the field for a bad
	// agent id, a bad snapshot key, a zero time in a map or a bad lineage
	// (forked_from.session_id, .agent_id, .message_id, .at). The session
	// and its agents are set at once; snapshots (kept apart on some
	// backends) may be set before a failure is reported.
	RestoreTimes(ctx context.Context, sessionID string, t StoredTimes) error
}

// TimeRestorerOf returns repo's TimeRestorer. When repo lacks the role the
// error matches errors.ErrUnsupported.
func TimeRestorerOf(repo any) (TimeRestorer, error) {
	if r, ok := repo.(TimeRestorer); ok {
		return r, nil
	}
	return nil, fmt.Errorf("%T cannot restore stored times: %w", repo, errors.ErrUnsupported)
}
