package sqlite

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.TimeRestorer = (*Repository)(nil)

// RestoreTimes implements session.TimeRestorer in one transaction: every
// time is set or none is.
func (r *Repository) RestoreTimes(ctx context.Context, sessionID string, t session.StoredTimes) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return driver.SessionError(sessionID, err)
	}
	p, err := driver.PrepareStoredTimes(t)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	// failed names the record a failure concerns, for the returned error.
	var failed func(error) error
	err = r.writeLive(ctx, sessionID, "restore times", func(tx *sql.Tx) error {
		failed = nil
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		for _, id := range slices.Sorted(maps.Keys(p.Agents)) {
			if err := setTime(ctx, tx, `UPDATE agents SET updated_at = ? WHERE session_id = ? AND id = ?`,
				p.Agents[id], sessionID, id, errNoAgent); err != nil {
				failed = func(err error) error { return driver.AgentError(sessionID, id, err) }
				return err
			}
		}
		for _, key := range slices.Sorted(maps.Keys(p.Snapshots)) {
			if err := setTime(ctx, tx, `UPDATE snapshots SET updated_at = ? WHERE session_id = ? AND key = ?`,
				p.Snapshots[key], sessionID, key, errNoSnapshot); err != nil {
				failed = func(err error) error { return driver.SnapshotError(sessionID, key, err) }
				return err
			}
		}
		if o := p.ForkedFrom; o != nil {
			var messageID sql.NullInt64
			if o.MessageID != nil {
				messageID = sql.NullInt64{Int64: int64(*o.MessageID), Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO session_forks
				(session_id, source_session_id, source_agent_id, source_message_id, forked_at) VALUES (?, ?, ?, ?, ?)`,
				sessionID, o.SessionID, o.AgentID, messageID, micros(o.At)); err != nil {
				return err
			}
		}
		if p.UpdatedAt.IsZero() {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET updated_at = ? WHERE id = ?`, micros(p.UpdatedAt), sessionID)
		return err
	})
	switch {
	case err == nil:
		return nil
	case failed != nil:
		return failed(err)
	default:
		return driver.SessionError(sessionID, err)
	}
}

// setTime runs an UPDATE of one row's updated_at and reports missing when
// no row matched.
func setTime(ctx context.Context, tx *sql.Tx, query string, at time.Time, sessionID, id string, missing error) error {
	res, err := tx.ExecContext(ctx, query, micros(at), sessionID, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = missing
		}
		return err
	}
	return nil
}
