package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var (
	errNoSession = fmt.Errorf("%w: no such session", session.ErrNotFound)
	errNoAgent   = fmt.Errorf("%w: no such agent", session.ErrNotFound)
	errNoMessage = fmt.Errorf("%w: no such message", session.ErrNotFound)
)

// sessionSize returns the session's tracked size, or errNoSession.
func sessionSize(ctx context.Context, tx *sql.Tx, sessionID string) (int64, error) {
	var size int64
	err := tx.QueryRowContext(ctx, `SELECT size_bytes FROM sessions WHERE id = ?`, sessionID).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoSession
	}
	return size, err
}

// touchSession records a write under the session: its size moves by delta
// (checked against MaxSessionBytes when it grows) and updated_at to now.
func (r *Repository) touchSession(ctx context.Context, tx *sql.Tx, sessionID string, size, delta int64) error {
	if err := r.checkSize(size, delta); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET size_bytes = size_bytes + ?, updated_at = ? WHERE id = ?`,
		delta, micros(r.now()), sessionID)
	return err
}

func (r *Repository) checkSize(size, delta int64) error {
	if max := r.opts.MaxSessionBytes; max > 0 && delta > 0 && size+delta > max {
		return fmt.Errorf("%w: session would hold %d bytes, over the %d-byte limit", session.ErrTooLarge, size+delta, max)
	}
	return nil
}

func metadataRowSize(key, value string) int64 { return int64(len(key) + len(value)) }

// CreateSession stores a new session and its initial metadata.
func (r *Repository) CreateSession(ctx context.Context, s *session.Session) error {
	var id string
	if s != nil {
		id = s.ID
	}
	p, err := driver.PrepareSession(s, r.now())
	if err != nil {
		return driver.SessionError(id, err)
	}
	keys, values, size, err := encodeMetadata(p.Metadata)
	if err != nil {
		return driver.SessionError(id, err)
	}
	if err := r.checkSize(0, size); err != nil {
		return driver.SessionError(id, err)
	}
	err = r.write(ctx, "create session", func(tx *sql.Tx) error {
		// An expired session's id is free: its rows go first (cascading).
		if err := deleteExpired(ctx, tx, p.ID, r.now()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions
			(id, type, application_name, viewer_password_hash, created_at, updated_at, size_bytes, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			p.ID, string(p.Type), p.ApplicationName, p.ViewerPasswordHash, micros(p.CreatedAt), micros(p.UpdatedAt), size,
			expiryColumn(p.ExpiresAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return session.ErrAlreadyExists
		}
		return upsertMetadata(ctx, tx, p.ID, keys, values)
	})
	if err != nil {
		return driver.SessionError(id, err)
	}
	return nil
}

// encodeMetadata encodes a normalized metadata map into parallel key and
// value slices, with their total row size.
func encodeMetadata(md map[string]any) (keys, values []string, size int64, err error) {
	for k, v := range md {
		b, err := driver.MarshalValueJSON(v)
		if err != nil {
			return nil, nil, 0, err
		}
		keys = append(keys, k)
		values = append(values, string(b))
		size += metadataRowSize(k, string(b))
	}
	return keys, values, size, nil
}

func upsertMetadata(ctx context.Context, tx *sql.Tx, sessionID string, keys, values []string) error {
	if len(keys) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO session_metadata (session_id, key, value, size_bytes)
		VALUES (?, ?, ?, ?) ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value, size_bytes = excluded.size_bytes`)
	if err != nil {
		return err
	}
	defer func() { _ = stmt.Close() }()
	for i, k := range keys {
		if _, err := stmt.ExecContext(ctx, sessionID, k, values[i], metadataRowSize(k, values[i])); err != nil {
			return err
		}
	}
	return nil
}

