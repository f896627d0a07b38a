package driver

import (
	"context"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// PreparedMessage is a message that NewPreparedMessage validated and
// normalized: a deep copy sharing nothing with the caller's input. Only
// NewPreparedMessage makes one, so a repository given a *PreparedMessage
// knows it needs no second validation. It is immutable: neither the layer
// that prepared it nor the repository that stores it may change what
// Message points to, because both may keep it (the repository may store
// its maps and slices as they are).
type PreparedMessage struct {
	m session.Message
}

// NewPreparedMessage validates m as PrepareMessage does and returns the
// prepared, immutable result.
func NewPreparedMessage(m *session.Message, now time.Time) (*PreparedMessage, error) {
	p := new(PreparedMessage)
	if err := prepareMessageInto(&p.m, m, now); err != nil {
		return nil, err
	}
	return p, nil
}

// Message returns the prepared message. It is shared, not copied: read it,
// never change it (copy the struct to set its ID, for one, and keep the
// maps and slices it points to as they are).
func (p *PreparedMessage) Message() *session.Message { return &p.m }

// PreparedAppender is the validate-once path of MessageAppender, for
// repositories and portable layers: AppendPrepared stores a message
// NewPreparedMessage already validated, without validating or copying its
// contents again. Its contract is AppendMessage's otherwise (ids, errors,
// the size limit, never ErrConflict). Decorators need not implement it:
// callers fall back to MessageAppender, which validates again. A decorator
// that does implement it over a repository that cannot append reports
// errors.ErrUnsupported, as for AppendMessage.
type PreparedAppender interface {
	// AppendPrepared stores m as the agent's next message and returns the
	// id it was stored under. The repository may keep m's contents; it does
	// not change them (the id it assigns goes on its own copy of the
	// struct).
	AppendPrepared(ctx context.Context, sessionID, agentID string, m *PreparedMessage) (int, error)
}

// SharedMessageLister is implemented by repositories that keep stored
// messages in memory as immutable values and can hand them out without a
// copy, for a portable layer that only reads them and copies what it gives
// its own callers (the session manager's resume). ListMessagesShared has
// ListMessages' contract, except that the messages returned, and everything
// they point to, are the stored values: the caller must never change them.
type SharedMessageLister interface {
	ListMessagesShared(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error)
}

// AgentMessageUpdater is implemented by repositories that can write an
// agent's state and one of its messages in one atomic write, which the
// session manager uses at the end of an invocation (the state sync and the
// invocation's metrics on its assistant message) to save a transaction.
type AgentMessageUpdater interface {
	// UpdateAgentAndMessage does UpdateAgent(ctx, sessionID, a) and
	// UpdateMessage(ctx, sessionID, a.ID, m) as one write: both or, on any
	// error (theirs, as either would report it), neither.
	UpdateAgentAndMessage(ctx context.Context, sessionID string, a *session.Agent, m *session.Message) error
}
