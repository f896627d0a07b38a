package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// forkSchema is migration 6: where each fork came from. It is a table of its
// own rather than columns of sessions so that sessions that are not forks
// pay nothing, and the reverse lookup (the forks of a session) has its own
// index. The row goes with the fork (ON DELETE CASCADE); the source id is
// not a foreign key, so lineage outlives a deleted source.
const forkSchema = `
CREATE TABLE session_forks (
	session_id        TEXT    NOT NULL PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
	source_session_id TEXT    NOT NULL,
	source_agent_id   TEXT    NOT NULL, -- '' for a whole-session fork
	source_message_id INTEGER,          -- last message copied; NULL for a whole-session fork
	forked_at         INTEGER NOT NULL  -- Unix microseconds, UTC
) WITHOUT ROWID;
CREATE INDEX session_forks_by_source ON session_forks (source_session_id);
`

var _ session.Forker = (*Repository)(nil)

// forkStmt is one statement of a fork's transaction.
type forkStmt struct {
	query string
	args  []any
}

// ForkSession implements session.Forker in one write transaction: every
// table is copied with INSERT … SELECT inside the database, so the cost
// does not depend on a client loop over messages, and an error anywhere
// (the new id taken, a size limit) rolls the whole fork back. Messages are
// inserted in id order from a message_count of 0, so the dense-id trigger
// accepts them and counts them.
func (r *Repository) ForkSession(ctx context.Context, req session.ForkRequest) (*session.Session, error) {
	req, err := driver.PrepareFork(req)
	if err != nil {
		return nil, driver.ForkError(req, err)
	}
	now := r.now()
	var out *session.Session
	// writeLive: an expired source reads as not found.
	err = r.writeLive(ctx, req.SourceID, "fork session", func(tx *sql.Tx) error {
		// An expired session's id is free again, as for CreateSession.
		if err := deleteExpired(ctx, tx, req.ID, now); err != nil {
			return err
		}
		n, truncated := 0, false
		if req.AgentID == "" {
			if _, err := sessionSize(ctx, tx, req.SourceID); err != nil {
				return driver.SessionError(req.SourceID, err)
			}
		} else {
			count, err := agentCount(ctx, tx, req.SourceID, req.AgentID)
			if err != nil {
				return driver.AgentError(req.SourceID, req.AgentID, err)
			}
			if n, truncated, err = driver.ForkCut(req, count); err != nil {
				return err
			}
		}
		origin := driver.NewForkOrigin(req, n, now)
		if err := r.copySession(ctx, tx, req, origin, n, truncated); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, sessionColumns+` WHERE id = ?`, req.ID)
		if err != nil {
			return err
		}
		list, err := scanSessions(rows)
		if err != nil {
			return err
		}
		if len(list) != 1 {
			return errors.New("the fork vanished within its own transaction")
		}
		out = list[0]
		if err := loadMetadata(ctx, tx, list); err != nil {
			return err
		}
		out.ForkedFrom = origin
		return nil
	})
	if err != nil {
		return nil, driver.ForkError(req, err)
	}
	return out, nil
}

// copySession runs the INSERT … SELECT statements of a fork; n and
// truncated are ForkCut's for an agent fork.
func (r *Repository) copySession(ctx context.Context, tx *sql.Tx, req session.ForkRequest, origin *session.ForkOrigin, n int, truncated bool) error {
	at := micros(origin.At)
	res, err := tx.ExecContext(ctx, `INSERT INTO sessions
		(id, type, application_name, viewer_password_hash, created_at, updated_at, size_bytes, expires_at)
		SELECT ?, type, application_name, ?, ?, ?, 0, expires_at FROM sessions WHERE id = ?
		ON CONFLICT (id) DO NOTHING`, req.ID, req.ViewerPasswordHash, at, at, req.SourceID)
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil {
		return err
	} else if k == 0 {
		return driver.SessionError(req.ID, session.ErrAlreadyExists)
	}
	var messageID sql.NullInt64
	if origin.MessageID != nil {
		messageID = sql.NullInt64{Int64: int64(*origin.MessageID), Valid: true}
	}
	stmts := []forkStmt{
		{`INSERT INTO session_forks (session_id, source_session_id, source_agent_id, source_message_id, forked_at)
			VALUES (?, ?, ?, ?, ?)`, []any{req.ID, req.SourceID, req.AgentID, messageID, at}},
		{`INSERT INTO session_metadata (session_id, key, value, size_bytes)
			SELECT ?, key, value, size_bytes FROM session_metadata WHERE session_id = ?`, []any{req.ID, req.SourceID}},
	}
	if req.AgentID == "" {
		stmts = append(stmts, []forkStmt{
			{`INSERT INTO agents (session_id, id, state, conversation_manager_state, internal_state, config,
				message_count, size_bytes, created_at, updated_at)
				SELECT ?, id, state, conversation_manager_state, internal_state, config, 0, size_bytes, created_at, updated_at
				FROM agents WHERE session_id = ?`, []any{req.ID, req.SourceID}},
			{`INSERT INTO messages (session_id, agent_id, message_id, message, redact_message, event_loop_metrics,
				guardrail_event, size_bytes, created_at, updated_at)
				SELECT ?, agent_id, message_id, message, redact_message, event_loop_metrics, guardrail_event, size_bytes,
				created_at, updated_at FROM messages WHERE session_id = ? ORDER BY agent_id, message_id`, []any{req.ID, req.SourceID}},
			{`INSERT INTO multi_agents (session_id, id, state, size_bytes, created_at, updated_at)
				SELECT ?, id, state, size_bytes, created_at, updated_at FROM multi_agents WHERE session_id = ?`, []any{req.ID, req.SourceID}},
			{`INSERT INTO snapshots (session_id, key, size_bytes, updated_at, data)
				SELECT ?, key, size_bytes, updated_at, data FROM snapshots WHERE session_id = ?`, []any{req.ID, req.SourceID}},
		}...)
	} else {
		agent, err := r.forkedAgentRow(ctx, tx, req, truncated)
		if err != nil {
			return err
		}
		stmts = append(stmts, agent, forkStmt{`INSERT INTO messages (session_id, agent_id, message_id, message, redact_message, event_loop_metrics,
				guardrail_event, size_bytes, created_at, updated_at)
				SELECT ?, agent_id, message_id, message, redact_message, event_loop_metrics, guardrail_event, size_bytes,
				created_at, updated_at FROM messages WHERE session_id = ? AND agent_id = ? AND message_id < ?
				ORDER BY message_id`, []any{req.ID, req.SourceID, req.AgentID, n}})
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			return err
		}
	}
	// The fork's size is what its rows add up to, as the writes that would
	// have built it count them (feedback and guardrail events are not
	// copied).
	var size int64
	if err := tx.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(SUM(size_bytes), 0) FROM session_metadata WHERE session_id = ?1) +
		(SELECT COALESCE(SUM(size_bytes), 0) FROM agents WHERE session_id = ?1) +
		(SELECT COALESCE(SUM(size_bytes), 0) FROM messages WHERE session_id = ?1) +
		(SELECT COALESCE(SUM(size_bytes), 0) FROM multi_agents WHERE session_id = ?1) +
		(SELECT COALESCE(SUM(length(CAST(key AS BLOB)) + size_bytes), 0) FROM snapshots WHERE session_id = ?1)`,
		req.ID).Scan(&size); err != nil {
		return err
	}
	if err := r.checkSize(0, size); err != nil {
		return driver.SessionError(req.ID, err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE sessions SET size_bytes = ? WHERE id = ?`, size, req.ID)
	return err
}

