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

// concurrentAppends runs one appending goroutine per writer (each writing
// perWriter messages, alternating over repos) and checks that every
// acknowledged message is stored exactly once, under the id it was given,
// with ids dense from 0.
func concurrentAppends(t *testing.T, ctx context.Context, repos []session.Repository, writers, perWriter int) {
	t.Helper()
	type ack struct {
		id   int
		text string
	}
	acks := make(chan ack, writers*perWriter)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := repos[w%len(repos)]
			for i := range perWriter {
				text := fmt.Sprintf("writer-%d-%d", w, i)
				id, err := appendWithRetry(ctx, r, sid, aid, text)
				if err != nil {
					errs <- err
					return
				}
				acks <- ack{id, text}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(acks)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	byID := map[int]string{}
	for a := range acks {
		prev, dup := byID[a.id]
		require.False(t, dup, "id %d acknowledged to both %q and %q", a.id, prev, a.text)
		byID[a.id] = a.text
	}
	total := writers * perWriter
	require.Len(t, byID, total)
	for _, r := range repos {
		msgs, err := r.ListMessages(ctx, sid, aid, 0, 0)
		require.NoError(t, err)
		requireIDs(t, seq(0, total), msgs)
		seen := map[string]bool{}
		for _, m := range msgs {
			got := textOf(t, m)
			assert.Equal(t, byID[m.ID], got, "message %d holds another writer's content", m.ID)
			assert.False(t, seen[got], "%q stored twice", got)
			seen[got] = true
		}
		n, err := r.CountMessages(ctx, sid, aid)
		require.NoError(t, err)
		assert.Equal(t, total, n)
	}
}

func concurrencyCases() []testCase {
	return []testCase{
		{"CreateMessage", "ConcurrentWritersNeverDuplicateIDs", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			concurrentAppends(t, ctx, []session.Repository{r}, 32, 1)
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
