package manager_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// Open opens an existing session with one read and never creates one:
// a missing session is ErrNotFound and the store stays empty.
func TestOpen_ExistingOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCounting(newMemory())
	_, err := manager.Open(ctx, c, "missing", manager.Options{})
	require.ErrorIs(t, err, session.ErrNotFound)
	assert.Equal(t, 0, c.count("CreateSession"), "Open created a session")
	_, err = c.GetSession(ctx, "missing")
	require.ErrorIs(t, err, session.ErrNotFound)

	require.NoError(t, c.CreateSession(ctx, &session.Session{ID: "here", ApplicationName: "app"}))
	c.reset()
	m, err := manager.Open(ctx, c, "here", manager.Options{})
	require.NoError(t, err)
	defer m.Close()
	assert.False(t, m.Created())
	assert.Equal(t, "app", m.ApplicationName())
	assert.Equal(t, 1, c.count("GetSession"))
	assert.Equal(t, 1, c.total(), "one read, nothing else")

	for _, tt := range []struct {
		name string
		id   string
		repo session.Repository
	}{{"bad id", "", c}, {"nil repository", "here", nil}} {
		_, err := manager.Open(ctx, tt.repo, tt.id, manager.Options{})
		assert.ErrorIs(t, err, session.ErrInvalidArgument, tt.name)
	}
}

// OpenSession uses the session the caller read and reads nothing; if the
// session is gone by the write, the write is ErrNotFound and recreates
// nothing.
func TestOpenSession_NoReadAndNoRecreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCounting(newMemory())
	require.NoError(t, c.CreateSession(ctx, &session.Session{ID: "here", ApplicationName: "app"}))
	read, err := c.GetSession(ctx, "here")
	require.NoError(t, err)
	c.reset()
	m, err := manager.OpenSession(c, read, manager.Options{})
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, 0, c.total(), "OpenSession touched the store")
	assert.Equal(t, "app", m.ApplicationName())
	require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"k": "v"}))

	require.NoError(t, c.DeleteSession(ctx, "here"))
	require.ErrorIs(t, m.UpdateMetadata(ctx, map[string]any{"k": "w"}), session.ErrNotFound)
	_, err = c.GetSession(ctx, "here")
	require.ErrorIs(t, err, session.ErrNotFound, "a write through the manager recreated the session")

	_, err = manager.OpenSession(c, nil, manager.Options{})
	assert.ErrorIs(t, err, session.ErrInvalidArgument)
	_, err = manager.OpenSession(c, &session.Session{ID: ""}, manager.Options{})
	assert.ErrorIs(t, err, session.ErrInvalidArgument)
}