// GetSession returns a session with its metadata.
func (r *Repository) GetSession(ctx context.Context, sessionID string) (*session.Session, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	var out *session.Session
	err := r.readLive(ctx, sessionID, "get session", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, sessionColumns+` WHERE id = ?`, sessionID)
		if err != nil {
			return err
		}
		list, err := scanSessions(rows)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errNoSession
		}
		out = list[0]
		if err := loadMetadata(ctx, tx, list); err != nil {
			return err
		}
		return loadForks(ctx, tx, list)
	})
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	return out, nil
}

const sessionColumns = `SELECT id, type, application_name, viewer_password_hash, created_at, updated_at, expires_at FROM sessions`

func scanSessions(rows *sql.Rows) ([]*session.Session, error) {
	defer func() { _ = rows.Close() }()
	var out []*session.Session
	for rows.Next() {
		var s session.Session
		var typ string
		var created, updated int64
		var expires sql.NullInt64
		if err := rows.Scan(&s.ID, &typ, &s.ApplicationName, &s.ViewerPasswordHash, &created, &updated, &expires); err != nil {
			return nil, err
		}
		s.Type = session.Type(typ)
		s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
		if expires.Valid {
			s.ExpiresAt = fromMicros(expires.Int64)
		}
		s.Metadata = map[string]any{}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// loadMetadata fills the Metadata of each session in list.
func loadMetadata(ctx context.Context, tx *sql.Tx, list []*session.Session) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*session.Session, len(list))
	args := make([]any, len(list))
	for i, s := range list {
		byID[s.ID] = s
		args[i] = s.ID
	}
	q := `SELECT session_id, key, value FROM session_metadata WHERE session_id IN (?` +
		strings.Repeat(", ?", len(list)-1) + `)`
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var sid, key, value string
		if err := rows.Scan(&sid, &key, &value); err != nil {
			return err
		}
		v, err := decodeValue("metadata."+key, value)
		if err != nil {
			return err
		}
		byID[sid].Metadata[key] = v
	}
	return rows.Err()
}

// DeleteSession removes a session; foreign keys cascade the delete to its
// agents, messages, metadata, feedback and guardrail events.
func (r *Repository) DeleteSession(ctx context.Context, sessionID string) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return driver.SessionError(sessionID, err)
	}
	err := r.writeLive(ctx, sessionID, "delete session", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, sessionID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoSession
		}
		return nil
	})
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	return nil
}

// ListSessions returns one page of sessions, newest first. Filters run in
// SQL on indexed columns; metadata filters compare the canonical JSON
// encoding, then every row is re-checked with SessionQuery.Matches so the
// result agrees with the other backends.
func (r *Repository) ListSessions(ctx context.Context, q session.SessionQuery) (session.SessionPage, error) {
	q, cur, err := driver.PrepareQuery(q)
	if err != nil {
		return session.SessionPage{}, err
	}
	// Expired sessions not swept yet are left out.
	where := []string{"(expires_at IS NULL OR expires_at > ?)"}
	args := []any{micros(r.now())}
	if q.ApplicationName != "" {
		where, args = append(where, "application_name = ?"), append(args, q.ApplicationName)
	}
	if q.Type != "" {
		where, args = append(where, "type = ?"), append(args, string(q.Type))
	}
	if q.IDPrefix != "" {
		where, args = append(where, "id >= ?"), append(args, q.IDPrefix)
		if upper, ok := prefixUpperBound(q.IDPrefix); ok {
			where, args = append(where, "id < ?"), append(args, upper)
		}
	}
	if !q.CreatedFrom.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, ceilMicros(q.CreatedFrom))
	}
	if !q.CreatedTo.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, ceilMicros(q.CreatedTo))
	}
	for k, v := range q.Metadata {
		b, err := driver.MarshalValueJSON(v)
		if err != nil {
			return session.SessionPage{}, err
		}
		where = append(where, "EXISTS (SELECT 1 FROM session_metadata m WHERE m.session_id = sessions.id AND m.key = ? AND m.value = ?)")
		args = append(args, k, string(b))
	}
	where, args = forkFilter(q, where, args)
	if cur != nil {
		c := ceilMicros(cur.CreatedAt)
		if cur.CreatedAt.Nanosecond()%1000 != 0 {
			// No stored time equals the cursor's: everything before it.
			where, args = append(where, "created_at < ?"), append(args, c)
		} else {
			where = append(where, "(created_at < ? OR (created_at = ? AND id < ?))")
			args = append(args, c, c, cur.ID)
		}
	}
	query := sessionColumns
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, q.Limit+1)

	var page session.SessionPage
	err = r.read(ctx, "list sessions", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		list, err := scanSessions(rows)
		if err != nil {
			return err
		}
		page = session.SessionPage{}
		if len(list) > q.Limit {
			list = list[:q.Limit]
			last := list[len(list)-1]
			page.NextCursor = driver.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.Encode()
		}
		if err := loadMetadata(ctx, tx, list); err != nil {
			return err
		}
		if err := loadForks(ctx, tx, list); err != nil {
			return err
		}
		page.Sessions = make([]*session.Session, 0, len(list))
		for _, s := range list {
			if q.Matches(s) {
				page.Sessions = append(page.Sessions, s)
			}
		}
		return nil
	})
	if err != nil {
		return session.SessionPage{}, err
	}
	return page, nil
}

