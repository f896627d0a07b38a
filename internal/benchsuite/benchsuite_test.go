package benchsuite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
	"github.com/sessionkit/sessionkit/session"
)

func TestCounting_CountsEachCallByMethod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := benchsuite.NewCounting(memory.New(memory.Options{}))
	defer c.Close()
	require.NoError(t, c.CreateSession(ctx, &session.Session{ID: "s"}))
	require.NoError(t, c.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
	for i := range 3 {
		require.NoError(t, c.CreateMessage(ctx, "s", "a", benchsuite.Message(i)))
	}
	_, err := c.GetSession(ctx, "missing")
	require.ErrorIs(t, err, session.ErrNotFound, "errors pass through unchanged")

	assert.Equal(t, int64(6), c.Calls())
	assert.Equal(t, map[string]int64{"CreateSession": 1, "CreateAgent": 1, "CreateMessage": 3, "GetSession": 1}, c.ByMethod())
	assert.Equal(t, []string{"CreateAgent", "CreateMessage", "CreateSession", "GetSession"}, c.Methods())
}

func TestSeed_StoresDenseHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := memory.New(memory.Options{})
	defer r.Close()
	require.NoError(t, benchsuite.Seed(ctx, r, "s", "a", 5))
	msgs, err := r.ListMessages(ctx, "s", "a", 0, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 5)
	for i, m := range msgs {
		assert.Equal(t, i, m.ID)
		assert.Equal(t, benchsuite.Message(i).Message, m.Message)
	}
	assert.Equal(t, session.RoleAssistant, msgs[1].Message.Role, "roles alternate")
	require.ErrorIs(t, benchsuite.Seed(ctx, r, "s", "a", 1), session.ErrAlreadyExists)
}

// A turn is four messages and, with the agent state changing every turn,
// costs the manager's budget of six repository calls.
func TestConversation_TurnCostsSixCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := benchsuite.NewCounting(memory.New(memory.Options{}))
	defer c.Close()
	conv, err := benchsuite.Open(ctx, c, "s", 1)
	require.NoError(t, err)
	defer conv.Close()
	for turn := range 3 {
		before := c.Calls()
		require.NoError(t, conv.Run(ctx))
		assert.Equal(t, int64(6), c.Calls()-before, "turn %d", turn)
	}
	n, err := c.CountMessages(ctx, "s", benchsuite.AgentID)
	require.NoError(t, err)
	assert.Equal(t, 12, n)
	a, err := c.GetAgent(ctx, "s", benchsuite.AgentID)
	require.NoError(t, err)
	assert.Equal(t, int64(3), a.State["turns"])

	// Resuming continues the turn count from the stored messages.
	resumed, err := benchsuite.Open(ctx, c, "s", 1)
	require.NoError(t, err)
	defer resumed.Close()
	require.NoError(t, resumed.Run(ctx))
	a, err = c.GetAgent(ctx, "s", benchsuite.AgentID)
	require.NoError(t, err)
	assert.Equal(t, int64(4), a.State["turns"])
}

func TestFill_StoresOneTurnPerSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := memory.New(memory.Options{})
	defer r.Close()
	require.NoError(t, benchsuite.Fill(ctx, r, "f", 3))
	page, err := r.ListSessions(ctx, session.SessionQuery{})
	require.NoError(t, err)
	require.Len(t, page.Sessions, 3)
	for _, s := range page.Sessions {
		n, err := r.CountMessages(ctx, s.ID, benchsuite.AgentID)
		require.NoError(t, err)
		assert.Equal(t, 4, n, s.ID)
	}
}

func TestHistorySizes_FullAddsLargeHistories(t *testing.T) {
	t.Setenv(benchsuite.FullEnv, "1")
	assert.Equal(t, []int{100, 1_000, 10_000}, benchsuite.HistorySizes())
	assert.Equal(t, 1_000, benchsuite.ManySessions())
	t.Setenv(benchsuite.FullEnv, "")
	assert.Equal(t, []int{100}, benchsuite.HistorySizes())
	assert.Less(t, benchsuite.ManySessions(), 1_000)
}

func TestMessage_HasOrdinaryLength(t *testing.T) {
	t.Parallel()
	assert.Len(t, benchsuite.Text, 390)
	assert.Equal(t, session.RoleUser, benchsuite.Message(0).Message.Role)
}
