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
	if t.ForkedFrom != nil {
		o, err := prepareForkOrigin(t.ForkedFrom)
		if err != nil {
			return out, err
		}
		out.ForkedFrom = o
	}
	return out, nil
}

// prepareForkOrigin checks a lineage to restore as ForkSession would have
// recorded it: a valid source id, a valid agent id when set, a message id
// only with an agent and never negative, and a time; it returns a copy at
// microsecond precision.
func prepareForkOrigin(in *session.ForkOrigin) (*session.ForkOrigin, error) {
	if ValidateSessionID(in.SessionID) != nil {
		return nil, InvalidArgument("forked_from.session_id", "%q is not a valid session id", in.SessionID)
	}
	if in.AgentID != "" && ValidateAgentID(in.AgentID) != nil {
		return nil, InvalidArgument("forked_from.agent_id", "%q is not a valid agent id", in.AgentID)
	}
	if in.MessageID != nil && (in.AgentID == "" || *in.MessageID < 0) {
		return nil, InvalidArgument("forked_from.message_id", "%d needs an agent and must not be negative", *in.MessageID)
	}
	if in.At.IsZero() {
		return nil, InvalidArgument("forked_from.at", "is zero")
	}
	o := in.Clone()
	o.At = UTCMicro(o.At)
	return o, nil
}
