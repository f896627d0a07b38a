package soak_test

import (
	"context"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/soak"
	"github.com/sessionkit/sessionkit/session"
)

// A cache whose Redis was never reachable serves every read from the
// backend: the comparison agrees but checked nothing, and must say so
// instead of passing. Over a working Redis it passes.
func TestCompareReads_NotCheckedWhenNoReadWentThroughTheCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backend := memory.New(memory.Options{})
	t.Cleanup(func() { _ = backend.Close() })
	require.NoError(t, backend.CreateSession(ctx, &session.Session{ID: "s", Metadata: map[string]any{"k": "v"}}))
	require.NoError(t, backend.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))

	dead := newCache(t, shared{backend}, "127.0.0.1:1")
	t.Cleanup(func() { _ = dead.Close() })
	err := soak.CompareReads(ctx, dead, backend, []string{"s"})
	assert.ErrorIs(t, err, soak.ErrCacheNotChecked)

	mr := miniredis.RunT(t)
	live := newCache(t, shared{backend}, mr.Addr())
	t.Cleanup(func() { _ = live.Close() })
	for range 2 {
		assert.NoError(t, soak.CompareReads(ctx, live, backend, []string{"s"}), "fill, then hit")
	}
	assert.Positive(t, live.Stats()["cache_hits_total"])
}
