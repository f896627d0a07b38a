package driver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// AppendByCreate stores m as the agent's next message on a repository that
// is not a session.MessageAppender (or whose wrapped store is not one): it
// creates m at the id count returns, and when another writer took that id
// (session.ErrConflict) pauses a little — random and growing, so that many
// writers on one agent do not retry in lockstep — and tries again at a
// fresh count, until it succeeds or ctx ends. A lost race is never the
// caller's error: when ctx ends first the error wraps both ctx's error and
// the last conflict. A nil count reads r.CountMessages. m is not modified;
// the id stored is returned.
func AppendByCreate(ctx context.Context, r session.Repository, count func(context.Context) (int, error), sessionID, agentID string, m *session.Message) (int, error) {
	if m == nil {
		return 0, r.CreateMessage(ctx, sessionID, agentID, nil) // the backend's own typed error
	}
	if count == nil {
		count = func(ctx context.Context) (int, error) { return r.CountMessages(ctx, sessionID, agentID) }
	}
	cp := *m
	for attempt := 0; ; attempt++ {
		n, err := count(ctx)
		if err != nil {
			return 0, err
		}
		cp.ID = n
		err = r.CreateMessage(ctx, sessionID, agentID, &cp)
		if !errors.Is(err, session.ErrConflict) {
			return n, err
		}
		// Up to 1, 2, 4 … 32 ms: enough for the winner's write to land
		// without adding much latency to the loser.
		if ctx.Err() != nil {
			return 0, gaveUp(ctx, sessionID, agentID, err)
		}
		pause := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 5)))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, gaveUp(ctx, sessionID, agentID, err)
		case <-t.C:
		}
	}
}

func gaveUp(ctx context.Context, sessionID, agentID string, last error) error {
	return fmt.Errorf("session %q agent %q: append gave up: %w (last attempt: %w)", sessionID, agentID, ctx.Err(), last)
}
