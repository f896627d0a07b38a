package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Snapshots live in the snapshots table (schema version 4), one row per
// (session, key) with the bytes in one BLOB, so an overwrite is one
// statement in one transaction and a reader's transaction sees the old row
// or the new one, never a mix. The BLOB is the last column, so listing
// (key, size, time) never walks its overflow pages, and the table keeps a
// rowid because SQLite stores large BLOBs better in rowid tables. The
// foreign key cascades, so DeleteSession removes the rows with the session.
// A row's key and bytes count towards MaxSessionBytes.

const snapshotsSchema = `
CREATE TABLE snapshots (
	session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	key        TEXT    NOT NULL, -- session.NormalizeSnapshotKey
	size_bytes INTEGER NOT NULL, -- length(data)
	updated_at INTEGER NOT NULL,
	data       BLOB    NOT NULL, -- stored as given, never parsed
	UNIQUE (session_id, key)
);
`

var _ session.SnapshotStore = (*Repository)(nil)

var errNoSnapshot = fmt.Errorf("%w: no such snapshot", session.ErrNotFound)

func snapshotRowSize(key string, n int) int64 { return int64(len(key) + n) }

// PutSnapshot implements session.SnapshotStore.
func (r *Repository) PutSnapshot(ctx context.Context, sessionID, key string, data []byte) (*session.SnapshotInfo, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	norm, err := driver.NormalizeSnapshotKey(key)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	if err := driver.CheckSnapshotSize(int64(len(data)), r.opts.MaxSnapshotBytes); err != nil {
		return nil, driver.SnapshotError(sessionID, norm, err)
	}
	if data == nil {
		data = []byte{} // an empty BLOB, not NULL
	}
	now := r.now()
	err = r.writeLive(ctx, sessionID, "put snapshot", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		var old int64
		err = tx.QueryRowContext(ctx, `SELECT length(key) + size_bytes FROM snapshots WHERE session_id = ? AND key = ?`,
			sessionID, norm).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := r.touchSession(ctx, tx, sessionID, size, snapshotRowSize(norm, len(data))-old); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO snapshots (session_id, key, size_bytes, updated_at, data)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (session_id, key) DO UPDATE SET
				size_bytes = excluded.size_bytes, updated_at = excluded.updated_at, data = excluded.data`,
			sessionID, norm, len(data), micros(now), data)
		return err
	})
	if err != nil {
		return nil, driver.SnapshotError(sessionID, norm, err)
	}
	return &session.SnapshotInfo{Key: norm, SizeBytes: int64(len(data)), UpdatedAt: now}, nil
}

// GetSnapshot implements session.SnapshotStore.
func (r *Repository) GetSnapshot(ctx context.Context, sessionID, key string) (*session.Snapshot, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	norm, err := driver.NormalizeSnapshotKey(key)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	out := &session.Snapshot{SnapshotInfo: session.SnapshotInfo{Key: norm}}
	err = r.readLive(ctx, sessionID, "get snapshot", func(tx *sql.Tx) error {
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		var updated int64
		err := tx.QueryRowContext(ctx, `SELECT size_bytes, updated_at, data FROM snapshots WHERE session_id = ? AND key = ?`,
			sessionID, norm).Scan(&out.SizeBytes, &updated, &out.Data)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoSnapshot
		}
		out.UpdatedAt = fromMicros(updated)
		return err
	})
	if err != nil {
		return nil, driver.SnapshotError(sessionID, norm, err)
	}
	if out.Data == nil {
		out.Data = []byte{}
	}
	return out, nil
}

// DeleteSnapshot implements session.SnapshotStore.
func (r *Repository) DeleteSnapshot(ctx context.Context, sessionID, key string) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return driver.SessionError(sessionID, err)
	}
	norm, err := driver.NormalizeSnapshotKey(key)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	err = r.writeLive(ctx, sessionID, "delete snapshot", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		var old int64
		err = tx.QueryRowContext(ctx, `DELETE FROM snapshots WHERE session_id = ? AND key = ?
			RETURNING length(key) + size_bytes`, sessionID, norm).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // deleting a missing key is a no-op
		} else if err != nil {
			return err
		}
		return r.touchSession(ctx, tx, sessionID, size, -old)
	})
	if err != nil {
		return driver.SnapshotError(sessionID, norm, err)
	}
	return nil
}

// ListSnapshots implements session.SnapshotStore. The prefix is a key
// range: every key starting with p lies in [p, p+"\xff"), because valid
// UTF-8 never holds the byte 0xff, so the unique index serves the query.
func (r *Repository) ListSnapshots(ctx context.Context, sessionID string, q session.SnapshotQuery) (*session.SnapshotPage, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	q, err := driver.PrepareSnapshotQuery(q)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	query := `SELECT key, size_bytes, updated_at FROM snapshots WHERE session_id = ? AND key > ?`
	args := []any{sessionID, q.Cursor}
	if q.Prefix != "" {
		query += ` AND key >= ? AND key < ?`
		args = append(args, q.Prefix, q.Prefix+"\xff")
	}
	query += ` ORDER BY key LIMIT ?`
	args = append(args, q.Limit+1)
	infos := []session.SnapshotInfo{}
	err = r.readLive(ctx, sessionID, "list snapshots", func(tx *sql.Tx) error {
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var info session.SnapshotInfo
			var updated int64
			if err := rows.Scan(&info.Key, &info.SizeBytes, &updated); err != nil {
				return err
			}
			info.UpdatedAt = fromMicros(updated)
			infos = append(infos, info)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	return driver.SnapshotPageOf(infos, q.Limit), nil
}
