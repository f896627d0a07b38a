package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/session"
)

// TestPrune_DryRunThenPruneOnlyMatchingThenRerun: sessions of two
// applications, some last written 40 days ago; a dry run deletes nothing, a
// prune deletes exactly the old sessions of the one application (with a bar
// when asked), and a rerun finds nothing left.
func TestPrune_DryRunThenPruneOnlyMatchingThenRerun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	repo, err := sqlite.Open(ctx, dir, sqlite.Options{})
	require.NoError(t, err)
	old := time.Now().Add(-40 * 24 * time.Hour)
	for i := range 5 {
		require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: fmt.Sprintf("old-%d", i), ApplicationName: "bot", CreatedAt: old}))
	}
	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "old-other", ApplicationName: "other", CreatedAt: old}))
	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "new", ApplicationName: "bot"}))
	require.NoError(t, repo.Close())

	code, out, errw := runCLI(t, ctx, "", "prune", "--data-dir", dir, "--application", "bot", "--older-than", "30d", "--dry-run")
	require.Equal(t, 0, code, errw)
	assert.Contains(t, out, `5 sessions match application "bot", unwritten for 720h0m0s`)
	assert.Contains(t, out, "nothing deleted (dry run)")

	code, out, errw = runCLI(t, ctx, "", "prune", "--data-dir", dir, "--application", "bot", "--older-than", "30d", "--batch", "2", "--progress")
	require.Equal(t, 0, code, errw)
	assert.Contains(t, out, "deleted 5 of 5 sessions")
	assert.Contains(t, errw, "pruning [##############################] 5/5")

	code, out, errw = runCLI(t, ctx, "", "prune", "--data-dir", dir, "--application", "bot", "--older-than", "30d")
	require.Equal(t, 0, code, errw)
	assert.Contains(t, out, "0 sessions match")

	repo, err = sqlite.Open(ctx, dir, sqlite.Options{})
	require.NoError(t, err)
	defer repo.Close()
	for _, id := range []string{"old-other", "new"} {
		_, err := repo.GetSession(ctx, id)
		assert.NoError(t, err, "%s does not match and is kept", id)
	}
	_, err = repo.GetSession(ctx, "old-0")
	assert.ErrorIs(t, err, session.ErrNotFound)
}

func TestPrune_BroadFiltersAreUsageErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--older-than", "30d"}, "--all: pruning every application needs an explicit all"},
		{[]string{"--application", "bot"}, "--older-than: must be positive"},
		{[]string{"--application", "bot", "--older-than", "-1d", "--all"}, "--older-than: must not be negative"},
		{[]string{"--application", "bot", "--older-than", "soon"}, `--older-than: time: invalid duration "soon"`},
	} {
		code, _, errw := runCLI(t, ctx, "", append([]string{"prune", "--backend", "memory"}, tc.args...)...)
		assert.Equal(t, 2, code, "%v", tc.args)
		assert.Contains(t, errw, tc.want, "%v", tc.args)
	}
}
