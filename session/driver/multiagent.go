package driver

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// ValidateMultiAgentID reports whether id may name an orchestrator. Strands
// validates it like an agent id (it becomes the directory
// multi_agent_<id>), and sessionkit applies its agent-id rules for the same
// reason as for agents: the id becomes a document field name in the Mongo
// layout. So: 1 to 256 bytes of valid UTF-8, no "/", no control character,
// no "." and no leading "$".
func ValidateMultiAgentID(id string) error {
	return validateID("multi_agent_id", id, true)
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
