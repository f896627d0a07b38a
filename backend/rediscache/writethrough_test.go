package rediscache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/internal/benchsuite"
	"github.com/sessionkit/sessionkit/session"
)

// resumeReads is the resume of the chat workload: what session/manager
// reads to resume an agent (GetSession, GetAgent, the window from
// removed_message_count on).
func resumeReads(ctx context.Context, r session.Repository, sid, aid string, offset int) (*session.Session, *session.Agent, []*session.Message, error) {
	s, err := r.GetSession(ctx, sid)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := r.GetAgent(ctx, sid, aid)
	if err != nil {
		return nil, nil, nil, err
	}
	ms, err := r.ListMessages(ctx, sid, aid, offset, 0)
	return s, a, ms, err
}

// TestResumeAfterOwnWrites_IsAHit is the chat workload's request: resume,
// append the user's message, append the assistant's, sync the agent. The
// next request's resume must be served from Redis: no backend call at all
// (counted by a counting wrapper around the backend), and the values equal
// the backend's.
func TestResumeAfterOwnWrites_IsAHit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		offset int // removed_message_count of a sliding window
	}{{"whole log", 0}, {"window", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{})
			counting := benchsuite.NewCounting(sharedRepo{f.backend.Repository})
			c, err := New(counting, f.client, Options{RedisTimeout: 2 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			ctx := ctxT(t)
			const sid, aid = "s1", "a1"
			mustCreateSession(t, c, sid, nil)
			require.NoError(t, c.CreateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"turn": int64(0)}}))
			for i := range 4 {
				_, err := c.AppendMessage(ctx, sid, aid, userMessage(fmt.Sprint("m", i)))
				require.NoError(t, err)
			}
			for turn := 1; turn <= 3; turn++ {
				before := counting.Calls()
				_, _, _, err := resumeReads(ctx, c, sid, aid, tc.offset)
				require.NoError(t, err)
				if turn > 1 {
					assert.Equal(t, before, counting.Calls(), "turn %d: resume after the previous turn's writes reached the backend: %v", turn, counting.ByMethod())
				}
				_, err = c.AppendMessage(ctx, sid, aid, userMessage(fmt.Sprint("user ", turn)))
				require.NoError(t, err)
				_, err = c.AppendMessage(ctx, sid, aid, &session.Message{Message: session.ChatMessage{Role: session.RoleAssistant,
					Content: []session.ContentBlock{session.TextBlock(fmt.Sprint("answer ", turn))}}})
				require.NoError(t, err)
				require.NoError(t, c.UpdateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"turn": int64(turn)},
					ConversationManagerState: map[string]any{"removed_message_count": int64(tc.offset)},
					InternalState:            map[string]any{}}))
			}
			before := counting.Calls()
			s, a, ms, err := resumeReads(ctx, c, sid, aid, tc.offset)
			require.NoError(t, err)
			assert.Equal(t, before, counting.Calls(), "resume after writes reached the backend: %v", counting.ByMethod())

			// What the hits returned is what the backend holds.
			ws, wa, wms, err := resumeReads(ctx, f.backend.Repository, sid, aid, tc.offset)
			require.NoError(t, err)
			assert.Equal(t, wms, ms, "messages")
			assert.False(t, s.UpdatedAt.After(ws.UpdatedAt), "session UpdatedAt %s after the backend's %s", s.UpdatedAt, ws.UpdatedAt)
			s.UpdatedAt = ws.UpdatedAt
			assert.Equal(t, ws, s, "session")
			assert.False(t, a.UpdatedAt.After(wa.UpdatedAt), "agent UpdatedAt %s after the backend's %s", a.UpdatedAt, wa.UpdatedAt)
			a.UpdatedAt = wa.UpdatedAt
			assert.Equal(t, wa, a, "agent")
		})
	}
}
