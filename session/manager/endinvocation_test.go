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

// combined is a repository that is a driver.AgentMessageUpdater: it counts
// the combined writes and fails them with fail (nil writes both through the
// wrapped repository).
type combined struct {
	session.Repository
	fail                 error
	combinedCalls, syncs int
}

func (c *combined) UpdateAgentAndMessage(ctx context.Context, sessionID string, a *session.Agent, m *session.Message) error {
	c.combinedCalls++
	if c.fail != nil {
		return c.fail
	}
	if err := c.Repository.UpdateAgent(ctx, sessionID, a); err != nil {
		return err
	}
	return c.Repository.UpdateMessage(ctx, sessionID, a.ID, m)
}

func (c *combined) UpdateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	c.syncs++
	return c.Repository.UpdateAgent(ctx, sessionID, a)
}

func TestEndInvocation_SyncAndMetricsInOneWriteOrApart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fail      error
		wantSyncs int // separate UpdateAgent calls at EndInvocation
	}{
		{"combined write", nil, 0},
		{"combined write fails: both written apart", errors.New("injected"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := &combined{Repository: newMemory(), fail: tc.fail}
			m, err := manager.New(ctx, repo, "s", manager.Options{Now: clock})
			require.NoError(t, err)
			a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
			require.NoError(t, err)
			a.BeginInvocation(session.Usage{})
			require.NoError(t, a.SetState("k", "v"))
			_, err = a.Append(ctx, userText("q"))
			require.NoError(t, err)
			_, err = a.Append(ctx, assistantText("answer"))
			require.NoError(t, err)
			syncs := repo.syncs
			require.NoError(t, a.EndInvocation(ctx, &session.EventLoopMetrics{
				AccumulatedUsage: session.Usage{TotalTokens: 7}, AccumulatedMetrics: session.LatencyMetrics{LatencyMs: 3},
			}))
			assert.Equal(t, 1, repo.combinedCalls)
			assert.Equal(t, tc.wantSyncs, repo.syncs-syncs)

			stored, err := repo.GetAgent(ctx, "s", "a")
			require.NoError(t, err)
			assert.Equal(t, "v", stored.State["k"])
			msg, err := repo.GetMessage(ctx, "s", "a", 1)
			require.NoError(t, err)
			require.NotNil(t, msg.EventLoopMetrics)
			assert.Equal(t, int64(7), msg.EventLoopMetrics.InvocationUsage.TotalTokens)
			wrote, err := a.Sync(ctx)
			require.NoError(t, err)
			assert.False(t, wrote, "the state was recorded as synced")
		})
	}
}
