package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// expirySchema is migration 5: a session's expiry (Unix microseconds, NULL
// for never) and a partial index over the sessions that have one, which the
// sweeper scans in expiry order.
const expirySchema = `
ALTER TABLE sessions ADD COLUMN expires_at INTEGER;
CREATE INDEX sessions_expiring ON sessions (expires_at) WHERE expires_at IS NOT NULL;
`

var _ session.ExpiryStore = (*Repository)(nil)

// expiryColumn is the stored form of an expiry: NULL for never.
func expiryColumn(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

// live reports errNoSession when sessionID has expired. A session that
// does not exist passes: the statement that follows reports it as it
// always has. One primary-key lookup inside the caller's transaction, so
// the answer holds for the whole transaction. The lookup is prepared once
// per connection (stmts, the pool tx belongs to).
func (r *Repository) live(ctx context.Context, stmts *stmtCache, tx *sql.Tx, sessionID string) error {
	q, err := stmts.in(ctx, tx, qSessionExpiry)
	if err != nil {
		return err
	}
	var expires sql.NullInt64
	err = q.QueryRowContext(ctx, sessionID).Scan(&expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case expires.Valid && expires.Int64 <= micros(r.now()):
		return errNoSession
	}
	return nil
}

// readLive is read for a call under one session: an expired session
// reads as not found.
func (r *Repository) readLive(ctx context.Context, sessionID, op string, fn func(tx *sql.Tx) error) error {
	return r.read(ctx, op, func(tx *sql.Tx) error {
		if err := r.live(ctx, r.rstmts, tx, sessionID); err != nil {
			return err
		}
		return fn(tx)
	})
}

// writeLive is write for a call under one session: writing under an
// expired session reports not found and writes nothing.
func (r *Repository) writeLive(ctx context.Context, sessionID, op string, fn func(tx *sql.Tx) error) error {
	return r.write(ctx, op, func(tx *sql.Tx) error {
		if err := r.live(ctx, r.wstmts, tx, sessionID); err != nil {
			return err
		}
		return fn(tx)
	})
}

// deleteExpired removes sessionID if it has expired; foreign keys cascade
// the delete to everything it owns.
func deleteExpired(ctx context.Context, tx *sql.Tx, sessionID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ? AND expires_at IS NOT NULL AND expires_at <= ?`,
		sessionID, micros(now))
	return err
}

// SetSessionExpiry implements session.ExpiryStore.
func (r *Repository) SetSessionExpiry(ctx context.Context, sessionID string, expiresAt time.Time) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return driver.SessionError(sessionID, err)
	}
	now := r.now()
	at, err := driver.PrepareExpiry(expiresAt, now)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	err = r.writeLive(ctx, sessionID, "set session expiry", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET expires_at = ?, updated_at = max(updated_at, ?) WHERE id = ?`,
			expiryColumn(at), micros(now), sessionID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errNoSession
		}
		return nil
	})
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	return nil
}

// SweepExpired implements session.ExpiryStore: one write transaction
// deletes the limit sessions that expired first (found on the
// sessions_expiring index); foreign keys cascade each delete to the
// session's metadata, agents, messages, feedback, guardrail events,
// multi-agent state and snapshots, so a session goes whole or not at all.
func (r *Repository) SweepExpired(ctx context.Context, limit int) (int, error) {
	if err := driver.ValidateSweepLimit(limit); err != nil {
		return 0, err
	}
	var n int64
	err := r.write(ctx, "sweep expired sessions", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id IN (
			SELECT id FROM sessions WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?)`,
			micros(r.now()), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

var _ session.IdleDeleter = (*Repository)(nil)

// DeleteSessionIfIdle implements session.IdleDeleter with one conditional
// DELETE (foreign keys cascade it to everything the session owns) in the
// transaction that checked the session is live; when it deletes nothing,
// one lookup by primary key tells a missing session from one written to
// since.
func (r *Repository) DeleteSessionIfIdle(ctx context.Context, sessionID string, before time.Time) (bool, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return false, driver.SessionError(sessionID, err)
	}
	if before.IsZero() {
		return false, driver.SessionError(sessionID, driver.InvalidArgument("before", "is zero"))
	}
	var deleted bool
	err := r.writeLive(ctx, sessionID, "delete idle session", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ? AND updated_at < ?`, sessionID, micros(before))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			deleted = err == nil
			return err
		}
		// Nothing deleted: written to since, or missing.
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE id = ?`, sessionID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return errNoSession
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return false, driver.SessionError(sessionID, err)
	}
	return deleted, nil
}
