package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
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
		return driver.MessageError(sessionID, agentID, msgID, err)
	}
	err = r.writeLive(ctx, sessionID, "create message", func(tx *sql.Tx) error {
		return r.insertMessage(ctx, tx, sessionID, agentID, p, enc, false)
	})
	if err != nil {
		return driver.MessageError(sessionID, agentID, msgID, err)
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
		return 0, driver.AgentError(sessionID, agentID, err)
	}
	return r.appendEncoded(ctx, sessionID, agentID, p, enc)
}

// AppendPrepared implements driver.PreparedAppender: AppendMessage without
// the second validation. The message is only encoded, and not modified.
func (r *Repository) AppendPrepared(ctx context.Context, sessionID, agentID string, m *driver.PreparedMessage) (int, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return 0, driver.AgentError(sessionID, agentID, err)
	}
	if m == nil {
		return 0, driver.AgentError(sessionID, agentID, driver.InvalidArgument("message", "is nil"))
	}
	p := *m.Message() // the id goes on this copy
	enc, err := encodeMessage(&p)
	if err != nil {
		return 0, driver.AgentError(sessionID, agentID, err)
	}
	return r.appendEncoded(ctx, sessionID, agentID, &p, enc)
}

// appendEncoded stores p, encoded as enc, at the end of the agent's log in
// one write transaction and returns its id (set on p).
func (r *Repository) appendEncoded(ctx context.Context, sessionID, agentID string, p *session.Message, enc encodedMessage) (int, error) {
	err := r.writeLive(ctx, sessionID, "append message", func(tx *sql.Tx) error {
		return r.insertMessage(ctx, tx, sessionID, agentID, p, enc, true)
	})
	if err != nil {
		return 0, driver.AgentError(sessionID, agentID, err)
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
	p, err := driver.PrepareMessage(m, r.now())
	if err != nil {
		return nil, encodedMessage{}, err
	}
	enc, err := encodeMessage(p)
	return p, enc, err
}

// insertMessage inserts p as the agent's next message inside tx, a write
// transaction, in two prepared statements: one UPDATE of the session row
// that grows its size, touches it and returns the new size and the
// agent's count (qAppendTouch), then the INSERT, whose trigger re-checks
// that the id is the count and bumps it. With assign it takes the id from
// the count (setting p.ID); otherwise p.ID must equal the count or the
// insert is an ErrConflict. Any error rolls the transaction back, the
// session update with it.
func (r *Repository) insertMessage(ctx context.Context, tx *sql.Tx, sessionID, agentID string, p *session.Message, enc encodedMessage, assign bool) error {
	touch, err := r.wstmts.in(ctx, tx, qAppendTouch)
	if err != nil {
		return err
	}
	delta := enc.size()
	var size int64
	var count sql.NullInt64
	err = touch.QueryRowContext(ctx, delta, micros(r.now()), sessionID, sessionID, agentID).Scan(&size, &count)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errNoSession
	case err != nil:
		return err
	case !count.Valid:
		return errNoAgent
	}
	if assign {
		p.ID = int(count.Int64)
	} else if p.ID != int(count.Int64) {
		r.conflicts.Add(1)
		return fmt.Errorf("%w: the agent holds %d messages, so the next id is %d", session.ErrConflict, count.Int64, count.Int64)
	}
	if err := r.checkSize(size-delta, delta); err != nil {
		return err
	}
	insert, err := r.wstmts.in(ctx, tx, qInsertMessage)
	if err != nil {
		return err
	}
	_, err = insert.ExecContext(ctx, sessionID, agentID, p.ID, enc.message, enc.redact, enc.metrics, enc.ev, delta,
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
		return nil, driver.MessageError(sessionID, agentID, messageID, err)
	}
	if err := driver.ValidateMessageID(messageID); err != nil {
		return nil, driver.MessageError(sessionID, agentID, messageID, err)
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
		return nil, driver.MessageError(sessionID, agentID, messageID, err)
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
		return driver.MessageError(sessionID, agentID, msgID, err)
	}
	now := r.now()
	p, err := driver.PrepareMessage(m, now)
	if err != nil {
		return driver.MessageError(sessionID, agentID, msgID, err)
	}
	enc, err := encodeMessage(p)
	if err != nil {
		return driver.MessageError(sessionID, agentID, msgID, err)
	}
	err = r.writeLive(ctx, sessionID, "update message", func(tx *sql.Tx) error {
		return r.updateMessageIn(ctx, tx, sessionID, agentID, p, enc, now)
	})
	if err != nil {
		return driver.MessageError(sessionID, agentID, msgID, err)
	}
	return nil
}

