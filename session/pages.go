package session

import "context"

// MessagePage selects one page of an agent's message log, as the offset
// and limit of ListMessages do (Limit <= 0 means to the end).
type MessagePage struct {
	Offset, Limit int
}

// MessagePages is what ListMessagePages returns.
type MessagePages struct {
	// Pages holds the messages of each requested page, in request order.
	Pages [][]*Message
	// Count is how many messages the agent holds (CountMessages), read
	// with the pages.
	Count int
}

// MessagePagesReader is implemented by repositories that read several
// pages of one agent's message log, and its message count, in one round
// trip, where ListMessages would take one per page. It is an optional
// role: session/manager resumes a pinned head (a head page and a tail
// page, see Strands' pinned_head_count) through it when the repository has
// it, and through ListMessages and CountMessages otherwise.
type MessagePagesReader interface {
	// ListMessagePages returns each page as ListMessages would, and the
	// message count, from one read. Contract: as ListMessages —
	// ErrNotFound if the session or agent does not exist;
	// ErrInvalidArgument naming "offset" for a negative offset, or "pages"
	// when none is asked for.
	ListMessagePages(ctx context.Context, sessionID, agentID string, pages []MessagePage) (*MessagePages, error)
}
