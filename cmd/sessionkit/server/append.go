package server

import (
	"context"
	"errors"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// appendAtEnd stores m as the agent's next message and returns its id. A
// session.MessageAppender assigns the id in the same atomic write, so the
// append never loses a race. Other repositories get CreateMessage at the
// current count, re-read and retried after each ErrConflict with a short
// jittered pause until ctx ends: a lost race is never a reason to fail a
// request whose deadline has not passed.
func appendAtEnd(ctx context.Context, repo session.Repository, sessionID, agentID string, m *session.Message) (int, error) {
	if ap, ok := repo.(session.MessageAppender); ok {
		id, err := ap.AppendMessage(ctx, sessionID, agentID, m)
		if !errors.Is(err, errors.ErrUnsupported) {
			return id, err
		}
	}
	return driver.AppendByCreate(ctx, repo, nil, sessionID, agentID, m)
}
