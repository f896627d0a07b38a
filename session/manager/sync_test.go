package manager_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

func TestRepairToolUse(t *testing.T) {
	t.Parallel()
	interrupted := func(id string) session.ContentBlock {
		return session.ToolResultBlock(id, "error", session.TextBlock("Tool was interrupted."))
	}
	for _, tc := range []struct {
		name string
		in   []session.ChatMessage
		want []session.ChatMessage
	}{
		{"R12 inserts a result message after an orphaned toolUse",
			[]session.ChatMessage{toolUseMsg("orphaned-123"), userText("next")},
			[]session.ChatMessage{toolUseMsg("orphaned-123"), {Role: session.RoleUser, Content: []session.ContentBlock{interrupted("orphaned-123")}}, userText("next")}},
		{"R13 extends partial results",
			[]session.ChatMessage{toolUseMsg("complete-123", "missing-456"), toolResultMsg("complete-123")},
			[]session.ChatMessage{toolUseMsg("complete-123", "missing-456"), {Role: session.RoleUser, Content: append(toolResultMsg("complete-123").Content, interrupted("missing-456"))}}},
		{"R14 several orphans in toolUse order",
			[]session.ChatMessage{toolUseMsg("orphaned-456", "orphaned-123"), userText("x")},
			[]session.ChatMessage{toolUseMsg("orphaned-456", "orphaned-123"), {Role: session.RoleUser, Content: []session.ContentBlock{interrupted("orphaned-456"), interrupted("orphaned-123")}}, userText("x")}},
		{"R15 leaves the last message alone",
			[]session.ChatMessage{userText("u"), toolUseMsg("x")},
			[]session.ChatMessage{userText("u"), toolUseMsg("x")}},
		{"R16 valid pairs unchanged",
			[]session.ChatMessage{userText("u"), toolUseMsg("x"), toolResultMsg("x")},
			[]session.ChatMessage{userText("u"), toolUseMsg("x"), toolResultMsg("x")}},
		{"R24 drops a leading orphaned toolResult",
			[]session.ChatMessage{toolResultMsg("gone"), assistantText("You live in Seattle, USA."), userText("I like pizza")},
			[]session.ChatMessage{assistantText("You live in Seattle, USA."), userText("I like pizza")}},
		{"R25 plain conversation unchanged",
			[]session.ChatMessage{userText("a"), assistantText("b"), userText("c")},
			[]session.ChatMessage{userText("a"), assistantText("b"), userText("c")}},
		{"two consecutive orphaned toolUse messages",
			[]session.ChatMessage{toolUseMsg("a"), toolUseMsg("b"), userText("c")},
			[]session.ChatMessage{toolUseMsg("a"), {Role: session.RoleUser, Content: []session.ContentBlock{interrupted("a")}}, toolUseMsg("b"), {Role: session.RoleUser, Content: []session.ContentBlock{interrupted("b")}}, userText("c")}},
		{"empty", nil, []session.ChatMessage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := make([]session.ChatMessage, len(tc.in))
			for i, c := range tc.in {
				before[i] = c.Clone()
			}
			assert.Equal(t, tc.want, manager.RepairToolUse(tc.in))
			assert.Equal(t, before, append([]session.ChatMessage{}, tc.in...), "input untouched")
		})
	}
}

