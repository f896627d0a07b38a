package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// TestFork_CopiesAndRecordsLineage forks through the command line on the
// SQLite backend and reads the lineage back; bad input exits non-zero and
// creates nothing.
func TestFork_CopiesAndRecordsLineage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	repo, err := session.Open(ctx, "sqlite://"+dir)
	require.NoError(t, err)
	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "src", ApplicationName: "app"}))
	require.NoError(t, repo.CreateAgent(ctx, "src", &session.Agent{ID: "a"}))
	for i := range 3 {
		require.NoError(t, repo.CreateMessage(ctx, "src", "a", &session.Message{ID: i,
			Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("m")}}}))
	}
	require.NoError(t, repo.Close())

	code, out, errw := runCLI(t, ctx, "", "fork", "--data-dir", dir, "--from", "src", "--to", "dst", "--agent", "a", "--message", "1")
	require.Equal(t, 0, code, errw)
	assert.Equal(t, "dst\n", out)
	code, out, errw = runCLI(t, ctx, "", "fork", "--data-dir", dir, "--from", "src")
	require.Equal(t, 0, code, errw)
	whole := strings.TrimSpace(out)

	for _, bad := range [][]string{
		{"--from", "src", "--to", "dst"},                                 // taken
		{"--from", "missing", "--to", "x"},                               // no source
		{"--from", "src", "--to", "x", "--agent", "a", "--message", "9"}, // no message 9
		{"--from", "src", "--to", "x", "--message", "0"},                 // message without agent
	} {
		code, _, errw := runCLI(t, ctx, "", append([]string{"fork", "--data-dir", dir}, bad...)...)
		assert.Equal(t, 1, code, "%v: %s", bad, errw)
	}
	code, _, _ = runCLI(t, ctx, "", "fork", "--data-dir", dir)
	assert.Equal(t, 2, code, "--from is required")

	repo, err = session.Open(ctx, "sqlite://"+dir)
	require.NoError(t, err)
	defer repo.Close()
	s, err := repo.GetSession(ctx, "dst")
	require.NoError(t, err)
	require.NotNil(t, s.ForkedFrom)
	assert.Equal(t, "src", s.ForkedFrom.SessionID)
	require.NotNil(t, s.ForkedFrom.MessageID)
	assert.Equal(t, 1, *s.ForkedFrom.MessageID)
	n, err := repo.CountMessages(ctx, "dst", "a")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	page, err := repo.ListSessions(ctx, session.SessionQuery{ForkedFrom: "src"})
	require.NoError(t, err)
	assert.Len(t, page.Sessions, 2, "dst and %s", whole)
	_, err = repo.GetSession(ctx, "x")
	assert.ErrorIs(t, err, session.ErrNotFound)
}
