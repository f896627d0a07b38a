package transfer

import (
	"context"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/wire"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// writeMultiAgents stores p's orchestrator records. A repository without
// session.MultiAgentStore fails the import (errors.ErrUnsupported) rather
// than dropping them.
func (p *plan) writeMultiAgents(ctx context.Context, repo session.Repository) error {
	if len(p.multiAgents) == 0 {
		return nil
	}
	ma, err := session.MultiAgentsOf(repo)
	if err != nil {
		return err
	}
	for _, m := range p.multiAgents {
		if err := ma.CreateMultiAgent(ctx, p.session.ID, m); err != nil {
			return err
		}
	}
	return nil
}

// listMultiAgents returns the session's orchestrator records, or none when
// the repository does not store them.
func listMultiAgents(ctx context.Context, repo session.Repository, id string) ([]*session.MultiAgent, error) {
	ma, ok := repo.(session.MultiAgentStore)
	if !ok {
		return nil, nil
	}
	return ma.ListMultiAgents(ctx, id)
}

// readMultiAgents returns the session's orchestrator records in wire form
// for the JSON Lines export.
func readMultiAgents(ctx context.Context, repo session.Repository, id string) ([]*wire.MultiAgent, error) {
	list, err := listMultiAgents(ctx, repo, id)
	if err != nil {
		return nil, err
	}
	var out []*wire.MultiAgent
	for _, m := range list {
		wm, err := wire.FromMultiAgent(m)
		if err != nil {
			return nil, driver.SessionError(id, err)
		}
		out = append(out, wm)
	}
	return out, nil
}

// decodeMultiAgents converts and validates a record's orchestrators.
func decodeMultiAgents(sessionID string, in []*wire.MultiAgent) ([]*session.MultiAgent, error) {
	var out []*session.MultiAgent
	for i, wm := range in {
		if wm == nil {
			return nil, driver.SessionError(sessionID, driver.InvalidArgument("multi_agents", "null entry %d", i))
		}
		m, err := wm.ToMultiAgent()
		if err == nil {
			_, err = driver.PrepareMultiAgent(m, m.CreatedAt)
		}
		if err != nil {
			return nil, driver.MultiAgentError(sessionID, wm.MultiAgentID, err)
		}
		out = append(out, m)
	}
	return out, nil
}
