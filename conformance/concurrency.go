package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// appendWithRetry appends text as the agent's next message, re-reading the
// count after each ErrConflict, and returns the id it got.
func appendWithRetry(ctx context.Context, r session.Repository, sessionID, agentID, text string) (int, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 1000 {
			return 0, fmt.Errorf("%q: no progress after %d attempts", text, attempt)
		}
		n, err := r.CountMessages(ctx, sessionID, agentID)
		if err != nil {
			return 0, err
		}
		err = r.CreateMessage(ctx, sessionID, agentID, msg(n, text))
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, session.ErrConflict) {
			return 0, err
		}
	}
}

func concurrencyCases() []testCase {
	return []testCase{
		{"CreateMessage", "ConcurrentWritersNeverDuplicateIDs", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			concurrentAppends(t, ctx, []session.Repository{r}, 32, 1, appendWithRetry)
		}},
		{"CreateMessage", "ConcurrentWritersOfOneIDExactlyOneWins", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 2)
			const n = 16
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = r.CreateMessage(ctx, sid, aid, msg(2, fmt.Sprintf("writer-%d", i)))
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					require.Equal(t, -1, winner, "writers %d and %d both succeeded", winner, i)
					winner = i
					continue
				}
				requireIs(t, err, session.ErrConflict, "losing CreateMessage")
			}
			require.NotEqual(t, -1, winner)
			msgs, err := r.ListMessages(ctx, sid, aid, 0, 0)
			require.NoError(t, err)
			requireIDs(t, seq(0, 3), msgs)
			assert.Equal(t, fmt.Sprintf("writer-%d", winner), textOf(t, msgs[2]))
		}},
		{"CreateMessage", "ConcurrentAgentsInOneSessionDoNotInterfere", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			const agents, each = 4, 5
			for a := range agents {
				createAgent(t, ctx, r, sid, fmt.Sprintf("agent-%d", a))
			}
			var wg sync.WaitGroup
			errs := make(chan error, agents)
			for a := range agents {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("agent-%d", a)
					for i := range each {
						if err := r.CreateMessage(ctx, sid, id, msg(i, fmt.Sprintf("%s-%d", id, i))); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			// Metadata and feedback writes to the same session meanwhile.
			for i := range 5 {
				require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{fmt.Sprintf("k%d", i): int64(i)}))
				_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp})
				require.NoError(t, err)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			d := dumpSession(t, ctx, r, sid)
			for a := range agents {
				id := fmt.Sprintf("agent-%d", a)
				requireIDs(t, seq(0, each), d.Messages[id])
				for i, m := range d.Messages[id] {
					assert.Equal(t, fmt.Sprintf("%s-%d", id, i), textOf(t, m))
				}
			}
			assert.Len(t, d.Metadata, 5)
			assert.Len(t, d.Feedback, 5)
		}},
	}
}
