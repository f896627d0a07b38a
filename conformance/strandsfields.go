package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// The fields of the newest Strands messages and agents (strands-2026.md,
// "Fields to round-trip on the message-log path"): a tracking_id inside
// every message, pinned_head_count in the conversation-manager state with
// the head-and-tail resume it implies, and unknown keys anywhere in
// messages, conversation-manager state and internal state.

func strandsFieldCases() []testCase {
	return []testCase{
		{"StrandsFields", "TrackingIDAndUnknownMessageKeysRoundTripThroughRedaction", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			orig := session.ChatMessage{Role: session.RoleUser,
				Content: []session.ContentBlock{{"text": "card 4111", "futureBlockKey": map[string]any{"k": int64(1)}}},
				Extra:   map[string]any{"tracking_id": "0196a3c2-6d1e-7b7a-9c4e-2f1d3b5a7c90", "future": []any{"x", 1.0}}}
			require.NoError(t, r.CreateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: orig}))
			redacted := session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("[redacted]")},
				Extra: map[string]any{"tracking_id": "0196a3c2-6d1e-7b7a-9c4e-2f1d3b5a7c90"}}
			require.NoError(t, r.UpdateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: orig, RedactMessage: &redacted}))
			got, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Equal(t, normalized(t, orig.Extra), any(got.Message.Extra))
			assert.Equal(t, normalizedBlocks(t, orig.Content), got.Message.Content)
			require.NotNil(t, got.RedactMessage)
			assert.Equal(t, redacted.Extra, got.RedactMessage.Extra, "the redaction keeps its tracking_id")
			list, err := r.ListMessages(ctx, sid, aid, 0, 0)
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, got.Message.Extra, list[0].Message.Extra)
		}},
		{"StrandsFields", "PinnedHeadAndUnknownStateKeysRoundTrip", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			cms := map[string]any{"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(3),
				"model_call_count": int64(0), "pinned_head_count": int64(2), "future_cm_key": map[string]any{"a": []any{true}}}
			internal := map[string]any{"interrupt_state": map[string]any{"interrupts": map[string]any{}, "context": map[string]any{}, "activated": false},
				"model_state": map[string]any{"response_id": "resp_1"}, "future_internal": "x"}
			state := map[string]any{"blob": []byte{0, 1, 0xfe}, "nested": map[string]any{"b": []byte("x")}}
			require.NoError(t, r.CreateAgent(ctx, sid, &session.Agent{ID: aid, State: state, ConversationManagerState: cms, InternalState: internal}))
			got, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, cms, got.ConversationManagerState)
			assert.Equal(t, internal, got.InternalState)
			assert.Equal(t, state, got.State, "bytes in agent state round-trip")
			cms["pinned_head_count"] = int64(1)
			require.NoError(t, r.UpdateAgent(ctx, sid, &session.Agent{ID: aid, State: state, ConversationManagerState: cms, InternalState: internal}))
			got, err = r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, cms, got.ConversationManagerState)

			// The resume Strands does with a pinned head: the head page and
			// the tail after the removed messages.
			appendN(t, ctx, r, sid, aid, 7)
			pinned, removed := 2, 3
			head, err := r.ListMessages(ctx, sid, aid, 0, pinned)
			require.NoError(t, err)
			requireIDs(t, []int{0, 1}, head)
			tail, err := r.ListMessages(ctx, sid, aid, pinned+removed, 0)
			require.NoError(t, err)
			requireIDs(t, []int{5, 6}, tail)
		}},
	}
}
