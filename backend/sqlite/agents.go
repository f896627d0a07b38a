package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// agentCount returns the agent's message count (its next message id),
// errNoSession or errNoAgent, in one indexed query.
func agentCount(ctx context.Context, tx *sql.Tx, sessionID, agentID string) (int, error) {
	var count sql.NullInt64
	var hasSession bool
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT message_count FROM agents WHERE session_id = ? AND id = ?),
		EXISTS (SELECT 1 FROM sessions WHERE id = ?)`, sessionID, agentID, sessionID).Scan(&count, &hasSession)
	switch {
	case err != nil:
		return 0, err
	case !hasSession:
		return 0, errNoSession
	case !count.Valid:
		return 0, errNoAgent
	}
	return int(count.Int64), nil
}

type encodedAgent struct {
	state, cms, internal sql.NullString
	config               string
}

func (e encodedAgent) size(agentID string) int64 {
	return int64(len(agentID)+len(e.config)) + nullLen(e.state) + nullLen(e.cms) + nullLen(e.internal)
}

func encodeAgent(a *session.Agent) (encodedAgent, error) {
	var e encodedAgent
	var err error
	if e.state, err = encodeMap(a.State); err != nil {
		return e, err
	}
	if e.cms, err = encodeMap(a.ConversationManagerState); err != nil {
		return e, err
	}
	if e.internal, err = encodeMap(a.InternalState); err != nil {
		return e, err
	}
	e.config, err = encodeConfig(a.Config)
	return e, err
}

// CreateAgent stores a new agent with its configuration.
func (r *Repository) CreateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	var agentID string
	if a != nil {
		agentID = a.ID
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	p, err := driver.PrepareAgent(a, r.now())
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	enc, err := encodeAgent(p)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	err = r.writeLive(ctx, sessionID, "create agent", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE session_id = ? AND id = ?)`,
			sessionID, p.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return session.ErrAlreadyExists
		}
		if err := r.touchSession(ctx, tx, sessionID, size, enc.size(p.ID)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO agents
			(session_id, id, state, conversation_manager_state, internal_state, config, size_bytes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sessionID, p.ID, enc.state, enc.cms, enc.internal, enc.config, enc.size(p.ID), micros(p.CreatedAt), micros(p.UpdatedAt))
		return err
	})
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	return nil
}

const agentColumns = `SELECT id, state, conversation_manager_state, internal_state, config, created_at, updated_at FROM agents`

func scanAgents(rows *sql.Rows) ([]*session.Agent, error) {
	defer func() { _ = rows.Close() }()
	var out []*session.Agent
	for rows.Next() {
		var a session.Agent
		var e encodedAgent
		var created, updated int64
		if err := rows.Scan(&a.ID, &e.state, &e.cms, &e.internal, &e.config, &created, &updated); err != nil {
			return nil, err
		}
		var err error
		if a.State, err = decodeMap("state", e.state); err != nil {
			return nil, err
		}
		if a.ConversationManagerState, err = decodeMap("conversation_manager_state", e.cms); err != nil {
			return nil, err
		}
		if a.InternalState, err = decodeMap("_internal_state", e.internal); err != nil {
			return nil, err
		}
		if a.Config, err = decodeConfig(e.config); err != nil {
			return nil, err
		}
		a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, &a)
	}
	return out, rows.Err()
}

// GetAgent returns an agent without its messages.
func (r *Repository) GetAgent(ctx context.Context, sessionID, agentID string) (*session.Agent, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, driver.AgentError(sessionID, agentID, err)
	}
	var out *session.Agent
	err := r.readLive(ctx, sessionID, "get agent", func(tx *sql.Tx) error {
		if _, err := r.countIn(ctx, tx, sessionID, agentID); err != nil {
			return err
		}
		get, err := r.rstmts.in(ctx, tx, qGetAgent)
		if err != nil {
			return err
		}
		rows, err := get.QueryContext(ctx, sessionID, agentID)
		if err != nil {
			return err
		}
		list, err := scanAgents(rows)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errNoAgent
		}
		out = list[0]
		return nil
	})
	if err != nil {
		return nil, driver.AgentError(sessionID, agentID, err)
	}
	return out, nil
}

func validateIDs(sessionID, agentID string) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	return driver.ValidateAgentID(agentID)
}

