package wire

import (
	"encoding/json"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// MultiAgent is the JSON form of session.MultiAgent: a Graph or Swarm
// orchestrator's state (Strands' multi_agent.json object) under its id.
type MultiAgent struct {
	MultiAgentID string          `json:"multi_agent_id"`
	State        json.RawMessage `json:"state"`
	CreatedAt    *time.Time      `json:"created_at,omitempty"`
	UpdatedAt    *time.Time      `json:"updated_at,omitempty"`
}

// FromMultiAgent converts m. A nil state is sent as {}.
func FromMultiAgent(m *session.MultiAgent) (*MultiAgent, error) {
	state, err := Value(m.State)
	if err != nil {
		return nil, driver.MultiAgentError("", m.ID, err)
	}
	if state == nil {
		state = json.RawMessage("{}")
	}
	return &MultiAgent{MultiAgentID: m.ID, State: state, CreatedAt: timePtr(m.CreatedAt), UpdatedAt: timePtr(m.UpdatedAt)}, nil
}

// ToMultiAgent converts w; errors match session.ErrInvalidArgument. A
// missing or null state is an error: Strands always stores an object.
func (w *MultiAgent) ToMultiAgent() (*session.MultiAgent, error) {
	if len(w.State) == 0 || string(w.State) == "null" {
		return nil, driver.InvalidArgument("state", "is required (a JSON object)")
	}
	state, err := Object("state", w.State)
	if err != nil {
		return nil, err
	}
	return &session.MultiAgent{ID: w.MultiAgentID, State: state, CreatedAt: timeOf(w.CreatedAt), UpdatedAt: timeOf(w.UpdatedAt)}, nil
}