// updateMessageIn writes p, encoded as enc, over the stored message inside
// tx, a write transaction, in three prepared statements; metrics and the
// guardrail event stay as stored when p has none.
func (r *Repository) updateMessageIn(ctx context.Context, tx *sql.Tx, sessionID, agentID string, p *session.Message, enc encodedMessage, now time.Time) error {
	read, err := r.wstmts.in(ctx, tx, qMessageForUpdate)
	if err != nil {
		return err
	}
	var size int64
	var count, oldSize sql.NullInt64
	var old encodedMessage
	err = read.QueryRowContext(ctx, agentID, agentID, p.ID, sessionID).Scan(&size, &count, &old.metrics, &old.ev, &oldSize)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errNoSession
	case err != nil:
		return err
	case !count.Valid:
		return errNoAgent
	case !oldSize.Valid:
		return errNoMessage
	}
	if p.EventLoopMetrics == nil {
		enc.metrics = old.metrics
	}
	if p.GuardrailEvent == nil {
		enc.ev = old.ev
	}
	if err := r.touchIn(ctx, tx, sessionID, size, enc.size()-oldSize.Int64); err != nil {
		return err
	}
	update, err := r.wstmts.in(ctx, tx, qUpdateMessage)
	if err != nil {
		return err
	}
	_, err = update.ExecContext(ctx, enc.message, enc.redact, enc.metrics, enc.ev, enc.size(), micros(now), sessionID, agentID, p.ID)
	return err
}

// UpdateAgentAndMessage implements driver.AgentMessageUpdater: UpdateAgent
// and UpdateMessage (of the same agent) validated apart, then written in one
// transaction.
func (r *Repository) UpdateAgentAndMessage(ctx context.Context, sessionID string, a *session.Agent, m *session.Message) error {
	var agentID string
	if a != nil {
		agentID = a.ID
	}
	var msgID int
	if m != nil {
		msgID = m.ID
	}
	if err := validateIDs(sessionID, agentID); err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	now := r.now()
	pa, err := driver.PrepareAgent(a, now)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	encA, err := encodeAgent(pa)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	pm, err := driver.PrepareMessage(m, now)
	if err != nil {
		return driver.MessageError(sessionID, agentID, msgID, err)
	}
	encM, err := encodeMessage(pm)
	if err != nil {
		return driver.MessageError(sessionID, agentID, msgID, err)
	}
	err = r.writeLive(ctx, sessionID, "update agent and message", func(tx *sql.Tx) error {
		if err := r.updateAgentIn(ctx, tx, sessionID, agentID, encA, now); err != nil {
			return err
		}
		return r.updateMessageIn(ctx, tx, sessionID, agentID, pm, encM, now)
	})
	if err != nil {
		return driver.MessageError(sessionID, agentID, msgID, err)
	}
	return nil
}

// ListMessages returns up to limit messages from position offset. Ids are
// dense, so the position is the id and the read is a primary-key range
// scan: its cost does not depend on how long the history is.
func (r *Repository) ListMessages(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, driver.AgentError(sessionID, agentID, err)
	}
	if offset < 0 {
		return nil, driver.AgentError(sessionID, agentID, driver.InvalidArgument("offset", "%d is negative", offset))
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var out []*session.Message
	err := r.readLive(ctx, sessionID, "list messages", func(tx *sql.Tx) error {
		count, err := r.countIn(ctx, tx, sessionID, agentID)
		if err != nil {
			return err
		}
		if offset >= count {
			return nil
		}
		list, err := r.rstmts.in(ctx, tx, qListMessages)
		if err != nil {
			return err
		}
		rows, err := list.QueryContext(ctx, sessionID, agentID, offset, limit)
		if err != nil {
			return err
		}
		out, err = scanMessages(rows)
		return err
	})
	if err != nil {
		return nil, driver.AgentError(sessionID, agentID, err)
	}
	if out == nil {
		out = []*session.Message{}
	}
	return out, nil
}

// CountMessages returns the agent's message count from its counter column.
func (r *Repository) CountMessages(ctx context.Context, sessionID, agentID string) (int, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return 0, driver.AgentError(sessionID, agentID, err)
	}
	var count int
	err := r.readLive(ctx, sessionID, "count messages", func(tx *sql.Tx) error {
		var err error
		count, err = r.countIn(ctx, tx, sessionID, agentID)
		return err
	})
	if err != nil {
		return 0, driver.AgentError(sessionID, agentID, err)
	}
	return count, nil
}
