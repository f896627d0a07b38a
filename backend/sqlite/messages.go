package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
)

type encodedMessage struct {
	message             string
	redact, metrics, ev sql.NullString
}

func (e encodedMessage) size() int64 {
	return int64(len(e.message)) + nullLen(e.redact) + nullLen(e.metrics) + nullLen(e.ev)
}

func encodeMessage(m *session.Message) (encodedMessage, error) {
	var e encodedMessage
	var err error
	if e.message, err = encodeChat(m.Message); err != nil {
		return e, err
	}
	if m.RedactMessage != nil {
		s, err := encodeChat(*m.RedactMessage)
		if err != nil {
			return e, err
		}
		e.redact = sql.NullString{String: s, Valid: true}
	}
	if e.metrics, err = encodeMetrics(m.EventLoopMetrics); err != nil {
		return e, err
	}
	e.ev, err = encodeGuardrail(m.GuardrailEvent)
	return e, err
}

// CreateMessage appends m to the agent's log. In one IMMEDIATE transaction
// it checks that m.ID is the agent's message count and inserts; the schema
// re-checks the id in a trigger and bumps the count in the same statement.
func (r *Repository) CreateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	var msgID int
	if m != nil {
		msgID = m.ID
	}
	p, enc, err := r.prepareMessage(sessionID, agentID, m)
	if err != nil {
		return session.MessageError(sessionID, agentID, msgID, err)
	}
	err = r.writeLive(ctx, sessionID, "create message", func(tx *sql.Tx) error {
		return r.insertMessage(ctx, tx, sessionID, agentID, p, enc, false)
	})
	if err != nil {
		return session.MessageError(sessionID, agentID, msgID, err)
	}
	return nil
}

// AppendMessage implements session.MessageAppender. The next id is the
// agent's message count read inside the same IMMEDIATE transaction that
// inserts the row: SQLite admits one writer per file, across processes too,
// so no other writer can take the id in between and the append never
// conflicts. m.ID is ignored and m is not modified.
func (r *Repository) AppendMessage(ctx context.Context, sessionID, agentID string, m *session.Message) (int, error) {
	p, enc, err := r.prepareMessage(sessionID, agentID, withoutID(m))
	if err != nil {
		return 0, session.AgentError(sessionID, agentID, err)
	}
	err = r.writeLive(ctx, sessionID, "append message", func(tx *sql.Tx) error {
		return r.insertMessage(ctx, tx, sessionID, agentID, p, enc, true)
	})
	if err != nil {
		return 0, session.AgentError(sessionID, agentID, err)
	}
	return p.ID, nil
}

// withoutID returns a shallow copy of m with ID 0, so that an append ignores
// whatever id the caller left in it (nil stays nil, for PrepareMessage to
// report).
func withoutID(m *session.Message) *session.Message {
	if m == nil {
		return nil
	}
	c := *m
	c.ID = 0
	return &c
}

// prepareMessage validates the ids and m, and encodes the columns, before
// any transaction starts.
func (r *Repository) prepareMessage(sessionID, agentID string, m *session.Message) (*session.Message, encodedMessage, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, encodedMessage{}, err
	}
	p, err := session.PrepareMessage(m, r.now())
	if err != nil {
		return nil, encodedMessage{}, err
	}
	enc, err := encodeMessage(p)
	return p, enc, err
}

// insertMessage inserts p as the agent's next message inside tx. With
// assign it takes the id from the agent's count (setting p.ID); otherwise
// p.ID must equal the count or the insert is an ErrConflict.
func (r *Repository) insertMessage(ctx context.Context, tx *sql.Tx, sessionID, agentID string, p *session.Message, enc encodedMessage, assign bool) error {
	size, err := sessionSize(ctx, tx, sessionID)
	if err != nil {
		return err
	}
	count, err := agentCount(ctx, tx, sessionID, agentID)
	if err != nil {
		return err
	}
	if assign {
		p.ID = count
	} else if p.ID != count {
		r.conflicts.Add(1)
		return fmt.Errorf("%w: the agent holds %d messages, so the next id is %d", session.ErrConflict, count, count)
	}
	if err := r.touchSession(ctx, tx, sessionID, size, enc.size()); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO messages (session_id, agent_id, message_id, message, redact_message,
		event_loop_metrics, guardrail_event, size_bytes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sessionID, agentID, p.ID, enc.message, enc.redact, enc.metrics, enc.ev, enc.size(),
		micros(p.CreatedAt), micros(p.UpdatedAt))
	if isConstraint(err) {
		r.conflicts.Add(1)
		return fmt.Errorf("%w: %v", session.ErrConflict, err)
	}
	return err
}

const messageColumns = `SELECT message_id, message, redact_message, event_loop_metrics, guardrail_event, created_at, updated_at
	FROM messages`

