package soak_test

import (
	"context"
	"sync"
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

// frozen answers every GetSession and GetMetadata with its first answer
// for the session, as a cache that serves an entry of an older generation
// would; writes go through.
type frozen struct {
	session.Repository
	mu       sync.Mutex
	sessions map[string]*session.Session
	metadata map[string]map[string]any
}

func (f *frozen) GetSession(ctx context.Context, id string) (*session.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sessions[id]; ok {
		return s, nil
	}
	s, err := f.Repository.GetSession(ctx, id)
	if err == nil {
		f.sessions[id] = s
	}
	return s, err
}

func (f *frozen) GetMetadata(ctx context.Context, id string) (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if md, ok := f.metadata[id]; ok {
		return md, nil
	}
	md, err := f.Repository.GetMetadata(ctx, id)
	if err == nil {
		f.metadata[id] = md
	}
	return md, err
}

// A cache that keeps serving what it filled agrees with the backend as
// long as nothing is written, so CompareReads alone passes it; CompareFresh
// writes a new generation before its second comparison and catches it. A
// correct cache passes both.
func TestCompareFresh_CatchesAnOldGenerationHit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	backend := memory.New(memory.Options{})
	t.Cleanup(func() { _ = backend.Close() })
	require.NoError(t, backend.CreateSession(ctx, &session.Session{ID: "s", Metadata: map[string]any{"k": "v"}}))
	require.NoError(t, backend.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))

	stale := &frozen{Repository: shared{backend}, sessions: map[string]*session.Session{}, metadata: map[string]map[string]any{}}
	require.NoError(t, soak.CompareReads(ctx, stale, backend, []string{"s"}), "nothing written: the stale cache agrees")
	err := soak.CompareFresh(ctx, stale, backend, []string{"s"})
	require.ErrorContains(t, err, "after a new generation")
	assert.ErrorContains(t, err, "GetMetadata s")

	mr := miniredis.RunT(t)
	live := newCache(t, shared{backend}, mr.Addr())
	t.Cleanup(func() { _ = live.Close() })
	for range 2 {
		require.NoError(t, soak.CompareFresh(ctx, live, backend, []string{"s"}))
	}
	md, err := backend.GetMetadata(ctx, "s")
	require.NoError(t, err)
	assert.Contains(t, md, soak.CompareMetadataKey, "the new generation was written to the backend")
}
