package driver

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// PrepareStoredTimes validates t for RestoreTimes and returns a copy with
// times in UTC at microsecond precision and snapshot keys normalized (see
// NormalizeSnapshotKey).
func PrepareStoredTimes(t session.StoredTimes) (session.StoredTimes, error) {
	out := session.StoredTimes{}
	if !t.UpdatedAt.IsZero() {
		out.UpdatedAt = UTCMicro(t.UpdatedAt)
	}
	if len(t.Agents) > 0 {
		out.Agents = make(map[string]time.Time, len(t.Agents))
		for id, at := range t.Agents {
			if err := ValidateAgentID(id); err != nil {
				return out, err
			}
			if at.IsZero() {
				return out, fmt.Errorf("agent %q: %w", id, InvalidArgument("updated_at", "is zero"))
			}
			out.Agents[id] = UTCMicro(at)
		}
	}
	if len(t.Snapshots) > 0 {
		out.Snapshots = make(map[string]time.Time, len(t.Snapshots))
		for key, at := range t.Snapshots {
			norm, err := NormalizeSnapshotKey(key)
			if err != nil {
				return out, err
			}
			if at.IsZero() {
				return out, InvalidArgument("updated_at", "of snapshot %q is zero", norm)
			}
			out.Snapshots[norm] = UTCMicro(at)
		}
	}
	return out, nil
}