func scanMessages(rows *sql.Rows) ([]*session.Message, error) {
	defer func() { _ = rows.Close() }()
	var out []*session.Message
	for rows.Next() {
		var m session.Message
		var e encodedMessage
		var created, updated int64
		if err := rows.Scan(&m.ID, &e.message, &e.redact, &e.metrics, &e.ev, &created, &updated); err != nil {
			return nil, err
		}
		var err error
		if m.Message, err = decodeChat("message", e.message); err != nil {
			return nil, fmt.Errorf("message %d: %w", m.ID, err)
		}
		if e.redact.Valid {
			c, err := decodeChat("redact_message", e.redact.String)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", m.ID, err)
			}
			m.RedactMessage = &c
		}
		if m.EventLoopMetrics, err = decodeMetrics(e.metrics); err != nil {
			return nil, fmt.Errorf("message %d: %w", m.ID, err)
		}
		if m.GuardrailEvent, err = decodeGuardrail(e.ev); err != nil {
			return nil, fmt.Errorf("message %d: %w", m.ID, err)
		}
		m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// GetMessage returns one message.
func (r *Repository) GetMessage(ctx context.Context, sessionID, agentID string, messageID int) (*session.Message, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, session.MessageError(sessionID, agentID, messageID, err)
	}
	if err := session.ValidateMessageID(messageID); err != nil {
		return nil, session.MessageError(sessionID, agentID, messageID, err)
	}
	var out *session.Message
	err := r.readLive(ctx, sessionID, "get message", func(tx *sql.Tx) error {
		if _, err := agentCount(ctx, tx, sessionID, agentID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, messageColumns+` WHERE session_id = ? AND agent_id = ? AND message_id = ?`,
			sessionID, agentID, messageID)
		if err != nil {
			return err
		}
		list, err := scanMessages(rows)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errNoMessage
		}
		out = list[0]
		return nil
	})
	if err != nil {
		return nil, session.MessageError(sessionID, agentID, messageID, err)
	}
	return out, nil
}

// UpdateMessage replaces the message body and redaction, and the metrics
// and guardrail event when given, keeping CreatedAt.
func (r *Repository) UpdateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	var msgID int
	if m != nil {
		msgID = m.ID
	}
	if err := validateIDs(sessionID, agentID); err != nil {
		return session.MessageError(sessionID, agentID, msgID, err)
	}
	now := r.now()
	p, err := session.PrepareMessage(m, now)
	if err != nil {
		return session.MessageError(sessionID, agentID, msgID, err)
	}
	enc, err := encodeMessage(p)
	if err != nil {
		return session.MessageError(sessionID, agentID, msgID, err)
	}
	err = r.writeLive(ctx, sessionID, "update message", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if _, err := agentCount(ctx, tx, sessionID, agentID); err != nil {
			return err
		}
		var old encodedMessage
		var oldSize int64
		err = tx.QueryRowContext(ctx, `SELECT event_loop_metrics, guardrail_event, size_bytes FROM messages
			WHERE session_id = ? AND agent_id = ? AND message_id = ?`, sessionID, agentID, p.ID).
			Scan(&old.metrics, &old.ev, &oldSize)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoMessage
		} else if err != nil {
			return err
		}
		if p.EventLoopMetrics == nil {
			enc.metrics = old.metrics
		}
		if p.GuardrailEvent == nil {
			enc.ev = old.ev
		}
		if err := r.touchSession(ctx, tx, sessionID, size, enc.size()-oldSize); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE messages SET message = ?, redact_message = ?, event_loop_metrics = ?,
			guardrail_event = ?, size_bytes = ?, updated_at = ? WHERE session_id = ? AND agent_id = ? AND message_id = ?`,
			enc.message, enc.redact, enc.metrics, enc.ev, enc.size(), micros(now), sessionID, agentID, p.ID)
		return err
	})
	if err != nil {
		return session.MessageError(sessionID, agentID, msgID, err)
	}
	return nil
}

// ListMessages returns up to limit messages from position offset. Ids are
// dense, so the position is the id and the read is a primary-key range
// scan: its cost does not depend on how long the history is.
func (r *Repository) ListMessages(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, session.AgentError(sessionID, agentID, err)
	}
	if offset < 0 {
		return nil, session.AgentError(sessionID, agentID, session.InvalidArgument("offset", "%d is negative", offset))
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var out []*session.Message
	err := r.readLive(ctx, sessionID, "list messages", func(tx *sql.Tx) error {
		count, err := agentCount(ctx, tx, sessionID, agentID)
		if err != nil {
			return err
		}
		if offset >= count {
			return nil
		}
		rows, err := tx.QueryContext(ctx, messageColumns+` WHERE session_id = ? AND agent_id = ? AND message_id >= ?
			ORDER BY message_id LIMIT ?`, sessionID, agentID, offset, limit)
		if err != nil {
			return err
		}
		out, err = scanMessages(rows)
		return err
	})
	if err != nil {
		return nil, session.AgentError(sessionID, agentID, err)
	}
	if out == nil {
		out = []*session.Message{}
	}
	return out, nil
}

// CountMessages returns the agent's message count from its counter column.
func (r *Repository) CountMessages(ctx context.Context, sessionID, agentID string) (int, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return 0, session.AgentError(sessionID, agentID, err)
	}
	var count int
	err := r.readLive(ctx, sessionID, "count messages", func(tx *sql.Tx) error {
		var err error
		count, err = agentCount(ctx, tx, sessionID, agentID)
		return err
	})
	if err != nil {
		return 0, session.AgentError(sessionID, agentID, err)
	}
	return count, nil
}
