package faultinject_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/session"
)

// plainRepo hides every optional role of the repository it wraps.
type plainRepo struct{ session.Repository }

func TestMultiAgent_FaultsAndDelegation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := faultinject.New(memory.New(memory.Options{}), faultinject.Options{})
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
	r.SetDown(true)
	require.ErrorIs(t, r.CreateMultiAgent(ctx, "s", &session.MultiAgent{ID: "g"}), faultinject.ErrInjected)
	r.SetDown(false)
	require.NoError(t, r.CreateMultiAgent(ctx, "s", &session.MultiAgent{ID: "g"}))
	_, err := r.GetMultiAgent(ctx, "s", "g")
	require.NoError(t, err)

	bare := faultinject.New(plainRepo{memory.New(memory.Options{})}, faultinject.Options{})
	_, err = bare.GetMultiAgent(ctx, "s", "g")
	require.True(t, errors.Is(err, errors.ErrUnsupported), "want ErrUnsupported, got %v", err)
}
