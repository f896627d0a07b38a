package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// AddFeedback appends feedback to the session, checking that the agent and
// message it points at exist.
func (r *Repository) AddFeedback(ctx context.Context, sessionID string, f *session.Feedback) (*session.Feedback, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	p, err := driver.PrepareFeedback(f, r.now(), r.opts.NewID)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	extra, err := encodeMap(p.Extra)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	var msgID sql.NullInt64
	if p.MessageID != nil {
		msgID = sql.NullInt64{Int64: int64(*p.MessageID), Valid: true}
	}
	rowSize := int64(len(p.ID)+len(p.Rating)+len(p.Comment)+len(p.AgentID)+8) + nullLen(extra)
	err = r.writeLive(ctx, sessionID, "add feedback", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if p.AgentID != "" {
			count, err := agentCount(ctx, tx, sessionID, p.AgentID)
			if err != nil {
				return err
			}
			if p.MessageID != nil && *p.MessageID >= count {
				return errNoMessage
			}
		}
		if err := r.touchSession(ctx, tx, sessionID, size, rowSize); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO feedback
			(session_id, feedback_id, rating, comment, agent_id, message_id, extra, size_bytes, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sessionID, p.ID, string(p.Rating), p.Comment, p.AgentID, msgID, extra, rowSize, micros(p.CreatedAt))
		return err
	})
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	return p.Clone(), nil
}

// ListFeedback returns the session's feedback in the order it was added.
func (r *Repository) ListFeedback(ctx context.Context, sessionID string) ([]*session.Feedback, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	out := []*session.Feedback{}
	err := r.readLive(ctx, sessionID, "list feedback", func(tx *sql.Tx) error {
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT feedback_id, rating, comment, agent_id, message_id, extra, created_at
			FROM feedback WHERE session_id = ? ORDER BY seq`, sessionID)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var f session.Feedback
			var rating string
			var msgID sql.NullInt64
			var extra sql.NullString
			var created int64
			if err := rows.Scan(&f.ID, &rating, &f.Comment, &f.AgentID, &msgID, &extra, &created); err != nil {
				return err
			}
			f.Rating = session.Rating(rating)
			if msgID.Valid {
				id := int(msgID.Int64)
				f.MessageID = &id
			}
			if f.Extra, err = decodeMap("feedback.extra", extra); err != nil {
				return err
			}
			f.CreatedAt = fromMicros(created)
			out = append(out, &f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	return out, nil
}

// RecordGuardrailEvent sets ev on the message and appends the session-level
// event in one transaction.
func (r *Repository) RecordGuardrailEvent(ctx context.Context, sessionID, agentID string, messageID int, ev *session.GuardrailEvent) error {
	if err := validateIDs(sessionID, agentID); err != nil {
		return driver.MessageError(sessionID, agentID, messageID, err)
	}
	if err := driver.ValidateMessageID(messageID); err != nil {
		return driver.MessageError(sessionID, agentID, messageID, err)
	}
	now := r.now()
	p, err := driver.PrepareGuardrailEvent(ev, now)
	if err != nil {
		return driver.MessageError(sessionID, agentID, messageID, err)
	}
	onMessage, err := encodeGuardrail(p)
	if err != nil {
		return driver.MessageError(sessionID, agentID, messageID, err)
	}
	policies, err := encodePolicies(p.PoliciesTriggered)
	if err != nil {
		return driver.MessageError(sessionID, agentID, messageID, err)
	}
	eventSize := int64(len(agentID)+len(p.Action)+len(p.StopReason)+16) + nullLen(policies)
	err = r.writeLive(ctx, sessionID, "record guardrail event", func(tx *sql.Tx) error {
		size, err := sessionSize(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if _, err := agentCount(ctx, tx, sessionID, agentID); err != nil {
			return err
		}
		var old sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT guardrail_event FROM messages
			WHERE session_id = ? AND agent_id = ? AND message_id = ?`, sessionID, agentID, messageID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoMessage
		} else if err != nil {
			return err
		}
		msgDelta := nullLen(onMessage) - nullLen(old)
		if err := r.touchSession(ctx, tx, sessionID, size, msgDelta+eventSize); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET guardrail_event = ?, size_bytes = size_bytes + ?, updated_at = ?
			WHERE session_id = ? AND agent_id = ? AND message_id = ?`,
			onMessage, msgDelta, micros(now), sessionID, agentID, messageID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO guardrail_events
			(session_id, agent_id, message_id, action, timestamp, stop_reason, policies_triggered, size_bytes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sessionID, agentID, messageID, p.Action, micros(p.Timestamp), p.StopReason, policies, eventSize)
		return err
	})
	if err != nil {
		return driver.MessageError(sessionID, agentID, messageID, err)
	}
	return nil
}

// ListGuardrailEvents returns the session's guardrail events in the order
// they were recorded.
func (r *Repository) ListGuardrailEvents(ctx context.Context, sessionID string) ([]*session.SessionGuardrailEvent, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	out := []*session.SessionGuardrailEvent{}
	err := r.readLive(ctx, sessionID, "list guardrail events", func(tx *sql.Tx) error {
		if _, err := sessionSize(ctx, tx, sessionID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT agent_id, message_id, action, timestamp, stop_reason, policies_triggered
			FROM guardrail_events WHERE session_id = ? ORDER BY seq`, sessionID)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var ev session.SessionGuardrailEvent
			var ts int64
			var policies sql.NullString
			if err := rows.Scan(&ev.AgentID, &ev.MessageID, &ev.Action, &ts, &ev.StopReason, &policies); err != nil {
				return err
			}
			ev.Timestamp = fromMicros(ts)
			if ev.PoliciesTriggered, err = decodePolicies(policies); err != nil {
				return err
			}
			out = append(out, &ev)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	return out, nil
}
