package mongotest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
)

func TestSmoke(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, _, _ := newRepo(t, uri, mongo.Options{MetadataFields: []string{"status"}})
			ctx := ctxT(t)
			t.Logf("caps %+v", r.Capabilities())
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s1", ApplicationName: "app"}))
			require.ErrorIs(t, r.CreateSession(ctx, &session.Session{ID: "s1"}), session.ErrAlreadyExists)
			require.NoError(t, r.CreateAgent(ctx, "s1", &session.Agent{ID: "a", State: map[string]any{"k.x": int64(1)}}))
			require.ErrorIs(t, r.CreateAgent(ctx, "s1", &session.Agent{ID: "a"}), session.ErrAlreadyExists)
			for i := 0; i < 3; i++ {
				require.NoError(t, r.CreateMessage(ctx, "s1", "a", &session.Message{ID: i, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("hi")}}}))
			}
			require.ErrorIs(t, r.CreateMessage(ctx, "s1", "a", &session.Message{ID: 1, Message: session.ChatMessage{Role: session.RoleUser}}), session.ErrConflict)
			n, err := r.CountMessages(ctx, "s1", "a")
			require.NoError(t, err)
			require.Equal(t, 3, n)
			ms, err := r.ListMessages(ctx, "s1", "a", 1, 1)
			require.NoError(t, err)
			require.Len(t, ms, 1)
			require.Equal(t, 1, ms[0].ID)
			m, err := r.GetMessage(ctx, "s1", "a", 2)
			require.NoError(t, err)
			require.Equal(t, 2, m.ID)
			m.RedactMessage = &session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("x")}}
			require.NoError(t, r.UpdateMessage(ctx, "s1", "a", m))
			require.NoError(t, r.RecordGuardrailEvent(ctx, "s1", "a", 2, &session.GuardrailEvent{StopReason: "x"}))
			a, err := r.GetAgent(ctx, "s1", "a")
			require.NoError(t, err)
			require.Equal(t, map[string]any{"k.x": int64(1)}, a.State)
			md, err := r.GetMetadata(ctx, "s1")
			require.NoError(t, err)
			require.Equal(t, map[string]any{"status": ""}, md)
			page, err := r.ListSessions(ctx, session.SessionQuery{})
			require.NoError(t, err)
			require.Len(t, page.Sessions, 1)
		})
	}
}
