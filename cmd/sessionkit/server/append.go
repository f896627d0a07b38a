package server

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sessionkit/sessionkit/session"
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
	for attempt := 0; ; attempt++ {
		n, err := repo.CountMessages(ctx, sessionID, agentID)
		if err != nil {
			return 0, err
		}
		m.ID = n
		err = repo.CreateMessage(ctx, sessionID, agentID, m)
		if !errors.Is(err, session.ErrConflict) {
			return n, err
		}
		// Up to 1ms, 2ms, 4ms ... 16ms: enough to let the winner's write
		// land without adding much latency to the loser.
		pause := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 4)))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("append gave up when the request ended (last attempt: %v): %w", err, ctx.Err())
		case <-t.C:
		}
	}
}
