package conformance

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// roundTrip stores blocks as message 0 and agent state, reads both back and
// requires them equal to their normalized form.
func roundTrip(t *testing.T, h Harness, blocks []session.ContentBlock, state map[string]any) {
	t.Helper()
	ctx, r := setup(t, h)
	createSession(t, ctx, r, sid)
	require.NoError(t, r.CreateAgent(ctx, sid, &session.Agent{ID: aid, State: state}))
	require.NoError(t, r.CreateMessage(ctx, sid, aid, &session.Message{ID: 0,
		Message: session.ChatMessage{Role: session.RoleAssistant, Content: blocks}}))
	got, err := r.GetMessage(ctx, sid, aid, 0)
	require.NoError(t, err)
	require.Equal(t, normalizedBlocks(t, blocks), got.Message.Content)
	list, err := r.ListMessages(ctx, sid, aid, 0, 0)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, normalizedBlocks(t, blocks), list[0].Message.Content, "ListMessages agrees with GetMessage")
	if state != nil {
		a, err := r.GetAgent(ctx, sid, aid)
		require.NoError(t, err)
		require.Equal(t, normalized(t, state), a.State)
	}
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func nested(depth int) map[string]any {
	m := map[string]any{"leaf": "bottom", "n": int64(depth)}
	for i := range depth {
		if i%2 == 0 {
			m = map[string]any{"level": int64(depth - i), "child": m}
		} else {
			m = map[string]any{"list": []any{m, int64(i)}}
		}
	}
	return m
}

func valueCases() []testCase {
	return []testCase{
		{"Values", "UnicodeRoundTrips", func(t *testing.T, h Harness) {
			texts := []string{
				"line\u2028separator\u2029paragraph",
				"emoji 😀 family 👩‍👩‍👧 flag 🇺🇦",
				"RTL שלום عربى mixed abc",
				"combining e\u0301 and zero\u200bwidth",
				"control \t\n\r and quote \" backslash \\ and <html>&amp;",
				"",
			}
			var blocks []session.ContentBlock
			for _, s := range texts {
				blocks = append(blocks, session.TextBlock(s))
			}
			roundTrip(t, h, blocks, map[string]any{"名前": "値", "emoji😀": "✓"})
		}},
		{"Values", "BinaryRoundTrips", func(t *testing.T, h Harness) {
			blocks := []session.ContentBlock{
				{"image": map[string]any{"format": "png", "source": map[string]any{"bytes": allBytes()}}},
				{"document": map[string]any{"format": "txt", "name": "empty", "source": map[string]any{"bytes": []byte{}}}},
				{"raw": []any{[]byte("a"), []byte{0, 0, 0}}},
			}
			roundTrip(t, h, blocks, map[string]any{"blob": allBytes(), "empty": []byte{}})
		}},
		{"Values", "DeeplyNestedToolInputRoundTrips", func(t *testing.T, h Harness) {
			roundTrip(t, h, []session.ContentBlock{session.ToolUseBlock("t-1", "deep", nested(50))}, map[string]any{"deep": nested(40)})
		}},
		{"Values", "KeysWithDotAndDollarInsideValuesRoundTrip", func(t *testing.T, h Harness) {
			input := map[string]any{"a.b": int64(1), "$set": "x", "$": map[string]any{"c.d.e": true, "$in": []any{"$x"}}, "": "empty key"}
			roundTrip(t, h, []session.ContentBlock{
				session.ToolUseBlock("t-1", "tool", input),
				{"toolResult": map[string]any{"toolUseId": "t-1", "status": "success", "content": []any{map[string]any{"json": input}}}},
			}, map[string]any{"nested": input})
		}},
		{"Values", "IntsStayIntsAndFloatsStayFloats", func(t *testing.T, h Harness) {
			input := map[string]any{
				"one": 1, "oneFloat": 1.0, "zeroFloat": 0.0, "negZero": math.Copysign(0, -1), "max": int64(math.MaxInt64),
				"min": int64(math.MinInt64), "big": 1e16, "tiny": 5e-324, "third": 1.0 / 3, "int32": int32(-7),
				"uint16": uint16(65535), "float32": float32(0.5), "list": []any{1, 1.0, "1", true, nil},
			}
			roundTrip(t, h, []session.ContentBlock{session.ToolUseBlock("t-1", "nums", input)}, input)

			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"i": 1, "f": 1.0}))
			md, err := r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			assert.IsType(t, int64(0), md["i"])
			assert.IsType(t, float64(0), md["f"])
			assert.Equal(t, map[string]any{"i": int64(1), "f": 1.0}, md)
		}},
		{"Values", "MessageMetadataAndExtraRoundTrip", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			in := session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock("x")},
				Metadata: map[string]any{"usage": map[string]any{"inputTokens": int64(1), "outputTokens": int64(2)},
					"metrics": map[string]any{"latencyMs": int64(300)}},
				Extra: map[string]any{"tracking_id": "abc", "weird.key": []any{1.5}}}
			require.NoError(t, r.CreateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: in}))
			got, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Equal(t, normalized(t, in.Metadata), got.Message.Metadata)
			assert.Equal(t, normalized(t, in.Extra), got.Message.Extra)
		}},
		{"Values", "EmptyContentAndEmptyTextRoundTrip", func(t *testing.T, h Harness) {
			// An empty block ({}) is refused (ErrInvalidArgument cases);
			// an empty content list and an empty text are not.
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			require.NoError(t, r.CreateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: session.ChatMessage{Role: session.RoleUser}}))
			require.NoError(t, r.CreateMessage(ctx, sid, aid, &session.Message{ID: 1, Message: session.ChatMessage{Role: session.RoleUser,
				Content: []session.ContentBlock{{"text": ""}, {"futureKind": map[string]any{}}}}}))
			got, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Empty(t, got.Message.Content)
			got, err = r.GetMessage(ctx, sid, aid, 1)
			require.NoError(t, err)
			assert.Equal(t, []session.ContentBlock{{"text": ""}, {"futureKind": map[string]any{}}}, got.Message.Content)
		}},
	}
}
