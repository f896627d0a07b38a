package driver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// The newest Strands fields survive the file codec: tracking_id in a
// message and its redaction, pinned_head_count and unknown keys in the
// conversation-manager and internal state, bytes in agent state.
func TestStrandsCodec_NewestFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	m := &session.Message{ID: 3,
		Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("secret")},
			Extra: map[string]any{"tracking_id": "0196a3c2-6d1e-7b7a-9c4e-2f1d3b5a7c90", "future": map[string]any{"k": int64(1)}}},
		RedactMessage: &session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("[redacted]")},
			Extra: map[string]any{"tracking_id": "0196a3c2-6d1e-7b7a-9c4e-2f1d3b5a7c90"}},
	}
	b, err := driver.MarshalStrandsMessage(m)
	require.NoError(t, err)
	got, err := driver.UnmarshalStrandsMessage(b)
	require.NoError(t, err)
	assert.Equal(t, m.Message.Extra, got.Message.Extra)
	require.NotNil(t, got.RedactMessage)
	assert.Equal(t, m.RedactMessage.Extra, got.RedactMessage.Extra)

	a := &session.Agent{ID: "a",
		State: map[string]any{"blob": []byte{0, 0xff}},
		ConversationManagerState: map[string]any{"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(4),
			"model_call_count": int64(0), "pinned_head_count": int64(2), "future": []any{1.5}},
		InternalState: map[string]any{"interrupt_state": map[string]any{"interrupts": map[string]any{}, "context": map[string]any{}, "activated": false},
			"model_state": map[string]any{}, "future_internal": true}}
	b, err = driver.MarshalStrandsAgent(a)
	require.NoError(t, err)
	ga, err := driver.UnmarshalStrandsAgent(b)
	require.NoError(t, err)
	assert.Equal(t, a.State, ga.State)
	assert.Equal(t, a.ConversationManagerState, ga.ConversationManagerState)
	assert.Equal(t, a.InternalState, ga.InternalState)
	assert.Contains(t, string(b), "\"model_call_count\": 0,\n    \"future\"", "known keys first in the SDK's order, unknown ones after, sorted")
}