func TestSync_ChangeDetection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, a *manager.AgentSession)
		writes bool
	}{
		{"R26 no change skips", func(*testing.T, *manager.AgentSession) {}, false},
		{"R27 state change writes", func(t *testing.T, a *manager.AgentSession) { require.NoError(t, a.SetState("key", "value")) }, true},
		{"same value again skips", func(t *testing.T, a *manager.AgentSession) { require.NoError(t, a.SetState("seed", int64(1))) }, false},
		{"state delete writes", func(t *testing.T, a *manager.AgentSession) { a.DeleteState("seed") }, true},
		{"R28/R30 internal state change writes", func(t *testing.T, a *manager.AgentSession) {
			st := a.InternalState()
			st["model_state"] = map[string]any{"response_id": "resp_abc123"}
			require.NoError(t, a.SetInternalState(st))
		}, true},
		{"R29 conversation manager change writes", func(t *testing.T, a *manager.AgentSession) {
			st := a.ConversationManagerState()
			st["removed_message_count"] = 5
			require.NoError(t, a.SetConversationManagerState(st))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := newCounting(newMemory())
			m := newManager(t, repo, "s", manager.Options{})
			a := initAgent(t, m, "a", manager.AgentOptions{State: map[string]any{"seed": 1}})
			wrote, err := a.Sync(ctx)
			require.NoError(t, err)
			require.True(t, wrote, "R33 the first sync always writes")
			repo.reset()
			tc.change(t, a)
			wrote, err = a.Sync(ctx)
			require.NoError(t, err)
			assert.Equal(t, tc.writes, wrote)
			assert.Equal(t, b2i(tc.writes), repo.count("UpdateAgent"))
			wrote, err = a.Sync(ctx)
			require.NoError(t, err)
			assert.False(t, wrote, "R31 a synced change is not written again")
			stored, err := repo.GetAgent(ctx, "s", "a")
			require.NoError(t, err)
			assert.Equal(t, a.State(), stored.State)
			assert.Equal(t, a.InternalState(), stored.InternalState)
			assert.Equal(t, a.ConversationManagerState(), stored.ConversationManagerState)
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSync_RetriesAfterFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newCounting(newMemory())
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	_, err := a.Sync(ctx)
	require.NoError(t, err)
	require.NoError(t, a.SetState("key", "value"))
	boom := errors.New("update failed")
	repo.failNext("UpdateAgent", boom)
	_, err = a.Sync(ctx)
	require.ErrorIs(t, err, boom, "R32 the failure propagates")
	wrote, err := a.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, wrote, "R32 the next sync retries")
}

func TestSync_NeverTouchesStoredConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{Config: session.AgentConfig{Model: "m"}})
	require.NoError(t, m.SetPromptMetadata(ctx, "a", session.PromptMetadata{PromptID: "p1", PromptVersion: "1.0.0"}))
	require.NoError(t, a.SetState("k", "v"))
	_, err := a.Sync(ctx)
	require.NoError(t, err)
	cfg, err := m.GetAgentConfig(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "m", cfg.Model)
	require.NotNil(t, cfg.PromptMetadata, "bug B1: prompt metadata survives sync")
	assert.Equal(t, "p1", cfg.PromptMetadata.PromptID)
}

