package manager

import (
	"context"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// newEvent returns an event of the managed session with LoadMetadata bound
// to the repository directly (not through the hooks, so a hook calling it
// never recurses).
func (m *Manager) newEvent(kind Kind, op Operation) *Event {
	return &Event{
		Kind:      kind,
		Operation: op,
		SessionID: m.sessionID,
		LoadMetadata: func(ctx context.Context) (map[string]any, error) {
			return m.repo.GetMetadata(ctx, m.sessionID)
		},
	}
}

// dispatch runs ev through the hooks and the operation.
func (m *Manager) dispatch(ctx context.Context, ev *Event) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	return m.run(ctx, ev)
}

// perform is the end of the hook chain: it carries out ev's operation on the
// repository with the payload as the hooks left it.
func (m *Manager) perform(ctx context.Context, ev *Event) error {
	if ev.do != nil {
		return ev.do(ctx, ev)
	}
	switch {
	case ev.Kind == KindMetadata && ev.Operation == OpUpdate:
		return m.repo.UpdateMetadata(ctx, m.sessionID, ev.Metadata)
	case ev.Kind == KindMetadata && ev.Operation == OpGet:
		md, err := m.repo.GetMetadata(ctx, m.sessionID)
		if err != nil {
			return err
		}
		ev.Metadata = md
		return nil
	case ev.Kind == KindMetadata && ev.Operation == OpDelete:
		return m.repo.DeleteMetadata(ctx, m.sessionID, ev.Keys)
	case ev.Kind == KindFeedback && ev.Operation == OpAdd:
		stored, err := m.repo.AddFeedback(ctx, m.sessionID, ev.Feedback)
		if err != nil {
			return err
		}
		ev.Feedback = stored
		return nil
	}
	return driver.InvalidArgument("event", "unsupported %s operation %q", ev.Kind, ev.Operation)
}

// UpdateMetadata sets the given top-level metadata keys, leaving the others
// as stored, through the hooks (OpUpdate). Errors: session.ErrInvalidArgument
// for an empty update or a bad key, with nothing written.
func (m *Manager) UpdateMetadata(ctx context.Context, metadata map[string]any) error {
	ev := m.newEvent(KindMetadata, OpUpdate)
	ev.Metadata = metadata
	if err := m.dispatch(ctx, ev); err != nil {
		return fmt.Errorf("update metadata: %w", err)
	}
	return nil
}

// GetMetadata returns the session's metadata map itself (empty, never nil),
// through the hooks (OpGet): a hook sees the map in ev.Metadata after next
// returns and may filter it.
func (m *Manager) GetMetadata(ctx context.Context) (map[string]any, error) {
	ev := m.newEvent(KindMetadata, OpGet)
	if err := m.dispatch(ctx, ev); err != nil {
		return nil, fmt.Errorf("get metadata: %w", err)
	}
	if ev.Metadata == nil {
		return map[string]any{}, nil
	}
	return ev.Metadata, nil
}

// DeleteMetadata removes the named top-level metadata keys (absent keys are
// ignored), through the hooks (OpDelete).
func (m *Manager) DeleteMetadata(ctx context.Context, keys []string) error {
	ev := m.newEvent(KindMetadata, OpDelete)
	ev.Keys = keys
	if err := m.dispatch(ctx, ev); err != nil {
		return fmt.Errorf("delete metadata: %w", err)
	}
	return nil
}

// AddFeedback stores f through the hooks (OpAdd) and returns the stored copy
// with its id and creation time.
func (m *Manager) AddFeedback(ctx context.Context, f *session.Feedback) (*session.Feedback, error) {
	ev := m.newEvent(KindFeedback, OpAdd)
	ev.Feedback = f
	if f != nil {
		ev.AgentID = f.AgentID
	}
	if err := m.dispatch(ctx, ev); err != nil {
		return nil, fmt.Errorf("add feedback: %w", err)
	}
	return ev.Feedback, nil
}

// ListFeedback returns the session's feedback in the order it was added.
func (m *Manager) ListFeedback(ctx context.Context) ([]*session.Feedback, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	return m.repo.ListFeedback(ctx, m.sessionID)
}

// ListGuardrailEvents returns the session's guardrail audit trail in the
// order the events were recorded.
func (m *Manager) ListGuardrailEvents(ctx context.Context) ([]*session.SessionGuardrailEvent, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	return m.repo.ListGuardrailEvents(ctx, m.sessionID)
}

// GetAgentConfig returns the stored configuration of an agent. Errors:
// session.ErrNotFound when the agent does not exist (never a nil config
// that hides a database error, unlike the original).
func (m *Manager) GetAgentConfig(ctx context.Context, agentID string) (*session.AgentConfig, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	a, err := m.repo.GetAgent(ctx, m.sessionID, agentID)
	if err != nil {
		return nil, fmt.Errorf("get agent config: %w", err)
	}
	return &a.Config, nil
}

// UpdateAgentConfig sets the non-nil fields of patch on the agent's stored
// configuration; prompt metadata is replaced as a whole. Errors:
// session.ErrNotFound for an agent that does not exist (no phantom agent is
// created); session.ErrInvalidArgument for an empty patch or a temperature
// outside [0, 2].
func (m *Manager) UpdateAgentConfig(ctx context.Context, agentID string, patch session.AgentConfigPatch) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	if patch.PromptMetadata != nil {
		if err := driver.ValidatePromptMetadata(patch.PromptMetadata); err != nil {
			return err
		}
	}
	if err := m.repo.UpdateAgentConfig(ctx, m.sessionID, agentID, patch); err != nil {
		return fmt.Errorf("update agent config: %w", err)
	}
	return nil
}

// SetPromptMetadata replaces the agent's prompt metadata (prompt id, name,
// version, deployment id and name, temperature in [0, 2]).
func (m *Manager) SetPromptMetadata(ctx context.Context, agentID string, pm session.PromptMetadata) error {
	return m.UpdateAgentConfig(ctx, agentID, session.AgentConfigPatch{PromptMetadata: &pm})
}

// AgentConfigEntry is one agent's configuration, as ListAgents returns it.
type AgentConfigEntry struct {
	AgentID string
	Config  session.AgentConfig
}

// ListAgents returns every agent of the session with its configuration,
// ordered by id, without loading any message.
func (m *Manager) ListAgents(ctx context.Context) ([]AgentConfigEntry, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	agents, err := m.repo.ListAgents(ctx, m.sessionID)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	out := make([]AgentConfigEntry, len(agents))
	for i, a := range agents {
		out[i] = AgentConfigEntry{AgentID: a.ID, Config: a.Config}
	}
	return out, nil
}

// MessageCount returns how many messages the agent has stored.
func (m *Manager) MessageCount(ctx context.Context, agentID string) (int, error) {
	if err := m.checkOpen(); err != nil {
		return 0, err
	}
	return m.repo.CountMessages(ctx, m.sessionID, agentID)
}
