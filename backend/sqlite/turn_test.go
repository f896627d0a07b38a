package sqlite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// A Strands tool turn through the manager — four appends, then the state
// sync and the invocation's metrics at EndInvocation — costs five write
// transactions on SQLite: the sync and the metrics share one
// (driver.AgentMessageUpdater).
func TestToolTurn_FiveWriteTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	m, err := manager.New(ctx, r, "s", manager.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
	require.NoError(t, err)
	_, err = a.Sync(ctx)
	require.NoError(t, err)

	before := r.Stats()["sqlite_write_transactions_total"]
	a.BeginInvocation(session.Usage{})
	require.NoError(t, a.SetState("turns", 1))
	turn := []session.ChatMessage{
		{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("growth?")}},
		{Role: session.RoleAssistant, Content: []session.ContentBlock{session.ToolUseBlock("t1", "search", map[string]any{"q": "growth"})}},
		{Role: session.RoleUser, Content: []session.ContentBlock{session.ToolResultBlock("t1", "success", session.TextBlock("up"))}},
		{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock("It grew.")}},
	}
	for _, c := range turn {
		_, err := a.Append(ctx, c)
		require.NoError(t, err)
	}
	em := &session.EventLoopMetrics{AccumulatedUsage: session.Usage{TotalTokens: 9}, AccumulatedMetrics: session.LatencyMetrics{LatencyMs: 12}}
	require.NoError(t, a.EndInvocation(ctx, em))
	assert.Equal(t, float64(5), r.Stats()["sqlite_write_transactions_total"]-before)

	stored, err := r.GetAgent(ctx, "s", "a")
	require.NoError(t, err)
	assert.Equal(t, int64(1), stored.State["turns"])
	last, err := r.GetMessage(ctx, "s", "a", 3)
	require.NoError(t, err)
	require.NotNil(t, last.EventLoopMetrics)
	assert.Equal(t, int64(9), last.EventLoopMetrics.InvocationUsage.TotalTokens)
}
