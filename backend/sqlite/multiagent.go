package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Orchestrator state lives in the multi_agents table (schema version 2),
// one row per (session, id), with the state as one JSON text column so an
// update replaces it in one statement. The foreign key cascades, so
// DeleteSession removes the rows with the session.

var _ session.MultiAgentStore = (*Repository)(nil)

var errNoMultiAgent = fmt.Errorf("%w: no such multi-agent state", session.ErrNotFound)

// multiAgentRowSize is what a row adds to the session's tracked size.
func multiAgentRowSize(id, state string) int64 { return int64(len(id) + len(state)) }

// prepareMultiAgent validates and encodes m for a write.
func (r *Repository) prepareMultiAgent(sessionID string, m *session.MultiAgent) (*session.MultiAgent, string, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, "", err
	}
	p, err := driver.PrepareMultiAgent(m, r.now())
	if err != nil {
		return nil, "", err
	}
	b, err := driver.MarshalValueJSON(p.State)
	if err != nil {
		return nil, "", err
	}
	return p, string(b), nil
}

func multiAgentID(m *session.MultiAgent) string {
	if m == nil {
		return ""
	}
	return m.ID
}

// CreateMultiAgent implements session.MultiAgentStore.
func (r *Repository) CreateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	p, state, err := r.prepareMultiAgent(sessionID, m)
	if err != nil {
		return driver.MultiAgentError(sessionID, multiAgentID(m), err)
	}
	err = r.writeLive(ctx, sessionID, "create multi-agent", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM multi_agents WHERE session_id = ? AND id = ?)`,
			sessionID, p.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return session.ErrAlreadyExists
		}
		rowSize := multiAgentRowSize(p.ID, state)
		if err := r.touchSession(ctx, tx, sessionID, size, rowSize); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO multi_agents (session_id, id, state, size_bytes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, sessionID, p.ID, state, rowSize, micros(p.CreatedAt), micros(p.UpdatedAt))
		return err
	})
	if err != nil {
		return driver.MultiAgentError(sessionID, p.ID, err)
	}
	return nil
}

// GetMultiAgent implements session.MultiAgentStore.
func (r *Repository) GetMultiAgent(ctx context.Context, sessionID, multiAgentID string) (*session.MultiAgent, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.MultiAgentError(sessionID, multiAgentID, err)
	}
	if err := driver.ValidateMultiAgentID(multiAgentID); err != nil {
		return nil, driver.MultiAgentError(sessionID, multiAgentID, err)
	}
	var out *session.MultiAgent
	err := r.readLive(ctx, sessionID, "get multi-agent", func(tx *sql.Tx) error {
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, multiAgentColumns+` WHERE session_id = ? AND id = ?`, sessionID, multiAgentID)
		if err != nil {
			return err
		}
		list, err := scanMultiAgents(rows)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errNoMultiAgent
		}
		out = list[0]
		return nil
	})
	if err != nil {
		return nil, driver.MultiAgentError(sessionID, multiAgentID, err)
	}
	return out, nil
}

// UpdateMultiAgent implements session.MultiAgentStore.
func (r *Repository) UpdateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	p, state, err := r.prepareMultiAgent(sessionID, m)
	if err != nil {
		return driver.MultiAgentError(sessionID, multiAgentID(m), err)
	}
	now := r.now()
	err = r.writeLive(ctx, sessionID, "update multi-agent", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		var oldSize int64
		err = tx.QueryRowContext(ctx, `SELECT size_bytes FROM multi_agents WHERE session_id = ? AND id = ?`,
			sessionID, p.ID).Scan(&oldSize)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoMultiAgent
		} else if err != nil {
			return err
		}
		newSize := multiAgentRowSize(p.ID, state)
		if err := r.touchSession(ctx, tx, sessionID, size, newSize-oldSize); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE multi_agents SET state = ?, size_bytes = ?, updated_at = ?
			WHERE session_id = ? AND id = ?`, state, newSize, micros(now), sessionID, p.ID)
		return err
	})
	if err != nil {
		return driver.MultiAgentError(sessionID, p.ID, err)
	}
	return nil
}

// ListMultiAgents implements session.MultiAgentStore.
func (r *Repository) ListMultiAgents(ctx context.Context, sessionID string) ([]*session.MultiAgent, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	var out []*session.MultiAgent
	err := r.readLive(ctx, sessionID, "list multi-agents", func(tx *sql.Tx) error {
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, multiAgentColumns+` WHERE session_id = ? ORDER BY id`, sessionID)
		if err != nil {
			return err
		}
		out, err = scanMultiAgents(rows)
		return err
	})
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	if out == nil {
		out = []*session.MultiAgent{}
	}
	return out, nil
}

const multiAgentColumns = `SELECT id, state, created_at, updated_at FROM multi_agents`

func scanMultiAgents(rows *sql.Rows) ([]*session.MultiAgent, error) {
	defer func() { _ = rows.Close() }()
	var out []*session.MultiAgent
	for rows.Next() {
		var m session.MultiAgent
		var state string
		var created, updated int64
		if err := rows.Scan(&m.ID, &state, &created, &updated); err != nil {
			return nil, err
		}
		var err error
		if m.State, err = decodeMap("multi_agent state", sql.NullString{String: state, Valid: true}); err != nil {
			return nil, err
		}
		m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, &m)
	}
	return out, rows.Err()
}
