package driver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// racingWriter is a repository on which another writer wins the next
// `wins` appends: each CreateMessage it refuses first stores that other
// writer's message at the id asked for, as a real race would.
type racingWriter struct {
	session.Repository
	wins       int
	onConflict func()
}

func (r *racingWriter) CreateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	if m != nil && r.wins > 0 {
		r.wins--
		other := &session.Message{ID: m.ID, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("other")}}}
		if err := r.Repository.CreateMessage(ctx, sessionID, agentID, other); err != nil {
			return err
		}
		if r.onConflict != nil {
			r.onConflict()
		}
		return session.ErrConflict
	}
	return r.Repository.CreateMessage(ctx, sessionID, agentID, m)
}

func TestAppendByCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wins    int
		wantID  int
		wantErr error
	}{
		{"no race", 0, 0, nil},
		{"lost three races, lands after them", 3, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := &racingWriter{Repository: memory.New(memory.Options{}), wins: tt.wins}
			require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "s"}))
			require.NoError(t, repo.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
			m := &session.Message{ID: 42, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("mine")}}}
			id, err := driver.AppendByCreate(ctx, repo, nil, "s", "a", m)
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, id)
			assert.Equal(t, 42, m.ID, "the caller's message is not modified")
			got, err := repo.GetMessage(ctx, "s", "a", id)
			require.NoError(t, err)
			assert.Equal(t, "mine", got.Message.Content[0]["text"])
			n, err := repo.CountMessages(ctx, "s", "a")
			require.NoError(t, err)
			assert.Equal(t, tt.wins+1, n, "nothing lost, nothing duplicated")
		})
	}
}

func TestAppendByCreate_GivesUpWithTheContextWrappingTheConflict(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	conflicts := 0
	repo := &racingWriter{Repository: memory.New(memory.Options{}), wins: 1 << 30, onConflict: func() {
		if conflicts++; conflicts == 2 {
			cancel() // the request ends while the race goes on
		}
	}}
	require.NoError(t, repo.CreateSession(context.Background(), &session.Session{ID: "s"}))
	require.NoError(t, repo.CreateAgent(context.Background(), "s", &session.Agent{ID: "a"}))
	_, err := driver.AppendByCreate(ctx, repo, nil, "s", "a", &session.Message{Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("x")}}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, session.ErrConflict)
	assert.Equal(t, 2, conflicts, "no attempt after the context ended")
}
