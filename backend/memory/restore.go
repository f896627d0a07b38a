package memory

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.TimeRestorer = (*Repository)(nil)

// RestoreTimes implements session.TimeRestorer: under the write lock it
// checks that every named record exists, then sets the times, so either
// all are set or none.
func (r *Repository) RestoreTimes(ctx context.Context, sessionID string, t session.StoredTimes) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	p, err := driver.PrepareStoredTimes(t)
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
	for id := range p.Agents {
		if _, ok := e.agents[id]; !ok {
			return driver.AgentError(sessionID, id, session.ErrNotFound)
		}
	}
	for key := range p.Snapshots {
		if _, ok := e.snaps[key]; !ok {
			return driver.SnapshotError(sessionID, key, session.ErrNotFound)
		}
	}
	// Records are swapped, never changed in place, as every write here does.
	for id, at := range p.Agents {
		ae := e.agents[id]
		next := *ae.record
		next.UpdatedAt = at
		ae.record = &next
	}
	for key, at := range p.Snapshots {
		next := *e.snaps[key]
		next.info.UpdatedAt = at
		e.snaps[key] = &next
	}
	if !p.UpdatedAt.IsZero() || p.ForkedFrom != nil {
		next := *e.record
		if !p.UpdatedAt.IsZero() {
			next.UpdatedAt = p.UpdatedAt
		}
		if p.ForkedFrom != nil {
			next.ForkedFrom = p.ForkedFrom
		}
		e.record = &next
	}
	return nil
}
