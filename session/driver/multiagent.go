package driver

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// ValidateMultiAgentID reports whether id may name an orchestrator.
// Strands validates it with its identifier check (it becomes the
// directory multi_agent_<id>), which refuses only path separators, and
// sessionkit accepts what the SDK accepts under its session-id rules: 1 to
// 256 bytes of valid UTF-8, no "/", no control character. "." and "$" are
// allowed; a backend that keeps the id in a document field name escapes
// it (backend/mongo).
func ValidateMultiAgentID(id string) error {
	return validateID("multi_agent_id", id, false)
}

// PrepareMultiAgent validates m for CreateMultiAgent or UpdateMultiAgent and
// returns a normalized deep copy with zero times set to now. A nil State is
// stored as an empty object, as Strands always stores an object.
func PrepareMultiAgent(m *session.MultiAgent, now time.Time) (*session.MultiAgent, error) {
	if m == nil {
		return nil, InvalidArgument("multi_agent", "is nil")
	}
	if err := ValidateMultiAgentID(m.ID); err != nil {
		return nil, err
	}
	out := *m
	var err error
	if out.State, err = NormalizeMap("state", out.State); err != nil {
		return nil, err
	}
	if out.State == nil {
		out.State = map[string]any{}
	}
	out.CreatedAt = orNow(out.CreatedAt, now)
	out.UpdatedAt = orNow(out.UpdatedAt, out.CreatedAt)
	return &out, nil
}

// MultiAgentError wraps err with the session and orchestrator ids it
// concerns: `session "abc": multi-agent "g": <err>`. An empty sessionID
// leaves the session out.
func MultiAgentError(sessionID, multiAgentID string, err error) error {
	if sessionID == "" {
		return fmt.Errorf("multi-agent %q: %w", multiAgentID, err)
	}
	return fmt.Errorf("session %q: multi-agent %q: %w", sessionID, multiAgentID, err)
}
