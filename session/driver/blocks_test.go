package driver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Known Strands content blocks are checked for their required fields and
// types, with the error naming the field; unknown kinds are kept as they
// are; negative counts are rejected.
func TestPrepareMessage_ContentBlocks(t *testing.T) {
	t.Parallel()
	png := []byte{0x89, 'P', 'N', 'G'}
	src := map[string]any{"bytes": png}
	tests := []struct {
		name  string
		block session.ContentBlock
		field string // empty: accepted
	}{
		{"text", session.ContentBlock{"text": "hi"}, ""},
		{"text not a string", session.ContentBlock{"text": int64(5)}, "message.content[0].text"},
		{"empty block", session.ContentBlock{}, "message.content[0]"},
		{"nil block", nil, "message.content[0]"},
		{"toolUse", session.ToolUseBlock("t1", "lookup", map[string]any{"q": "x"}), ""},
		{"toolUse without toolUseId", session.ContentBlock{"toolUse": map[string]any{"name": "n", "input": map[string]any{}}}, "message.content[0].toolUse.toolUseId"},
		{"toolUse empty toolUseId", session.ContentBlock{"toolUse": map[string]any{"toolUseId": "", "name": "n", "input": map[string]any{}}}, "message.content[0].toolUse.toolUseId"},
		{"toolUse without name", session.ContentBlock{"toolUse": map[string]any{"toolUseId": "t", "input": map[string]any{}}}, "message.content[0].toolUse.name"},
		{"toolUse without input", session.ContentBlock{"toolUse": map[string]any{"toolUseId": "t", "name": "n"}}, "message.content[0].toolUse.input"},
		{"toolUse not an object", session.ContentBlock{"toolUse": "x"}, "message.content[0].toolUse"},
		{"toolResult", session.ToolResultBlock("t1", "success", session.TextBlock("ok")), ""},
		{"toolResult with json", session.ContentBlock{"toolResult": map[string]any{"toolUseId": "t", "status": "error", "content": []any{map[string]any{"json": map[string]any{"a": int64(1)}}}}}, ""},
		{"toolResult without status", session.ContentBlock{"toolResult": map[string]any{"toolUseId": "t", "content": []any{}}}, ""},
		{"toolResult weird status", session.ToolResultBlock("t1", "weird"), "message.content[0].toolResult.status"},
		{"toolResult without toolUseId", session.ContentBlock{"toolResult": map[string]any{"status": "success", "content": []any{}}}, "message.content[0].toolResult.toolUseId"},
		{"toolResult without content", session.ContentBlock{"toolResult": map[string]any{"toolUseId": "t", "status": "success"}}, "message.content[0].toolResult.content"},
		{"toolResult content bad text", session.ToolResultBlock("t1", "success", session.ContentBlock{"text": true}), "message.content[0].toolResult.content[0].text"},
		{"toolResult content empty item", session.ContentBlock{"toolResult": map[string]any{"toolUseId": "t", "content": []any{map[string]any{}}}}, "message.content[0].toolResult.content[0]"},
		{"toolResult content not objects", session.ContentBlock{"toolResult": map[string]any{"toolUseId": "t", "content": []any{"x"}}}, "message.content[0].toolResult.content[0]"},
		{"image", session.ContentBlock{"image": map[string]any{"format": "png", "source": src}}, ""},
		{"image from S3", session.ContentBlock{"image": map[string]any{"format": "png", "source": map[string]any{"s3Location": map[string]any{"uri": "s3://b/k"}}}}, ""},
		{"image bytes not binary", session.ContentBlock{"image": map[string]any{"format": "png", "source": map[string]any{"bytes": "not-b64!"}}}, "message.content[0].image.source.bytes"},
		{"image without format", session.ContentBlock{"image": map[string]any{"source": src}}, "message.content[0].image.format"},
		{"image without source", session.ContentBlock{"image": map[string]any{"format": "png"}}, "message.content[0].image.source"},
		{"image empty source", session.ContentBlock{"image": map[string]any{"format": "png", "source": map[string]any{}}}, "message.content[0].image.source"},
		{"image S3 without uri", session.ContentBlock{"image": map[string]any{"format": "png", "source": map[string]any{"s3Location": map[string]any{}}}}, "message.content[0].image.source.s3Location.uri"},
		{"document", session.ContentBlock{"document": map[string]any{"format": "pdf", "name": "a", "source": src}}, ""},
		{"document without name", session.ContentBlock{"document": map[string]any{"format": "pdf", "source": src}}, "message.content[0].document.name"},
		{"video", session.ContentBlock{"video": map[string]any{"format": "mp4", "source": src}}, ""},
		{"video format not a string", session.ContentBlock{"video": map[string]any{"format": int64(1), "source": src}}, "message.content[0].video.format"},
		{"reasoning text", session.ContentBlock{"reasoningContent": map[string]any{"reasoningText": map[string]any{"text": "t", "signature": "s"}}}, ""},
		{"reasoning redacted", session.ContentBlock{"reasoningContent": map[string]any{"redactedContent": png}}, ""},
		{"reasoning redacted not binary", session.ContentBlock{"reasoningContent": map[string]any{"redactedContent": "x"}}, "message.content[0].reasoningContent.redactedContent"},
		{"reasoning text missing", session.ContentBlock{"reasoningContent": map[string]any{"reasoningText": map[string]any{}}}, "message.content[0].reasoningContent.reasoningText.text"},
		{"reasoning empty", session.ContentBlock{"reasoningContent": map[string]any{}}, "message.content[0].reasoningContent"},
		{"cachePoint", session.ContentBlock{"cachePoint": map[string]any{"type": "default"}}, ""},
		{"cachePoint without type", session.ContentBlock{"cachePoint": map[string]any{}}, "message.content[0].cachePoint.type"},
		{"guardContent text", session.ContentBlock{"guardContent": map[string]any{"text": map[string]any{"text": "t", "qualifiers": []any{"query"}}}}, ""},
		{"guardContent bad qualifier", session.ContentBlock{"guardContent": map[string]any{"text": map[string]any{"text": "t", "qualifiers": []any{int64(1)}}}}, "message.content[0].guardContent.text.qualifiers[0]"},
		{"guardContent empty", session.ContentBlock{"guardContent": map[string]any{}}, "message.content[0].guardContent"},
		{"citationsContent", session.ContentBlock{"citationsContent": map[string]any{"citations": []any{map[string]any{"title": "x"}}, "content": []any{map[string]any{"text": "y"}}}}, ""},
		{"citationsContent bad text", session.ContentBlock{"citationsContent": map[string]any{"content": []any{map[string]any{"text": int64(1)}}}}, "message.content[0].citationsContent.content[0].text"},
		{"unknown kind", session.ContentBlock{"futureBlock": map[string]any{"anything": []any{int64(1)}}}, ""},
		{"unknown kind next to text", session.ContentBlock{"text": "a", "x-extra": int64(1)}, ""},
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &session.Message{Message: session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{tt.block}}}
			out, err := driver.PrepareMessage(m, now)
			if tt.field == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.block, out.Message.Content[0], "the block is kept as it is")
			} else {
				require.ErrorIs(t, err, session.ErrInvalidArgument)
				var fe *session.FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tt.field, fe.Field, "error: %v", err)
			}
			// The redact message follows the same rules.
			red := session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{tt.block}}
			m = &session.Message{Message: session.ChatMessage{Role: session.RoleUser}, RedactMessage: &red}
			_, err = driver.PrepareMessage(m, now)
			if tt.field == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, session.ErrInvalidArgument)
			}
		})
	}
}

