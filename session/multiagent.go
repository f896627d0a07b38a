package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MultiAgent is the persisted state of one Graph or Swarm orchestrator in a
// session: methods 10-12 of Strands' SessionRepository (create_multi_agent,
// read_multi_agent, update_multi_agent). Strands writes it after every node
// as the orchestrator's serialize_state(), an object whose shape belongs to
// the SDK (node status, results, usage, interrupt context), so sessionkit
// stores State as an opaque value and never interprets it.
type MultiAgent struct {
	// ID is the orchestrator id (Strands' default ids are "default_graph"
	// and "default_swarm"); see ValidateMultiAgentID.
	ID string
	// State is the orchestrator's serialize_state() object, stored as it is
	// (canonical values; see Normalize). []byte values round-trip.
	State map[string]any
	// CreatedAt is set once at creation (now when zero on create). Strands'
	// multi_agent.json has no timestamps; these are sessionkit's own.
	CreatedAt time.Time
	// UpdatedAt moves on every update.
	UpdatedAt time.Time
}

// Clone returns a deep copy of m.
func (m *MultiAgent) Clone() *MultiAgent {
	if m == nil {
		return nil
	}
	out := *m
	out.State = CloneMap(m.State)
	return &out
}

// MultiAgentStore stores orchestrator state within sessions. It is a role
// interface a Repository may implement (every backend in this module does,
// and decorators delegate to it when the repository they wrap does);
// callers test for it with a type assertion. DeleteSession removes a
// session's orchestrators with the rest of it.
type MultiAgentStore interface {
	// CreateMultiAgent stores a new orchestrator record. Contract:
	// ErrNotFound if the session does not exist; ErrAlreadyExists if the id
	// is taken — the stored record is left untouched; ErrTooLarge over the
	// backend's size limit; ErrInvalidArgument for a bad id or a value
	// Normalize rejects. Of many concurrent creates exactly one succeeds.
	CreateMultiAgent(ctx context.Context, sessionID string, m *MultiAgent) error
	// GetMultiAgent returns one orchestrator record. Contract: ErrNotFound
	// if the session or the record does not exist (Strands'
	// read_multi_agent returns None for both).
	GetMultiAgent(ctx context.Context, sessionID, multiAgentID string) (*MultiAgent, error)
	// UpdateMultiAgent replaces a record's State as a whole, keeps its
	// stored CreatedAt and sets UpdatedAt to now. Contract: ErrNotFound if
	// the session or the record does not exist (Strands raises
	// SessionException; no record is created); ErrTooLarge over the size
	// limit. Concurrent updates are last-writer-wins; a reader sees one
	// whole State, never a mix. Idempotent.
	UpdateMultiAgent(ctx context.Context, sessionID string, m *MultiAgent) error
	// ListMultiAgents returns a session's orchestrator records ordered by
	// id, for export and the viewer. Contract: ErrNotFound if the session
	// does not exist.
	ListMultiAgents(ctx context.Context, sessionID string) ([]*MultiAgent, error)
}

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
func PrepareMultiAgent(m *MultiAgent, now time.Time) (*MultiAgent, error) {
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

// MultiAgentsOf returns repo's MultiAgentStore, for decorators that wrap any
// repository and delegate the role when the repository they wrap has it.
// When repo lacks it the error matches errors.ErrUnsupported, so callers can
// tell "this backend does not store orchestrators" from a failed call.
func MultiAgentsOf(repo any) (MultiAgentStore, error) {
	if m, ok := repo.(MultiAgentStore); ok {
		return m, nil
	}
	return nil, fmt.Errorf("%T does not store multi-agent state: %w", repo, errors.ErrUnsupported)
}
