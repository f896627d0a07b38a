package mongotest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// A pinned-head resume (later Strands: pinned_head_count) reads the agent,
// a head page and a tail page. On MongoDB it takes at most two round trips
// (GetAgent, then both pages and the count in one ListMessagePages), and
// where the server can slice in an aggregate (MongoDB, mongo-java-server)
// it receives no more bytes than GetAgent and the two pages read on their
// own: the removed messages between them never travel. FerretDB v1 has no
// $slice there, so its one read carries the whole array (the byte budget
// is not asserted there; the round trips are).
func TestPinnedResume_TwoRoundTripsAndOnlyTheTwoPages(t *testing.T) {
	t.Parallel()
	const pinned, removed, total = 2, 5, 10
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			uri, _ := srv.start(t)
			r, _, cc := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
			require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a", ConversationManagerState: map[string]any{
				"__name__": "SlidingWindowConversationManager", "pinned_head_count": int64(pinned), "removed_message_count": int64(removed),
			}}))
			filler := strings.Repeat("removed-or-shown ", 400) // ~7 KB a message
			for i := range total {
				require.NoError(t, r.CreateMessage(ctx, "s", "a", textMessage(i, fmt.Sprintf("m%d %s", i, filler))))
			}

			// The budget: what reading the agent and each page on its own
			// receives (the tail with its exact limit, so it is sliced).
			budget := cc.received.Load()
			_, err := r.GetAgent(ctx, "s", "a")
			require.NoError(t, err)
			_, err = r.ListMessages(ctx, "s", "a", 0, pinned)
			require.NoError(t, err)
			_, err = r.ListMessages(ctx, "s", "a", pinned+removed, total-pinned-removed)
			require.NoError(t, err)
			budget = cc.received.Load() - budget

			m, err := manager.OpenSession(r, &session.Session{ID: "s"}, manager.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })
			before := cc.received.Load()
			var a *manager.AgentSession
			n := cc.count(func() { a, err = m.Initialize(ctx, "a", manager.AgentOptions{}) })
			require.NoError(t, err)
			got := cc.received.Load() - before

			var texts []string
			for _, msg := range a.Messages() {
				text, _ := msg.Content[0].Text()
				texts = append(texts, strings.Fields(text)[0])
			}
			assert.Equal(t, []string{"m0", "m1", "m7", "m8", "m9"}, texts, "pinned head, then the tail")
			assert.Equal(t, total, a.NextMessageID())
			assert.LessOrEqual(t, n, int64(2), "round trips of the resume")
			t.Logf("resume: %d round trip(s), %d bytes received; GetAgent + the two pages alone: %d bytes", n, got, budget)
			if r.Capabilities().Aggregation {
				assert.LessOrEqual(t, got, budget, "bytes received by the resume")
			}
		})
	}
}
