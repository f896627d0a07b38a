package memory

import (
	"context"
	"sort"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.MultiAgentStore = (*Repository)(nil)

// multiAgentSize estimates a stored orchestrator record, for the session
// budget (see size.go).
func multiAgentSize(m *session.MultiAgent) int {
	return recordOverhead + len(m.ID) + driver.ValueSize(m.State)
}

// CreateMultiAgent implements session.MultiAgentStore. The record lives in
// the session's entry, so DeleteSession drops it with the rest.
func (r *Repository) CreateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	now := r.now()
	rec, err := driver.PrepareMultiAgent(m, now)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	size := 0
	if r.limited() {
		size = multiAgentSize(rec)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return err
	}
	if _, taken := e.multi[rec.ID]; taken {
		return driver.MultiAgentError(sessionID, rec.ID, session.ErrAlreadyExists)
	}
	if err := r.fits(sessionID, e, size); err != nil {
		return err
	}
	if e.multi == nil {
		e.multi = map[string]*session.MultiAgent{}
	}
	e.multi[rec.ID] = rec
	r.grow(e, size)
	touch(e, now)
	return nil
}

// GetMultiAgent implements session.MultiAgentStore.
func (r *Repository) GetMultiAgent(ctx context.Context, sessionID, multiAgentID string) (*session.MultiAgent, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if err := driver.ValidateMultiAgentID(multiAgentID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	rec, ok := e.multi[multiAgentID]
	if !ok {
		return nil, driver.MultiAgentError(sessionID, multiAgentID, session.ErrNotFound)
	}
	return rec.Clone(), nil
}

// UpdateMultiAgent implements session.MultiAgentStore.
func (r *Repository) UpdateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	now := r.now()
	in, err := driver.PrepareMultiAgent(m, now)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return err
	}
	old, ok := e.multi[in.ID]
	if !ok {
		return driver.MultiAgentError(sessionID, in.ID, session.ErrNotFound)
	}
	next := &session.MultiAgent{ID: in.ID, State: in.State, CreatedAt: old.CreatedAt, UpdatedAt: now}
	delta := 0
	if r.limited() {
		delta = multiAgentSize(next) - multiAgentSize(old)
	}
	if err := r.fits(sessionID, e, delta); err != nil {
		return err
	}
	e.multi[in.ID] = next
	r.grow(e, delta)
	touch(e, now)
	return nil
}

// ListMultiAgents implements session.MultiAgentStore.
func (r *Repository) ListMultiAgents(ctx context.Context, sessionID string) ([]*session.MultiAgent, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	out := make([]*session.MultiAgent, 0, len(e.multi))
	for _, m := range e.multi {
		out = append(out, m.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
