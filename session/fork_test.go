package session_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func intPtr(v int) *int { return &v }

func TestPrepareFork_NamesTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		req   session.ForkRequest
		field string
	}{
		{"ok whole", session.ForkRequest{SourceID: "a", ID: "b"}, ""},
		{"ok agent cut", session.ForkRequest{SourceID: "a", ID: "b", AgentID: "x", MessageID: intPtr(0)}, ""},
		{"empty source", session.ForkRequest{ID: "b"}, "session_id"},
		{"empty new id", session.ForkRequest{SourceID: "a"}, "session_id"},
		{"same id", session.ForkRequest{SourceID: "a", ID: "a"}, "session_id"},
		{"bad agent", session.ForkRequest{SourceID: "a", ID: "b", AgentID: "$x"}, "agent_id"},
		{"message without agent", session.ForkRequest{SourceID: "a", ID: "b", MessageID: intPtr(1)}, "message_id"},
		{"negative message", session.ForkRequest{SourceID: "a", ID: "b", AgentID: "x", MessageID: intPtr(-1)}, "message_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.PrepareFork(tc.req)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var fe *session.FieldError
			require.True(t, errors.As(err, &fe), "%v", err)
			assert.Equal(t, tc.field, fe.Field)
			assert.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func TestForkCut(t *testing.T) {
	t.Parallel()
	req := session.ForkRequest{SourceID: "a", ID: "b", AgentID: "x"}
	n, cut, err := driver.ForkCut(req, 5)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	assert.False(t, cut)
	req.MessageID = intPtr(4)
	n, cut, err = driver.ForkCut(req, 5)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	assert.False(t, cut, "the last message is no cut")
	req.MessageID = intPtr(1)
	n, cut, err = driver.ForkCut(req, 5)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.True(t, cut)
	req.MessageID = intPtr(5)
	_, _, err = driver.ForkCut(req, 5)
	assert.ErrorIs(t, err, session.ErrNotFound)
}

func TestForkCutAgent_KeepsTheClassAndCopies(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]map[string]any{
		"SlidingWindowConversationManager": {"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(0), "model_call_count": int64(0)},
		"SummarizingConversationManager":   {"summary_message": nil, "__name__": "SummarizingConversationManager", "removed_message_count": int64(0)},
		"NullConversationManager":          {"__name__": "NullConversationManager", "removed_message_count": int64(0)},
	} {
		a := &session.Agent{ID: "x", State: map[string]any{"k": "v"},
			ConversationManagerState: map[string]any{"__name__": name, "removed_message_count": int64(7), "summary_message": map[string]any{"role": "user"}},
			InternalState:            map[string]any{"model_state": map[string]any{"response_id": "r"}}}
		got := driver.ForkCutAgent(a)
		assert.Equal(t, want, got.ConversationManagerState, name)
		assert.Equal(t, map[string]any{}, got.InternalState["model_state"])
		got.State["k"] = "changed"
		assert.Equal(t, "v", a.State["k"], "a copy")
		assert.Equal(t, int64(7), a.ConversationManagerState["removed_message_count"], "the source is untouched")
	}
	assert.Nil(t, driver.ForkCutAgent(&session.Agent{ID: "x"}).ConversationManagerState, "no class, no state")
}

func TestSessionClone_CopiesLineage(t *testing.T) {
	t.Parallel()
	s := &session.Session{ID: "b", ForkedFrom: &session.ForkOrigin{SessionID: "a", AgentID: "x", MessageID: intPtr(3), At: time.Now()}}
	c := s.Clone()
	*c.ForkedFrom.MessageID = 9
	c.ForkedFrom.SessionID = "z"
	assert.Equal(t, 3, *s.ForkedFrom.MessageID)
	assert.Equal(t, "a", s.ForkedFrom.SessionID)
}

func TestPrepareQuery_ForkedFrom(t *testing.T) {
	t.Parallel()
	_, _, err := driver.PrepareQuery(session.SessionQuery{ForkedFrom: "a/b"})
	var fe *session.FieldError
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, "forked_from", fe.Field)
	q, _, err := driver.PrepareQuery(session.SessionQuery{ForkedFrom: "ok"})
	require.NoError(t, err)
	assert.True(t, q.Matches(&session.Session{ID: "f", ForkedFrom: &session.ForkOrigin{SessionID: "ok"}}))
	assert.False(t, q.Matches(&session.Session{ID: "g"}))
	assert.False(t, q.Matches(&session.Session{ID: "h", ForkedFrom: &session.ForkOrigin{SessionID: "other"}}))
}
