package sessionkit

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/bench/peers/workload"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// backends opens each repository the workloads run on.
var backends = []struct {
	name string
	open func(tb testing.TB) session.Repository
}{
	{"memory", openMemory},
	{"sqlite", openSQLite},
}

func openMemory(tb testing.TB) session.Repository {
	repo := memory.New(memory.Options{})
	tb.Cleanup(func() { _ = repo.Close() })
	return repo
}

func openSQLite(tb testing.TB) session.Repository {
	repo, err := sqlite.Open(context.Background(), tb.TempDir(), sqlite.Options{})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = repo.Close() })
	return repo
}

// text is a one-block text message.
func text(role session.Role, s string) session.ChatMessage {
	return session.ChatMessage{Role: role, Content: []session.ContentBlock{session.TextBlock(s)}}
}

// seedMessage is the i-th message of a seeded history.
func seedMessage(i int) session.ChatMessage {
	role, s := workload.SeedText(i)
	return text(session.Role(role), s)
}

// rotation opens a fresh session seeded with n messages each time the
// workload asks for one, deleting the previous session so that the store
// stays the same size however long the benchmark runs.
type rotation struct {
	tb    testing.TB
	repo  session.Repository
	seq   int
	sid   string
	agent *manager.AgentSession
}

func (r *rotation) fresh(n int) {
	ctx := context.Background()
	if r.sid != "" {
		require.NoError(r.tb, r.repo.DeleteSession(ctx, r.sid))
	}
	r.seq++
	r.sid = fmt.Sprintf("session-%d", r.seq)
	r.agent = seed(r.tb, r.repo, r.sid, n)
}

// seed creates session sid with an agent holding n messages and returns the
// agent's handle.
func seed(tb testing.TB, repo session.Repository, sid string, n int) *manager.AgentSession {
	ctx := context.Background()
	m, err := manager.New(ctx, repo, sid, manager.Options{ApplicationName: workload.App})
	require.NoError(tb, err)
	a, err := m.Initialize(ctx, workload.Agent, manager.AgentOptions{})
	require.NoError(tb, err)
	for i := range n {
		_, err := a.Append(ctx, seedMessage(i))
		require.NoError(tb, err)
	}
	return a
}

// resume opens session sid and the agent in it as a restarted process
// does, and returns the messages the agent sees.
func resume(ctx context.Context, repo session.Repository, sid string) ([]session.ChatMessage, error) {
	m, err := manager.New(ctx, repo, sid, manager.Options{ApplicationName: workload.App})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	a, err := m.Initialize(ctx, workload.Agent, manager.AgentOptions{})
	if err != nil {
		return nil, err
	}
	return a.Messages(), nil
}

// toolTurn appends a four-message tool-using turn and stores the state
// update it made: question, tool call, tool result, answer.
func toolTurn(ctx context.Context, a *manager.AgentSession, turn int) error {
	a.BeginInvocation(session.Usage{})
	id := workload.ToolUseID(turn)
	msgs := []session.ChatMessage{
		text(session.RoleUser, workload.Question),
		{Role: session.RoleAssistant, Content: []session.ContentBlock{session.ToolUseBlock(id, workload.ToolName, workload.ToolInput(turn))}},
		{Role: session.RoleUser, Content: []session.ContentBlock{session.ToolResultBlock(id, "success", session.TextBlock(workload.ToolResult))}},
		text(session.RoleAssistant, workload.Answer),
	}
	for _, msg := range msgs {
		if _, err := a.Append(ctx, msg); err != nil {
			return err
		}
	}
	if err := a.SetState(workload.StateKey, workload.StateValue(turn)); err != nil {
		return err
	}
	// No event-loop metrics: the peers store none, so the turn writes the
	// four messages and the state, as theirs do.
	return a.EndInvocation(ctx, nil)
}
