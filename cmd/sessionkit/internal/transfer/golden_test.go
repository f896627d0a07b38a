package transfer_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/internal/strandsgolden"
	"github.com/sessionkit/sessionkit/session"
)

// goldenBackends opens every root-module backend afresh (the Mongo
// backends run the same round trips in internal/mongotest, golden_test.go).
// Each keeps the SDK's microseconds, the cache too: it stores a message's
// times at its backend's precision (rediscache Cache.TimePrecision).
var goldenBackends = []struct {
	name string
	open func(t *testing.T) session.Repository
}{
	{"memory", func(t *testing.T) session.Repository { return memory.New(memory.Options{}) }},
	{"sqlite", func(t *testing.T) session.Repository {
		r, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
		require.NoError(t, err)
		return r
	}},
	{"cache-over-memory", func(t *testing.T) session.Repository {
		mr := miniredis.RunT(t)
		client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		c, err := rediscache.New(memory.New(memory.Options{}), client, rediscache.Options{CloseClient: true})
		require.NoError(t, err)
		return c
	}},
}

// The SDK's own files (FileSessionManager: one agent with text, image
// bytes, a tool use and a guardrail redaction; an agent left in interrupt
// state by a tool-call interrupt; a Graph; a Swarm) import
// into every backend and export back. Every file comes back
// byte-identical (session.json with its updated_at as written, messages,
// multi_agent.json of the Graph and the Swarm) except these, each checked
// exactly: the files strandsgolden.JSONEqual names are JSON-equal only.
func TestGolden_StrandsFileSessionManagerRoundTrips(t *testing.T) {
	t.Parallel()
	in := filepath.Join(strandsgolden.Dir(), "file")
	want := strandsgolden.ReadTree(t, in)
	require.NotEmpty(t, want)
	for _, b := range goldenBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := b.open(t)
			t.Cleanup(func() { _ = repo.Close() })
			sum, err := transfer.ImportStrands(ctx, repo, in, transfer.ImportOptions{})
			require.NoError(t, err)
			assert.Equal(t, strandsgolden.FileSessions, sum.Sessions)
			out := t.TempDir()
			_, err = transfer.ExportStrands(ctx, repo, session.SessionQuery{}, out, nil)
			require.NoError(t, err)
			strandsgolden.Compare(t, want, strandsgolden.ReadTree(t, out), nil)
		})
	}
}

// SnapshotSessionManager's LocalFileStorage tree (snapshot_latest plus
// immutable snapshots) is opaque bytes to the store, so it must come back
// byte for byte on every backend.
func TestGolden_StrandsSnapshotTreeRoundTrips(t *testing.T) {
	t.Parallel()
	in := filepath.Join(strandsgolden.Dir(), "snapshots")
	want := strandsgolden.ReadTree(t, in)
	require.Len(t, want, strandsgolden.Snapshots)
	for _, b := range goldenBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := b.open(t)
			t.Cleanup(func() { _ = repo.Close() })
			sum, err := transfer.ImportStrandsSnapshots(ctx, repo, in, transfer.ImportOptions{})
			require.NoError(t, err)
			assert.Equal(t, strandsgolden.Snapshots, sum.Snapshots)
			out := t.TempDir()
			_, err = transfer.ExportStrandsSnapshots(ctx, repo, session.SessionQuery{}, out, nil)
			require.NoError(t, err)
			assert.Equal(t, want, strandsgolden.ReadTree(t, out))
		})
	}
}
