package faultinject_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/session"
)

func TestSnapshot_FaultsAndDelegation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := faultinject.New(memory.New(memory.Options{}), faultinject.Options{})
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
	r.SetDown(true)
	_, err := r.PutSnapshot(ctx, "s", "k", []byte("x"))
	require.ErrorIs(t, err, faultinject.ErrInjected)
	_, err = r.GetSnapshot(ctx, "s", "k")
	require.ErrorIs(t, err, faultinject.ErrInjected)
	r.SetDown(false)
	_, err = r.PutSnapshot(ctx, "s", "k", []byte("x"))
	require.NoError(t, err)
	got, err := r.GetSnapshot(ctx, "s", "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("x"), got.Data)
	page, err := r.ListSnapshots(ctx, "s", session.SnapshotQuery{})
	require.NoError(t, err)
	require.Len(t, page.Snapshots, 1)
	require.NoError(t, r.DeleteSnapshot(ctx, "s", "k"))
	_, err = r.GetSnapshot(ctx, "s", "k")
	require.ErrorIs(t, err, session.ErrNotFound)

	bare := faultinject.New(plainRepo{memory.New(memory.Options{})}, faultinject.Options{})
	_, err = bare.GetSnapshot(ctx, "s", "k")
	require.True(t, errors.Is(err, errors.ErrUnsupported), "want ErrUnsupported, got %v", err)
	require.True(t, errors.Is(bare.DeleteSnapshot(ctx, "s", "k"), errors.ErrUnsupported))
}
