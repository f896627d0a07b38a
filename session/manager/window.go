package manager

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

// readWindow reads what a resume shows of the stored log: the pinned head
// (messages 0..pinned-1, none when pinned is 0), the tail from
// pinned+removed on, and the next message id. A repository implementing
// session.MessagePagesReader answers in one call (one round trip on
// MongoDB, with only the two pages in the reply); otherwise it is one
// ListMessages (ListMessagesShared where the store has it) per page, plus CountMessages when the tail is empty (the
// next id must still come from the store, never restart at 0).
func (a *AgentSession) readWindow(ctx context.Context, pinned, removed int) (head, tail []*session.Message, next int, err error) {
	m := a.m
	if pr, ok := m.repo.(session.MessagePagesReader); ok {
		pages := []session.MessagePage{{Offset: pinned + removed}}
		if pinned > 0 {
			pages = []session.MessagePage{{Offset: 0, Limit: pinned}, pages[0]}
		}
		res, err := pr.ListMessagePages(ctx, m.sessionID, a.id, pages)
		if err != nil {
			return nil, nil, 0, err
		}
		if pinned > 0 {
			head = res.Pages[0]
		}
		return head, res.Pages[len(res.Pages)-1], res.Count, nil
	}
	if pinned > 0 {
		if head, err = listShared(m.repo)(ctx, m.sessionID, a.id, 0, pinned); err != nil {
			return nil, nil, 0, err
		}
	}
	if tail, err = listShared(m.repo)(ctx, m.sessionID, a.id, pinned+removed, 0); err != nil {
		return nil, nil, 0, err
	}
	if n := len(tail); n > 0 {
		return head, tail, tail[n-1].ID + 1, nil
	}
	next, err = m.repo.CountMessages(ctx, m.sessionID, a.id)
	return head, tail, next, err
}
