package memory_test

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

// sharedView passes the orchestrator role through to the repository it
// shares, so the suite's peer cases cover multi-agent state too.

func (v sharedView) store() session.MultiAgentStore {
	return v.Repository.(session.MultiAgentStore)
}

func (v sharedView) CreateMultiAgent(ctx context.Context, sid string, m *session.MultiAgent) error {
	return v.store().CreateMultiAgent(ctx, sid, m)
}

func (v sharedView) GetMultiAgent(ctx context.Context, sid, id string) (*session.MultiAgent, error) {
	return v.store().GetMultiAgent(ctx, sid, id)
}

func (v sharedView) UpdateMultiAgent(ctx context.Context, sid string, m *session.MultiAgent) error {
	return v.store().UpdateMultiAgent(ctx, sid, m)
}

func (v sharedView) ListMultiAgents(ctx context.Context, sid string) ([]*session.MultiAgent, error) {
	return v.store().ListMultiAgents(ctx, sid)
}
