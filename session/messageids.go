package session

import (
	"context"
	"errors"
	"fmt"
)

// ErrMessageIDs reports that an agent's stored message ids are not 0..n-1 in
// storage order: some id is held by two messages, or missing. Sessionkit
// never writes such an agent, but another program sharing the store can
// (the Python original assigns ids in process memory, and two of its
// processes on one agent race). Reads never fail on it: ListMessages returns
// every stored message in storage order. A write that would otherwise
// duplicate an id fails with it and writes nothing; MessageRenumberer (the
// `sessionkit check --repair` command) renumbers the agent.
var ErrMessageIDs = errors.New("message ids are not dense")

// MessageIDReport describes an agent whose ids are not dense. It matches
// ErrMessageIDs with errors.Is.
type MessageIDReport struct {
	// SessionID and AgentID name the agent.
	SessionID, AgentID string
	// Count is how many messages are stored.
	Count int
	// Duplicates are the ids held by more than one message, ascending.
	Duplicates []int
	// Missing are the ids in 0..Count-1 held by no message, ascending.
	Missing []int
	// Misplaced is how many messages do not hold their position as id: the
	// number of message_id fields a renumbering rewrites.
	Misplaced int
}

// Error implements error.
func (e *MessageIDReport) Error() string {
	return fmt.Sprintf("session %q: agent %q: %d messages, %d not at their position (duplicate ids %v, missing %v): %v",
		e.SessionID, e.AgentID, e.Count, e.Misplaced, e.Duplicates, e.Missing, ErrMessageIDs)
}

// Is makes errors.Is(err, ErrMessageIDs) true.
func (e *MessageIDReport) Is(target error) bool { return target == ErrMessageIDs }

// MessageRenumberer is implemented by repositories whose store another
// program may leave with non-dense message ids (see ErrMessageIDs).
type MessageRenumberer interface {
	// RenumberMessages sets the id of every message of the agent to its
	// position in storage order, so that ids are 0..n-1 again, and returns
	// how many ids it changed. Contract: nothing but message ids changes and
	// no message is dropped or reordered; idempotent (a dense agent costs
	// one read and no write, and returns 0); atomic with respect to other
	// writers (a concurrent append makes it re-read, never lose the append);
	// ErrNotFound when the session or agent does not exist. References to
	// message ids elsewhere (feedback, the session's guardrail_events) keep
	// the id they were given, which for a duplicated id was ambiguous.
	RenumberMessages(ctx context.Context, sessionID, agentID string) (int, error)
}