func TestSetState_RejectsUnstorableValue(t *testing.T) {
	t.Parallel()
	m := newManager(t, newMemory(), "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	require.ErrorIs(t, a.SetState("k", struct{}{}), session.ErrInvalidArgument)
	assert.Empty(t, a.State())
}

func metricsWith(latency int64, usage session.Usage) *session.EventLoopMetrics {
	return &session.EventLoopMetrics{
		AccumulatedUsage:   usage,
		AccumulatedMetrics: session.LatencyMetrics{LatencyMs: latency, TimeToFirstByteMs: 10},
		CycleMetrics:       session.CycleMetrics{CycleCount: 3, TotalDuration: 4.5, AverageCycleTime: 1.5},
		ToolUsage:          map[string]session.ToolUsage{"search": {CallCount: 5, SuccessCount: 4, ErrorCount: 1, SuccessRate: 0.8}},
	}
}

func TestEndInvocation_MetricsOnLatestAssistantWithInvocationDelta(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})

	turn := func(acc session.Usage, msgs ...session.ChatMessage) {
		t.Helper()
		for _, c := range msgs {
			_, err := a.Append(ctx, c)
			require.NoError(t, err)
		}
		require.NoError(t, a.EndInvocation(ctx, metricsWith(1500, acc)))
	}
	turn(session.Usage{InputTokens: 500, OutputTokens: 200, TotalTokens: 700},
		userText("q"), toolUseMsg("t1"), toolResultMsg("t1"), assistantText("a"))
	turn(session.Usage{InputTokens: 800, OutputTokens: 300, TotalTokens: 1100, CacheReadInputTokens: 450},
		userText("q2"), assistantText("a2"))

	msgs, err := repo.ListMessages(ctx, "s", "a", 0, 0)
	require.NoError(t, err)
	for _, i := range []int{0, 1, 2, 4} {
		assert.Nil(t, msgs[i].EventLoopMetrics, "message %d: metrics only on the invocation's last assistant message (B11)", i)
	}
	first := msgs[3].EventLoopMetrics
	require.NotNil(t, first)
	assert.Equal(t, int64(700), first.AccumulatedUsage.TotalTokens)
	assert.Equal(t, &session.Usage{InputTokens: 500, OutputTokens: 200, TotalTokens: 700}, first.InvocationUsage)
	assert.Equal(t, int64(3), first.CycleMetrics.CycleCount)
	assert.Equal(t, int64(5), first.ToolUsage["search"].CallCount)
	second := msgs[5].EventLoopMetrics
	require.NotNil(t, second)
	assert.Equal(t, &session.Usage{InputTokens: 300, OutputTokens: 100, TotalTokens: 400, CacheReadInputTokens: 450}, second.InvocationUsage)
}

func TestEndInvocation_SkipsMetricsWithoutModelCallOrAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newCounting(newMemory())
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	_, err := a.Append(ctx, userText("q"))
	require.NoError(t, err)
	_, err = a.Append(ctx, assistantText("a"))
	require.NoError(t, err)
	repo.reset()
	require.NoError(t, a.EndInvocation(ctx, metricsWith(0, session.Usage{TotalTokens: 5})))
	assert.Zero(t, repo.count("UpdateMessage"), "latency 0: no model call, no metrics")

	a.BeginInvocation(session.Usage{})
	_, err = a.Append(ctx, userText("only a prompt"))
	require.NoError(t, err)
	repo.reset()
	require.NoError(t, a.EndInvocation(ctx, metricsWith(100, session.Usage{TotalTokens: 5})))
	assert.Zero(t, repo.count("UpdateMessage"), "no assistant message this invocation: nothing to attach to")
}

// A four-message tool-using turn costs at most 6 repository calls after
// initialize: 4 CreateMessage, 1 UpdateAgent, 1 UpdateMessage.
func TestRoundTripBudget_ToolTurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, resumed := range []bool{false, true} {
		repo := newCounting(newMemory())
		if resumed {
			m0 := newManager(t, repo, "s", manager.Options{})
			a0 := initAgent(t, m0, "a", manager.AgentOptions{})
			_, err := a0.Append(ctx, userText("earlier"))
			require.NoError(t, err)
		}
		m := newManager(t, repo, "s", manager.Options{})
		a := initAgent(t, m, "a", manager.AgentOptions{})
		repo.reset()
		a.BeginInvocation(session.Usage{})
		for _, c := range []session.ChatMessage{userText("q"), toolUseMsg("t1"), toolResultMsg("t1"), assistantText("a")} {
			_, err := a.Append(ctx, c)
			require.NoError(t, err)
		}
		require.NoError(t, a.SetState("last_tool", "search"))
		require.NoError(t, a.EndInvocation(ctx, metricsWith(900, session.Usage{TotalTokens: 42})))
		assert.Equal(t, 4, repo.count("CreateMessage"))
		assert.Equal(t, 1, repo.count("UpdateAgent"))
		assert.Equal(t, 1, repo.count("UpdateMessage"))
		assert.LessOrEqual(t, repo.total(), 6, "resumed=%v", resumed)
	}
}