// forkedAgentRow returns the statement that copies the agent of an agent
// fork. An agent whose log is cut gets the state of a fresh agent in place
// of its conversation-manager and internal state (driver.ForkCutAgent),
// so its one row is read, changed and written here; the messages never
// leave the database.
func (r *Repository) forkedAgentRow(ctx context.Context, tx *sql.Tx, req session.ForkRequest, truncated bool) (forkStmt, error) {
	if !truncated {
		return forkStmt{`INSERT INTO agents (session_id, id, state, conversation_manager_state, internal_state, config,
			message_count, size_bytes, created_at, updated_at)
			SELECT ?, id, state, conversation_manager_state, internal_state, config, 0, size_bytes, created_at, updated_at
			FROM agents WHERE session_id = ? AND id = ?`, []any{req.ID, req.SourceID, req.AgentID}}, nil
	}
	rows, err := tx.QueryContext(ctx, agentColumns+` WHERE session_id = ? AND id = ?`, req.SourceID, req.AgentID)
	if err != nil {
		return forkStmt{}, err
	}
	list, err := scanAgents(rows)
	if err != nil {
		return forkStmt{}, err
	}
	if len(list) != 1 {
		return forkStmt{}, driver.AgentError(req.SourceID, req.AgentID, errNoAgent)
	}
	a := driver.ForkCutAgent(list[0])
	enc, err := encodeAgent(a)
	if err != nil {
		return forkStmt{}, err
	}
	return forkStmt{`INSERT INTO agents (session_id, id, state, conversation_manager_state, internal_state, config,
		message_count, size_bytes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
		[]any{req.ID, a.ID, enc.state, enc.cms, enc.internal, enc.config, enc.size(a.ID), micros(a.CreatedAt), micros(a.UpdatedAt)}}, nil
}

// loadForks fills the ForkedFrom of each session in list that is a fork.
func loadForks(ctx context.Context, tx *sql.Tx, list []*session.Session) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*session.Session, len(list))
	args := make([]any, len(list))
	for i, s := range list {
		byID[s.ID] = s
		args[i] = s.ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT session_id, source_session_id, source_agent_id, source_message_id, forked_at
		FROM session_forks WHERE session_id IN (?`+strings.Repeat(", ?", len(list)-1)+`)`, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id string
		var o session.ForkOrigin
		var messageID sql.NullInt64
		var at int64
		if err := rows.Scan(&id, &o.SessionID, &o.AgentID, &messageID, &at); err != nil {
			return err
		}
		if messageID.Valid {
			m := int(messageID.Int64)
			o.MessageID = &m
		}
		o.At = fromMicros(at)
		byID[id].ForkedFrom = &o
	}
	return rows.Err()
}

// forkFilter is the ListSessions condition of SessionQuery.ForkedFrom.
func forkFilter(q session.SessionQuery, where []string, args []any) ([]string, []any) {
	if q.ForkedFrom == "" {
		return where, args
	}
	return append(where, "id IN (SELECT session_id FROM session_forks WHERE source_session_id = ?)"),
		append(args, q.ForkedFrom)
}
