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

// TestFork_ContinuesOnABranch: a fork of one agent after its second message
// resumes with those two messages and the Strands defaults of a fresh
// window, records its lineage, and takes appends of its own while the
// source keeps its history.
func TestFork_ContinuesOnABranch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m, err := manager.New(ctx, repo, "src", manager.Options{ApplicationName: "app", Now: clock})
	require.NoError(t, err)
	a, err := m.Initialize(ctx, "agent", manager.AgentOptions{})
	require.NoError(t, err)
	for _, s := range []string{"q1", "a1", "q2", "a2"} {
		_, err := a.Append(ctx, session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(s)}})
		require.NoError(t, err)
	}
	_, err = a.Sync(ctx)
	require.NoError(t, err)

	fork, err := m.Fork(ctx, session.ForkRequest{ID: "branch", AgentID: "agent", MessageID: ptrInt(1)})
	require.NoError(t, err)
	assert.Equal(t, "branch", fork.SessionID())
	assert.Equal(t, "app", fork.ApplicationName())
	lineage := fork.Session().ForkedFrom
	require.NotNil(t, lineage)
	assert.Equal(t, "src", lineage.SessionID)
	_, ok := fork.TakeViewerPassword()
	assert.True(t, ok, "a fork gets its own viewer password")

	b, err := fork.Initialize(ctx, "agent", manager.AgentOptions{})
	require.NoError(t, err)
	require.Len(t, b.Messages(), 2)
	assert.Equal(t, 2, b.NextMessageID())
	_, err = b.Append(ctx, session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("other q2")}})
	require.NoError(t, err)
	n, err := repo.CountMessages(ctx, "src", "agent")
	require.NoError(t, err)
	assert.Equal(t, 4, n, "the source keeps its history")

	require.NoError(t, m.Close())
	_, err = m.Fork(ctx, session.ForkRequest{ID: "late"})
	assert.True(t, errors.Is(err, manager.ErrManagerClosed), "%v", err)
}

func ptrInt(v int) *int { return &v }
