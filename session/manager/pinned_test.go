package manager_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// Later Strands conversation managers pin the first messages: their state
// carries pinned_head_count, and resume reads the head page
// (offset 0, limit pinned) and the tail page (offset pinned+removed), so
// the pinned head survives a sliding window that removed later messages.
func TestInitialize_PinnedHeadResumesHeadAndTail(t *testing.T) {
	t.Parallel()
	stored := []session.ChatMessage{userText("m0"), assistantText("m1"), userText("m2"), assistantText("m3"), userText("m4"), assistantText("m5")}
	summary := assistantText("summary")
	cases := []struct {
		name          string
		cm            map[string]any
		want          []session.ChatMessage
		listCalls     int
		countMessages int
	}{
		{"pinned 2 removed 2", map[string]any{"__name__": "SlidingWindowConversationManager", "pinned_head_count": int64(2), "removed_message_count": int64(2)},
			[]session.ChatMessage{stored[0], stored[1], stored[4], stored[5]}, 2, 0},
		{"pinned from JSON numbers", map[string]any{"__name__": "SlidingWindowConversationManager", "pinned_head_count": float64(1), "removed_message_count": float64(3)},
			[]session.ChatMessage{stored[0], stored[4], stored[5]}, 2, 0},
		{"summary sits after the pinned head", map[string]any{"__name__": "SummarizingConversationManager", "summary_message": summary.Map(), "pinned_head_count": int64(1), "removed_message_count": int64(4)},
			[]session.ChatMessage{stored[0], summary, stored[5]}, 2, 0},
		{"everything after the head removed", map[string]any{"__name__": "SlidingWindowConversationManager", "pinned_head_count": int64(2), "removed_message_count": int64(4)},
			[]session.ChatMessage{stored[0], stored[1]}, 2, 1},
		{"pinned 0 is the plain offset resume", map[string]any{"__name__": "SlidingWindowConversationManager", "pinned_head_count": int64(0), "removed_message_count": int64(4)},
			[]session.ChatMessage{stored[4], stored[5]}, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inner := newMemory()
			seedAgent(t, inner, "s", &session.Agent{ID: "a", ConversationManagerState: tc.cm}, stored...)
			repo := newCounting(inner)
			m := newManager(t, repo, "s", manager.Options{})
			repo.reset()
			a := initAgent(t, m, "a", manager.AgentOptions{})
			assert.Equal(t, tc.want, a.Messages())
			assert.Equal(t, len(stored), a.NextMessageID(), "the next id follows the whole stored log")
			assert.Equal(t, tc.listCalls, repo.count("ListMessages"))
			assert.Equal(t, tc.countMessages, repo.count("CountMessages"))
			assert.Equal(t, tc.cm["pinned_head_count"], a.ConversationManagerState()["pinned_head_count"], "the state round-trips untouched")
		})
	}
}

func TestInitialize_BadPinnedHeadCountIsInvalidArgument(t *testing.T) {
	t.Parallel()
	for _, v := range []any{"2", int64(-1), float64(1.5)} {
		inner := newMemory()
		seedAgent(t, inner, "s", &session.Agent{ID: "a", ConversationManagerState: map[string]any{"pinned_head_count": v}}, userText("m0"))
		m := newManager(t, inner, "s", manager.Options{})
		_, err := m.Initialize(t.Context(), "a", manager.AgentOptions{})
		require.ErrorIs(t, err, session.ErrInvalidArgument, "%v", v)
		assert.ErrorContains(t, err, "pinned_head_count")
	}
}

// RemoveOldest keeps the pinned head, and a resume after it shows what the
// agent showed.
func TestRemoveOldest_KeepsThePinnedHead(t *testing.T) {
	t.Parallel()
	stored := []session.ChatMessage{userText("m0"), assistantText("m1"), userText("m2"), assistantText("m3")}
	repo := newMemory()
	seedAgent(t, repo, "s", &session.Agent{ID: "a", ConversationManagerState: map[string]any{
		"__name__": "SlidingWindowConversationManager", "pinned_head_count": int64(1), "removed_message_count": int64(0),
	}}, stored...)
	a := initAgent(t, newManager(t, repo, "s", manager.Options{}), "a", manager.AgentOptions{})
	assert.Equal(t, 2, a.RemoveOldest(2))
	want := []session.ChatMessage{stored[0], stored[3]}
	assert.Equal(t, want, a.Messages())
	assert.Equal(t, int64(2), a.ConversationManagerState()["removed_message_count"])
	assert.Equal(t, 1, a.RemoveOldest(5), "the pinned head is never removed")
	assert.Equal(t, []session.ChatMessage{stored[0]}, a.Messages())

	_, err := a.Sync(t.Context())
	require.NoError(t, err)
	b := initAgent(t, newManager(t, repo, "s", manager.Options{}), "a", manager.AgentOptions{})
	assert.Equal(t, []session.ChatMessage{stored[0]}, b.Messages())
	assert.Equal(t, len(stored), b.NextMessageID())
}
