package faultinject

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.MultiAgentStore = (*Repository)(nil)

// CreateMultiAgent implements session.MultiAgentStore by delegation; it
// fails with errors.ErrUnsupported when the wrapped repository lacks it.
func (r *Repository) CreateMultiAgent(ctx context.Context, sid string, m *session.MultiAgent) error {
	if err := r.before(ctx, "CreateMultiAgent"); err != nil {
		return err
	}
	ma, err := session.MultiAgentsOf(r.inner)
	if err != nil {
		return err
	}
	return r.afterWrite("CreateMultiAgent", ma.CreateMultiAgent(ctx, sid, m))
}

// GetMultiAgent implements session.MultiAgentStore by delegation.
func (r *Repository) GetMultiAgent(ctx context.Context, sid, id string) (*session.MultiAgent, error) {
	if err := r.before(ctx, "GetMultiAgent"); err != nil {
		return nil, err
	}
	ma, err := session.MultiAgentsOf(r.inner)
	if err != nil {
		return nil, err
	}
	return ma.GetMultiAgent(ctx, sid, id)
}

// UpdateMultiAgent implements session.MultiAgentStore by delegation.
func (r *Repository) UpdateMultiAgent(ctx context.Context, sid string, m *session.MultiAgent) error {
	if err := r.before(ctx, "UpdateMultiAgent"); err != nil {
		return err
	}
	ma, err := session.MultiAgentsOf(r.inner)
	if err != nil {
		return err
	}
	return r.afterWrite("UpdateMultiAgent", ma.UpdateMultiAgent(ctx, sid, m))
}

// ListMultiAgents implements session.MultiAgentStore by delegation.
func (r *Repository) ListMultiAgents(ctx context.Context, sid string) ([]*session.MultiAgent, error) {
	if err := r.before(ctx, "ListMultiAgents"); err != nil {
		return nil, err
	}
	ma, err := session.MultiAgentsOf(r.inner)
	if err != nil {
		return nil, err
	}
	return ma.ListMultiAgents(ctx, sid)
}
