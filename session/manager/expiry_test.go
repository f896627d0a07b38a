package manager_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// A manager's Retention is the application's default: the session it
// creates expires that long after creation; an existing session keeps its
// own; a negative retention is refused before anything is written.
func TestNew_RetentionGivesNewSessionsAnExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	repo := memory.New(memory.Options{Now: func() time.Time { return now }})
	t.Cleanup(func() { _ = repo.Close() })
	opts := manager.Options{ApplicationName: "bot", Retention: 30 * 24 * time.Hour, Now: func() time.Time { return now }}

	m, err := manager.New(ctx, repo, "s", opts)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	got, err := repo.GetSession(ctx, "s")
	require.NoError(t, err)
	assert.Equal(t, now.Add(30*24*time.Hour), got.ExpiresAt)

	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "old"}))
	m, err = manager.New(ctx, repo, "old", opts)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	got, err = repo.GetSession(ctx, "old")
	require.NoError(t, err)
	assert.True(t, got.ExpiresAt.IsZero(), "an existing session keeps its own expiry")

	opts.Retention = -time.Hour
	_, err = manager.New(ctx, repo, "bad", opts)
	var fe *session.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "retention", fe.Field)
	_, err = repo.GetSession(ctx, "bad")
	assert.ErrorIs(t, err, session.ErrNotFound, "nothing written")
}