// prefixUpperBound returns the smallest string greater than every string
// starting with prefix, in SQLite's BINARY (byte-wise) order, which is Go's.
func prefixUpperBound(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// UpdateMetadata sets the given keys; each key is its own row, so other
// keys are untouched and no read-modify-write of a document is involved.
func (r *Repository) UpdateMetadata(ctx context.Context, sessionID string, metadata map[string]any) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return driver.SessionError(sessionID, err)
	}
	md, err := driver.PrepareMetadata(metadata)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	keys, values, newSize, err := encodeMetadata(md)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	err = r.writeLive(ctx, sessionID, "update metadata", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		old, err := metadataSize(ctx, tx, sessionID, keys)
		if err != nil {
			return err
		}
		if err := r.touchSession(ctx, tx, sessionID, size, newSize-old); err != nil {
			return err
		}
		return upsertMetadata(ctx, tx, sessionID, keys, values)
	})
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	return nil
}

func metadataSize(ctx context.Context, tx *sql.Tx, sessionID string, keys []string) (int64, error) {
	args := make([]any, 0, len(keys)+1)
	args = append(args, sessionID)
	for _, k := range keys {
		args = append(args, k)
	}
	var size int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(size_bytes), 0) FROM session_metadata
		WHERE session_id = ? AND key IN (?`+strings.Repeat(", ?", len(keys)-1)+`)`, args...).Scan(&size)
	return size, err
}

// GetMetadata returns the session's metadata (empty, never nil).
func (r *Repository) GetMetadata(ctx context.Context, sessionID string) (map[string]any, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	s := &session.Session{ID: sessionID, Metadata: map[string]any{}}
	err := r.readLive(ctx, sessionID, "get metadata", func(tx *sql.Tx) error {
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		return loadMetadata(ctx, tx, []*session.Session{s})
	})
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	return s.Metadata, nil
}

// DeleteMetadata removes the named keys; absent keys are ignored.
func (r *Repository) DeleteMetadata(ctx context.Context, sessionID string, keys []string) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return driver.SessionError(sessionID, err)
	}
	keys, err := driver.PrepareMetadataKeys(keys)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	err = r.writeLive(ctx, sessionID, "delete metadata", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		old, err := metadataSize(ctx, tx, sessionID, keys)
		if err != nil {
			return err
		}
		args := make([]any, 0, len(keys)+1)
		args = append(args, sessionID)
		for _, k := range keys {
			args = append(args, k)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM session_metadata WHERE session_id = ? AND key IN (?`+
			strings.Repeat(", ?", len(keys)-1)+`)`, args...); err != nil {
			return err
		}
		return r.touchSession(ctx, tx, sessionID, size, -old)
	})
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	return nil
}
