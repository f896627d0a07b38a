package memory

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.ExpiryStore = (*Repository)(nil)

// sweepState holds the expiry sweeper. It starts with the first session
// that carries an expiry, so that a repository whose sessions never
// expire runs no goroutine, and stops at Close.
type sweepState struct {
	sweeper atomic.Pointer[driver.Sweeper]
}

// watchExpiry starts the sweeper when rec can expire. Callers hold the
// write lock on an open repository, which orders it before Close.
func (r *Repository) watchExpiry(rec *session.Session) {
	if rec.ExpiresAt.IsZero() || r.sweep.sweeper.Load() != nil {
		return
	}
	if sw := driver.StartSweeper(r.SweepExpired, r.opts.Sweep); sw != nil {
		r.sweep.sweeper.Store(sw)
	}
}

func (r *Repository) sweeperStats() map[string]float64 {
	return r.sweep.sweeper.Load().Stats()
}

// remove drops a session entry. Callers hold the write lock.
func (r *Repository) remove(id string, e *sessionEntry) {
	for _, a := range e.agents {
		r.messages -= len(a.messages)
	}
	delete(r.sessions, id)
}

// SetSessionExpiry implements session.ExpiryStore.
func (r *Repository) SetSessionExpiry(ctx context.Context, sessionID string, expiresAt time.Time) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	now := r.now()
	at, err := driver.PrepareExpiry(expiresAt, now)
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
	e.record.ExpiresAt = at
	touch(e, now)
	r.watchExpiry(e.record)
	return nil
}

// SweepExpired implements session.ExpiryStore: it drops at most limit
// expired sessions (with everything they own: it all lives in the entry)
// under the write lock.
func (r *Repository) SweepExpired(ctx context.Context, limit int) (int, error) {
	if err := begin(ctx); err != nil {
		return 0, err
	}
	if err := driver.ValidateSweepLimit(limit); err != nil {
		return 0, err
	}
	if err := r.lock(); err != nil {
		return 0, err
	}
	defer r.mu.Unlock()
	now := r.now()
	n := 0
	for id, e := range r.sessions {
		if n == limit {
			break
		}
		if session.Expired(e.record, now) {
			r.remove(id, e)
			n++
		}
	}
	return n, nil
}

var _ session.IdleDeleter = (*Repository)(nil)

// DeleteSessionIfIdle implements session.IdleDeleter: the check and the
// delete run under one hold of the write lock, so no write comes between.
func (r *Repository) DeleteSessionIfIdle(ctx context.Context, sessionID string, before time.Time) (bool, error) {
	if err := begin(ctx); err != nil {
		return false, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return false, err
	}
	if before.IsZero() {
		return false, driver.SessionError(sessionID, driver.InvalidArgument("before", "is zero"))
	}
	if err := r.lock(); err != nil {
		return false, err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return false, err
	}
	if !e.record.UpdatedAt.Before(before) {
		return false, nil
	}
	r.remove(sessionID, e)
	return true, nil
}
