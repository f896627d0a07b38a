package manager_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// The manager validates a message once and shares the prepared, immutable
// contents with a repository that takes prepared messages and lends its
// stored values (the memory backend). These tests hold that sharing to the
// no-aliasing guarantee: nothing a caller passes or receives, and nothing
// the manager does later, changes what the store holds.

// toolUse is an assistant toolUse message with a nested input value a careless copy would share.
func toolUse(id string, in map[string]any) session.ChatMessage {
	return session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{session.ToolUseBlock(id, "search", in)}}
}

func TestAppend_CallerChangesNeverReachTheStoreOrTheWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m, err := manager.New(ctx, repo, "s", manager.Options{Now: clock})
	require.NoError(t, err)
	a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
	require.NoError(t, err)

	in := map[string]any{"q": []any{"growth"}}
	sent := toolUse("t1", in)
	got, err := a.Append(ctx, sent)
	require.NoError(t, err)
	want := toolUse("t1", map[string]any{"q": []any{"growth"}})

	// Change what was passed and what came back.
	in["q"].([]any)[0] = "changed"
	sent.Content[0]["added"] = true
	got.Message.Content[0]["toolUse"].(map[string]any)["input"].(map[string]any)["q"].([]any)[0] = "changed"
	got.Message.Content[0]["added"] = true
	window := a.Messages()
	window[0].Content[0]["toolUse"].(map[string]any)["name"] = "changed"

	stored, err := repo.GetMessage(ctx, "s", "a", 0)
	require.NoError(t, err)
	assert.Equal(t, want, stored.Message)
	assert.Equal(t, []session.ChatMessage{want}, a.Messages())
}

func TestResume_SharedValuesStayAsStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m, err := manager.New(ctx, repo, "s", manager.Options{Now: clock})
	require.NoError(t, err)
	a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
	require.NoError(t, err)
	// A toolUse answered only in part: resume repairs it by adding an error
	// result to the next message, which must not reach the stored message.
	two := session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{
		session.ToolUseBlock("t1", "search", map[string]any{"q": "a"}),
		session.ToolUseBlock("t2", "search", map[string]any{"q": "b"}),
	}}
	result := session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.ToolResultBlock("t1", "success", session.TextBlock("ok"))}}
	for _, c := range []session.ChatMessage{userText("hi"), two, result, toolUse("t3", map[string]any{"q": "c"})} {
		_, err := a.Append(ctx, c)
		require.NoError(t, err)
	}
	require.NoError(t, m.Close())
	before, err := repo.ListMessages(ctx, "s", "a", 0, 0)
	require.NoError(t, err)

	m2, err := manager.New(ctx, repo, "s", manager.Options{Now: clock})
	require.NoError(t, err)
	b, err := m2.Initialize(ctx, "a", manager.AgentOptions{})
	require.NoError(t, err)
	window := b.Messages()
	require.Len(t, window, 4)
	assert.Len(t, window[2].Content, 2, "the repair added the missing result")
	for _, c := range window {
		c.Content[0]["added"] = true
	}
	after, err := repo.ListMessages(ctx, "s", "a", 0, 0)
	require.NoError(t, err)
	assert.Equal(t, before, after, "resume changed stored messages")

	// Redaction and metrics replace the handle's records (which resume took
	// from the store itself), never change them in place.
	held, err := repo.ListMessagesShared(ctx, "s", "a", 0, 0)
	require.NoError(t, err)
	want := make([]*session.Message, len(held))
	for i, sm := range held {
		want[i] = sm.Clone()
	}
	require.NoError(t, b.RedactLatest(ctx, assistantText("***"), manager.Redaction{}))
	_, err = b.Append(ctx, assistantText("answer"))
	require.NoError(t, err)
	b.BeginInvocation(session.Usage{})
	require.NoError(t, b.EndInvocation(ctx, &session.EventLoopMetrics{AccumulatedMetrics: session.LatencyMetrics{LatencyMs: 5}}))
	require.NoError(t, b.RedactLatest(ctx, assistantText("***"), manager.Redaction{}))
	assert.Equal(t, want, held, "a write changed a stored message in place")
	latest, err := repo.GetMessage(ctx, "s", "a", 3)
	require.NoError(t, err)
	require.NotNil(t, latest.RedactMessage, "the redaction was stored")
	assert.Len(t, b.Messages()[2].Content, 2)
	assert.NotContains(t, b.Messages()[0].Content[0], "added")
}

func TestMessages_AppendingToOneMessageLeavesTheNextAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := manager.New(ctx, newMemory(), "s", manager.Options{Now: clock})
	require.NoError(t, err)
	a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
	require.NoError(t, err)
	for _, c := range []session.ChatMessage{userText("one"), assistantText("two")} {
		_, err := a.Append(ctx, c)
		require.NoError(t, err)
	}
	got := a.Messages()
	got[0].Content = append(got[0].Content, session.TextBlock("added"))
	assert.Equal(t, []session.ContentBlock{session.TextBlock("two")}, got[1].Content)
	assert.Equal(t, []session.ChatMessage{userText("one"), assistantText("two")}, a.Messages())
}
