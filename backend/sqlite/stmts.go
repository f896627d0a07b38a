package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache holds the prepared statements of one pool (the writer or the
// readers), each parsed once per connection: database/sql prepares a
// *sql.Stmt on a connection the first time it runs there and reuses it
// after, where a query string passed to ExecContext is parsed anew on every
// call. The hot statements — the append, the agent sync, the message update
// and the resume reads — go through it; rarer ones do not. They are all
// prepared when the repository opens: preparing on the pool later, inside a
// transaction, would wait for a second connection the single writer does
// not have.
type stmtCache struct {
	mu     sync.Mutex
	closed bool
	m      map[string]*sql.Stmt
}

// newStmtCache prepares queries on db.
func newStmtCache(ctx context.Context, db *sql.DB, queries ...string) (*stmtCache, error) {
	c := &stmtCache{m: make(map[string]*sql.Stmt, len(queries))}
	for _, q := range queries {
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			_ = c.close()
			return nil, fmt.Errorf("prepare statement: %w", err)
		}
		c.m[q] = s
	}
	return c, nil
}

// in returns the statement for query bound to tx, a transaction of the
// pool c was prepared on. The query must be one given to newStmtCache.
func (c *stmtCache) in(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	s, ok := c.m[query]
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return nil, sql.ErrConnDone
	case !ok:
		return nil, fmt.Errorf("sqlite: statement not prepared: %q", query)
	}
	return tx.StmtContext(ctx, s), nil
}

// close closes every statement; in fails after it.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var first error
	for _, s := range c.m {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	clear(c.m)
	return first
}

// The writer's hot statements.
const (
	// qAppendTouch grows the session by the new row's size and touches it,
	// returning the new size (checked against the limit: a write over it
	// rolls back) and the agent's message count (NULL without the agent),
	// so that an append reads and writes the session row in one statement.
	qAppendTouch = `UPDATE sessions SET size_bytes = size_bytes + ?, updated_at = ? WHERE id = ?
		RETURNING size_bytes, (SELECT message_count FROM agents WHERE session_id = ? AND id = ?)`
	qInsertMessage = `INSERT INTO messages (session_id, agent_id, message_id, message, redact_message,
		event_loop_metrics, guardrail_event, size_bytes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qTouchSession = `UPDATE sessions SET size_bytes = size_bytes + ?, updated_at = ? WHERE id = ?`
	// qAgentForUpdate reads the session's size and the agent's size and
	// configuration: no row without the session, NULLs without the agent.
	qAgentForUpdate = `SELECT s.size_bytes, a.size_bytes, a.config FROM sessions s
		LEFT JOIN agents a ON a.session_id = s.id AND a.id = ? WHERE s.id = ?`
	qUpdateAgent = `UPDATE agents SET state = ?, conversation_manager_state = ?, internal_state = ?,
		size_bytes = ?, updated_at = ? WHERE session_id = ? AND id = ?`
	// qMessageForUpdate reads the session's size, the agent's count (NULL
	// without the agent) and the message's metrics, event and size (NULL
	// without the message): no row without the session.
	qMessageForUpdate = `SELECT s.size_bytes, (SELECT message_count FROM agents WHERE session_id = s.id AND id = ?),
		m.event_loop_metrics, m.guardrail_event, m.size_bytes FROM sessions s
		LEFT JOIN messages m ON m.session_id = s.id AND m.agent_id = ? AND m.message_id = ? WHERE s.id = ?`
	qUpdateMessage = `UPDATE messages SET message = ?, redact_message = ?, event_loop_metrics = ?,
		guardrail_event = ?, size_bytes = ?, updated_at = ? WHERE session_id = ? AND agent_id = ? AND message_id = ?`
)

// qSessionExpiry reads a session's expiry for the live check (expiry.go)
// that every call under a session makes, in both pools.
const qSessionExpiry = `SELECT expires_at FROM sessions WHERE id = ?`

// The readers' hot statements.
const (
	qAgentCount = `SELECT (SELECT message_count FROM agents WHERE session_id = ? AND id = ?),
		EXISTS (SELECT 1 FROM sessions WHERE id = ?)`
	qListMessages = messageColumns + ` WHERE session_id = ? AND agent_id = ? AND message_id >= ?
		ORDER BY message_id LIMIT ?`
	qGetAgent = agentColumns + ` WHERE session_id = ? AND id = ?`
)

var (
	writerStatements = []string{qAppendTouch, qInsertMessage, qTouchSession, qAgentForUpdate, qUpdateAgent, qMessageForUpdate, qUpdateMessage, qSessionExpiry}
	readerStatements = []string{qAgentCount, qListMessages, qGetAgent, qSessionExpiry}
)

// countIn reads the agent's message count in tx, a read transaction,
// through the prepared statement (agentCount's query and errors).
func (r *Repository) countIn(ctx context.Context, tx *sql.Tx, sessionID, agentID string) (int, error) {
	s, err := r.rstmts.in(ctx, tx, qAgentCount)
	if err != nil {
		return 0, err
	}
	var count sql.NullInt64
	var hasSession bool
	if err := s.QueryRowContext(ctx, sessionID, agentID, sessionID).Scan(&count, &hasSession); err != nil {
		return 0, err
	}
	switch {
	case !hasSession:
		return 0, errNoSession
	case !count.Valid:
		return 0, errNoAgent
	}
	return int(count.Int64), nil
}

// touchIn is touchSession through the prepared statement, in tx, a write
// transaction.
func (r *Repository) touchIn(ctx context.Context, tx *sql.Tx, sessionID string, size, delta int64) error {
	if err := r.checkSize(size, delta); err != nil {
		return err
	}
	s, err := r.wstmts.in(ctx, tx, qTouchSession)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(ctx, delta, micros(r.now()), sessionID)
	return err
}