// Token counts, latencies and tool statistics are never negative, neither
// in the event-loop metrics nor in a message's Strands usage metadata.
func TestPrepareMessage_NegativeCounts(t *testing.T) {
	t.Parallel()
	ok := session.Message{Message: session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock("x")}}}
	tests := []struct {
		name  string
		edit  func(m *session.Message)
		field string
	}{
		{"accepted", func(*session.Message) {}, ""},
		{"input tokens", func(m *session.Message) {
			m.EventLoopMetrics = &session.EventLoopMetrics{AccumulatedUsage: session.Usage{InputTokens: -1}}
		}, "event_loop_metrics.accumulated_usage.inputTokens"},
		{"invocation total", func(m *session.Message) {
			m.EventLoopMetrics = &session.EventLoopMetrics{InvocationUsage: &session.Usage{TotalTokens: -3}}
		}, "event_loop_metrics.invocation_usage.totalTokens"},
		{"latency", func(m *session.Message) {
			m.EventLoopMetrics = &session.EventLoopMetrics{AccumulatedMetrics: session.LatencyMetrics{LatencyMs: -5}}
		}, "event_loop_metrics.accumulated_metrics.latencyMs"},
		{"cycle duration", func(m *session.Message) {
			m.EventLoopMetrics = &session.EventLoopMetrics{CycleMetrics: session.CycleMetrics{TotalDuration: -0.5}}
		}, "event_loop_metrics.cycle_metrics.total_duration"},
		{"tool calls", func(m *session.Message) {
			m.EventLoopMetrics = &session.EventLoopMetrics{ToolUsage: map[string]session.ToolUsage{"t": {CallCount: -1}}}
		}, `event_loop_metrics.tool_usage["t"].call_count`},
		{"usage metadata", func(m *session.Message) {
			m.Message.Metadata = map[string]any{"usage": map[string]any{"inputTokens": int64(-7)}}
		}, "message.metadata.usage.inputTokens"},
		{"usage metadata not a number", func(m *session.Message) {
			m.Message.Metadata = map[string]any{"usage": map[string]any{"outputTokens": "many"}}
		}, "message.metadata.usage.outputTokens"},
		{"metrics metadata", func(m *session.Message) {
			m.Message.Metadata = map[string]any{"metrics": map[string]any{"latencyMs": int64(-1)}}
		}, "message.metadata.metrics.latencyMs"},
		{"usage metadata unknown counter kept", func(m *session.Message) {
			m.Message.Metadata = map[string]any{"usage": map[string]any{"inputTokens": int64(3), "futureTokens": "x"}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := ok
			tt.edit(&m)
			_, err := driver.PrepareMessage(&m, time.Now())
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var fe *session.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field, "error: %v", err)
		})
	}
}
