package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ForkOrigin is where a forked session came from.
type ForkOrigin struct {
	// SessionID is the source session.
	SessionID string
	// AgentID is the agent whose history was copied; empty for a fork of
	// the whole session.
	AgentID string
	// MessageID is the last message copied from AgentID's log; nil for a
	// whole-session fork, and for an agent fork of an agent without
	// messages.
	MessageID *int
	// At is when the fork was made (the fork's CreatedAt).
	At time.Time
}

// Clone returns a deep copy of o.
func (o *ForkOrigin) Clone() *ForkOrigin {
	if o == nil {
		return nil
	}
	out := *o
	if o.MessageID != nil {
		id := *o.MessageID
		out.MessageID = &id
	}
	return &out
}

// ForkRequest describes a fork (see Forker).
type ForkRequest struct {
	// SourceID is the session to copy.
	SourceID string
	// ID is the new session's id. It must not exist.
	ID string
	// AgentID, when set, copies only this agent's history (see the Fork
	// section of the package documentation); empty copies the whole
	// session.
	AgentID string
	// MessageID, with AgentID, is the last message to copy: messages
	// 0..*MessageID. Nil copies every message of the agent. It requires
	// AgentID.
	MessageID *int
	// ViewerPasswordHash is the new session's viewer password hash
	// (HashViewerPassword); empty gives it none.
	ViewerPasswordHash string
}

// Forker copies a stored conversation into a new session, recording where the
// copy came from, so that a conversation can be branched: retried from an
// earlier message, or continued two ways. It is LangGraph's copy_thread and
// what Google ADK users ask for as fork/clone.
//
// What a fork copies, and why:
//
//   - Whole-session fork (ForkRequest.AgentID empty): the session record
//     (type, application, metadata), every agent with its state,
//     configuration and whole message log (message guardrail events,
//     redactions and metrics included, as they are part of each message),
//     the multi-agent orchestrator state and the snapshots. Together these
//     are what Strands needs to resume every agent and orchestrator of the
//     session, so the fork resumes exactly where the source stood.
//   - Agent fork (AgentID set): the session record and metadata, and that
//     one agent with its messages 0..MessageID. When the fork stops before
//     the agent's last message, the agent's ConversationManagerState and
//     InternalState are reset to those of a fresh agent (ForkCutAgent),
//     because they describe the conversation after MessageID: a sliding
//     window's removed_message_count can point past the copied messages, a
//     summary can summarize messages that were not copied, an interrupt or
//     a model's server-side state belongs to later turns. The conversation
//     manager keeps its class ("__name__"), which Strands checks on
//     resume. The agent's user State and Config are copied as they are
//     now, since sessionkit keeps no history of them. Orchestrator state
//     and snapshots are not copied: they describe the whole session at its
//     latest point.
//   - Never copied: feedback and session-level guardrail events. They are
//     judgements and an audit trail of what happened in the source
//     session, at its times; the fork's lineage leads back to them.
//   - The viewer password is not copied: a fork is a new session that may
//     be shared with other people (ForkRequest.ViewerPasswordHash sets one).
//
// Times: the fork's CreatedAt and UpdatedAt are the time of the fork, which
// is also ForkOrigin.At; copied agents, messages and orchestrator records
// keep their own times, as history.
//
// The fork belongs to the source's application (ApplicationName is copied).
// Lineage survives the source: deleting the source leaves its forks and
// their ForkedFrom as they are.
//
// Forker is implemented by repositories that copy a session inside the
// store, in one atomic write where the store has one (an SQLite
// transaction, the memory backend's lock) and never message by message
// from the client. Decorators implement it by delegation; one whose inner
// repository lacks it returns an error matching errors.ErrUnsupported.
// Callers find it with ForkerOf.
type Forker interface {
	// ForkSession copies req.SourceID (or one agent's history in it) into
	// the new session req.ID and returns the new session, whose ForkedFrom
	// records the source. Contract: ErrInvalidArgument naming "session_id"
	// (a bad source or new id, or the two equal), "agent_id" or
	// "message_id" (negative, or set without agent_id); ErrNotFound if the
	// source session, the agent or the message does not exist;
	// ErrAlreadyExists if req.ID is taken; ErrTooLarge if the copy would
	// exceed a size limit the store enforces — in every error case nothing
	// is written. The copy is a state of the source that existed at some
	// moment during the call. Not idempotent: a retry after a success
	// reports ErrAlreadyExists.
	ForkSession(ctx context.Context, req ForkRequest) (*Session, error)
}

// ForkerOf returns repo's Forker. When repo lacks the role the error matches
// errors.ErrUnsupported.
func ForkerOf(repo any) (Forker, error) {
	if f, ok := repo.(Forker); ok {
		return f, nil
	}
	return nil, fmt.Errorf("%T does not fork sessions: %w", repo, errors.ErrUnsupported)
}
