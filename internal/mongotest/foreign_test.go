package mongotest_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// TestForeignWriter_OriginalPushBetweenManagerAppendsKeepsIDsDense is the
// observed mixed deployment: sessionkit writes a session, the Python
// original appends two messages with its own create_message ($push, no
// message_count), then sessionkit appends again — through the handle that
// was already open (its next id is stale) and through a manager that
// resumes. Ids must stay dense and unique and every count right.
func TestForeignWriter_OriginalPushBetweenManagerAppendsKeepsIDsDense(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, c, _ := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			orig := newOriginal(c, r.Database(), r.Collection())
			m, err := manager.New(ctx, r, "mixed", manager.Options{})
			require.NoError(t, err)
			a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
			require.NoError(t, err)
			for i := range 10 {
				_, err := a.Append(ctx, chat(session.RoleUser, fmt.Sprintf("go %d", i)))
				require.NoError(t, err)
			}
			last, err := orig.lastMessageID(ctx, "mixed", "a")
			require.NoError(t, err)
			for i := range 2 {
				require.NoError(t, orig.createMessage(ctx, "mixed", "a", last+1+i, textChat("user", fmt.Sprintf("py %d", i))))
			}
			n, err := r.CountMessages(ctx, "mixed", "a")
			require.NoError(t, err)
			assert.Equal(t, 12, n, "CountMessages after the original's pushes")

			// The open handle still believes the next id is 10.
			for i := range 2 {
				stored, err := a.Append(ctx, chat(session.RoleAssistant, fmt.Sprintf("go again %d", i)))
				require.NoError(t, err)
				assert.Equal(t, 12+i, stored.ID)
			}
			// A manager that resumes the agent.
			m2, err := manager.New(ctx, r, "mixed", manager.Options{})
			require.NoError(t, err)
			a2, err := m2.Initialize(ctx, "a", manager.AgentOptions{})
			require.NoError(t, err)
			stored, err := a2.Append(ctx, chat(session.RoleUser, "resumed"))
			require.NoError(t, err)
			assert.Equal(t, 14, stored.ID)

			requireDenseIDs(t, r, "mixed", "a", 15)
		})
	}
}

func chat(role session.Role, text string) session.ChatMessage {
	return session.ChatMessage{Role: role, Content: []session.ContentBlock{session.TextBlock(text)}}
}

// requireDenseIDs checks the agent's ids are 0..n-1 in array order, that
// CountMessages says n and that GetMessage(i) returns the element at i.
func requireDenseIDs(t *testing.T, r session.Repository, sid, aid string, n int) {
	t.Helper()
	ctx := ctxT(t)
	msgs, err := r.ListMessages(ctx, sid, aid, 0, 0)
	require.NoError(t, err)
	ids := make([]int, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	require.Equal(t, want, ids, "stored ids of %s/%s", sid, aid)
	count, err := r.CountMessages(ctx, sid, aid)
	require.NoError(t, err)
	require.Equal(t, n, count, "CountMessages")
	for i, m := range msgs {
		got, err := r.GetMessage(ctx, sid, aid, i)
		require.NoError(t, err)
		require.Equal(t, m.Message, got.Message, "GetMessage(%d)", i)
	}
}