// UpdateAgent replaces the agent's state maps, keeping CreatedAt and Config.
func (r *Repository) UpdateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	var agentID string
	if a != nil {
		agentID = a.ID
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	now := r.now()
	p, err := driver.PrepareAgent(a, now)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	enc, err := encodeAgent(p)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	err = r.writeLive(ctx, sessionID, "update agent", func(tx *sql.Tx) error {
		return r.updateAgentIn(ctx, tx, sessionID, p.ID, enc, now)
	})
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	return nil
}

// updateAgentIn writes the state columns of enc on agent agentID inside
// tx, a write transaction, in three prepared statements.
func (r *Repository) updateAgentIn(ctx context.Context, tx *sql.Tx, sessionID, agentID string, enc encodedAgent, now time.Time) error {
	read, err := r.wstmts.in(ctx, tx, qAgentForUpdate)
	if err != nil {
		return err
	}
	var size int64
	var oldSize sql.NullInt64
	var config sql.NullString
	err = read.QueryRowContext(ctx, agentID, sessionID).Scan(&size, &oldSize, &config)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errNoSession
	case err != nil:
		return err
	case !oldSize.Valid:
		return errNoAgent
	}
	enc.config = config.String // UpdateAgent never changes the configuration
	newSize := enc.size(agentID)
	if err := r.touchIn(ctx, tx, sessionID, size, newSize-oldSize.Int64); err != nil {
		return err
	}
	update, err := r.wstmts.in(ctx, tx, qUpdateAgent)
	if err != nil {
		return err
	}
	_, err = update.ExecContext(ctx, enc.state, enc.cms, enc.internal, newSize, micros(now), sessionID, agentID)
	return err
}

// UpdateAgentConfig sets the non-nil fields of patch on the configuration.
func (r *Repository) UpdateAgentConfig(ctx context.Context, sessionID, agentID string, patch session.AgentConfigPatch) error {
	if err := validateIDs(sessionID, agentID); err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	if patch.Model == nil && patch.SystemPrompt == nil && patch.PromptMetadata == nil {
		return driver.AgentError(sessionID, agentID, driver.InvalidArgument("config patch", "is empty"))
	}
	// Validate the patch alone, before touching the store.
	check := session.Agent{ID: agentID}
	if patch.Model != nil {
		check.Config.Model = *patch.Model
	}
	if patch.SystemPrompt != nil {
		check.Config.SystemPrompt = *patch.SystemPrompt
	}
	check.Config.PromptMetadata = patch.PromptMetadata
	now := r.now()
	valid, err := driver.PrepareAgent(&check, now)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	err = r.writeLive(ctx, sessionID, "update agent config", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		var oldSize int64
		var stored string
		err = tx.QueryRowContext(ctx, `SELECT size_bytes, config FROM agents WHERE session_id = ? AND id = ?`,
			sessionID, agentID).Scan(&oldSize, &stored)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoAgent
		} else if err != nil {
			return err
		}
		cfg, err := decodeConfig(stored)
		if err != nil {
			return err
		}
		if patch.Model != nil {
			cfg.Model = valid.Config.Model
		}
		if patch.SystemPrompt != nil {
			cfg.SystemPrompt = valid.Config.SystemPrompt
		}
		if patch.PromptMetadata != nil {
			cfg.PromptMetadata = valid.Config.PromptMetadata
		}
		enc, err := encodeConfig(cfg)
		if err != nil {
			return err
		}
		delta := int64(len(enc) - len(stored))
		if err := r.touchSession(ctx, tx, sessionID, size, delta); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE agents SET config = ?, size_bytes = size_bytes + ?, updated_at = ?
			WHERE session_id = ? AND id = ?`, enc, delta, micros(now), sessionID, agentID)
		return err
	})
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	return nil
}

// ListAgents returns the session's agents ordered by id.
func (r *Repository) ListAgents(ctx context.Context, sessionID string) ([]*session.Agent, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	var out []*session.Agent
	err := r.readLive(ctx, sessionID, "list agents", func(tx *sql.Tx) error {
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, agentColumns+` WHERE session_id = ? ORDER BY id`, sessionID)
		if err != nil {
			return err
		}
		out, err = scanAgents(rows)
		return err
	})
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	if out == nil {
		out = []*session.Agent{}
	}
	return out, nil
}
