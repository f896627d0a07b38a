package transfer

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
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
