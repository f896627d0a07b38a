package scripted_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
	"github.com/sessionkit/sessionkit/session/manager/scripted"
)

var fixed = time.Date(2026, 5, 15, 10, 0, 0, 0, time.UTC)

func clock() time.Time { return fixed }

var script = []scripted.Turn{
	{User: "Remember my priority is high", ToolName: manager.MetadataToolName,
		ToolInput: map[string]any{"action": "set", "metadata": `{"priority": "high"}`}, Answer: "Noted.", State: map[string]any{"turns": 1}},
	{User: "What is my priority?", ToolName: manager.MetadataToolName,
		ToolInput: map[string]any{"action": "get", "keys": []any{"priority"}}, Answer: "High.", State: map[string]any{"turns": 2}},
	{User: "Tell me something awful", Guardrail: &scripted.Guardrail{Replacement: "[blocked input]", Answer: "Sorry, I can't help with that.",
		Trace: map[string]any{"inputAssessment": map[string]any{"gr": map[string]any{"contentPolicy": map[string]any{"filters": []any{
			map[string]any{"type": "HATE", "confidence": "HIGH", "action": "BLOCKED"}}}}}}}},
}

func run(t *testing.T, repo session.Repository, seed uint64) (*manager.AgentSession, *scripted.Agent) {
	t.Helper()
	ctx := context.Background()
	m, err := manager.New(ctx, repo, "e2e", manager.Options{Now: clock})
	require.NoError(t, err)
	a, err := m.Initialize(ctx, "assistant", manager.AgentOptions{})
	require.NoError(t, err)
	tool := m.MetadataTool(manager.MetadataToolOptions{})
	agent := scripted.New(a, scripted.Options{Seed: seed, Tools: map[string]scripted.Tool{
		manager.MetadataToolName: func(ctx context.Context, in map[string]any) (string, error) { return tool.Invoke(ctx, in), nil },
	}})
	for _, turn := range script {
		_, err := agent.Run(ctx, turn)
		require.NoError(t, err)
	}
	return a, agent
}

func TestScripted_EndToEndResumeFindsIdenticalConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := memory.New(memory.Options{Now: clock})
	a, agent := run(t, repo, 42)
	want := a.Messages()
	require.Len(t, want, 4+4+2)
	text, _ := want[8].Content[0].Text()
	assert.Equal(t, "[blocked input]", text, "the redaction is what the agent sees")

	// Throw the manager away; a new one resumes the same conversation.
	m2, err := manager.New(ctx, repo, "e2e", manager.Options{Now: clock})
	require.NoError(t, err)
	resumed, err := m2.Initialize(ctx, "assistant", manager.AgentOptions{})
	require.NoError(t, err)
	assert.Equal(t, want, resumed.Messages())
	assert.Equal(t, map[string]any{"turns": int64(2)}, resumed.State())

	md, err := m2.GetMetadata(ctx)
	require.NoError(t, err)
	assert.Equal(t, "high", md["priority"])
	result, _, _ := want[6].Content[0].ToolResult()
	assert.NotEmpty(t, result)
	assert.Contains(t, want[6].Content[0]["toolResult"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"], `Metadata retrieved: {"priority": "high"}`)

	events, err := m2.ListGuardrailEvents(ctx)
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, 8, events[0].MessageID)
	assert.Equal(t, map[string][]string{"contentPolicy": {"HATE/HIGH"}}, events[0].PoliciesTriggered)

	// Metrics sit on each invocation's final assistant answer only.
	stored, err := repo.ListMessages(ctx, "e2e", "assistant", 0, 0)
	require.NoError(t, err)
	var invocationTotal int64
	for _, msg := range stored {
		if msg.ID == 3 || msg.ID == 7 || msg.ID == 9 {
			require.NotNil(t, msg.EventLoopMetrics, "message %d", msg.ID)
			invocationTotal += msg.EventLoopMetrics.InvocationUsage.TotalTokens
			continue
		}
		assert.Nil(t, msg.EventLoopMetrics, "message %d", msg.ID)
	}
	final := agent.Metrics()
	assert.Equal(t, final.AccumulatedUsage.TotalTokens, invocationTotal, "invocation deltas add up to the accumulated usage")
	assert.Equal(t, int64(5), final.CycleMetrics.CycleCount)
	assert.Equal(t, int64(2), final.ToolUsage[manager.MetadataToolName].SuccessCount)

	// A further turn on the resumed agent continues the ids.
	more := scripted.New(resumed, scripted.Options{Seed: 7})
	_, err = more.Run(ctx, scripted.Turn{User: "bye", Answer: "Goodbye."})
	require.NoError(t, err)
	n, err := repo.CountMessages(ctx, "e2e", "assistant")
	require.NoError(t, err)
	assert.Equal(t, 12, n)
}

func TestScripted_DeterministicGivenSeed(t *testing.T) {
	t.Parallel()
	a1, g1 := run(t, memory.New(memory.Options{Now: clock}), 99)
	a2, g2 := run(t, memory.New(memory.Options{Now: clock}), 99)
	assert.Equal(t, a1.Messages(), a2.Messages())
	assert.Equal(t, g1.Metrics(), g2.Metrics())
	_, g3 := run(t, memory.New(memory.Options{Now: clock}), 100)
	assert.NotEqual(t, g1.Metrics(), g3.Metrics(), "a different seed gives different usage")
}

func TestScripted_UnknownToolGivesErrorResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := manager.New(ctx, memory.New(memory.Options{}), "s", manager.Options{})
	require.NoError(t, err)
	a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
	require.NoError(t, err)
	agent := scripted.New(a, scripted.Options{Seed: 1})
	_, err = agent.Run(ctx, scripted.Turn{User: "u", ToolName: "missing", Answer: "done"})
	require.NoError(t, err)
	_, status, ok := a.Messages()[2].Content[0].ToolResult()
	require.True(t, ok)
	assert.Equal(t, "error", status)
	assert.Equal(t, int64(1), agent.Metrics().ToolUsage["missing"].ErrorCount)
}
