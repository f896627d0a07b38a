package transfer_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/session"
)

// goldenDir is testdata/strands-1.62 at the repository root, written by
// strands-agents 1.62.0 itself (`make strands-golden`, scripts/strands-golden.py).
func goldenDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "testdata", "strands-1.62")
}

// goldenBackends opens every root-module backend afresh. msTimes marks a
// backend that keeps message times at millisecond precision.
var goldenBackends = []struct {
	name    string
	msTimes bool
	open    func(t *testing.T) session.Repository
}{
	{"memory", false, func(t *testing.T) session.Repository { return memory.New(memory.Options{}) }},
	{"sqlite", false, func(t *testing.T) session.Repository {
		r, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
		require.NoError(t, err)
		return r
	}},
	// A message written through the cache keeps its times at millisecond
	// precision (rediscache writethrough.go, storable: the coarsest any
	// backend keeps, so the cache and the backend hold the same value).
	// The SDK writes microseconds, so created_at and updated_at of every
	// message come back truncated: a known loss, checked exactly below.
	{"cache-over-memory", true, func(t *testing.T) session.Repository {
		mr := miniredis.RunT(t)
		client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		c, err := rediscache.New(memory.New(memory.Options{}), client, rediscache.Options{CloseClient: true})
		require.NoError(t, err)
		return c
	}},
}

// goldenJSONEqual names the golden files whose export is only JSON-equal
// to the SDK's file, and why. An agent.json's "state" and
// "_internal_state" are free-form dicts: the store keeps them as maps and
// export writes their keys sorted, where the SDK wrote insertion order.
var goldenJSONEqual = map[string]string{
	"session_single/agents/agent_assistant/agent.json": "state keys come out sorted",
	"session_single/agents/agent_approver/agent.json":  "_internal_state.interrupt_state (its pending tool message) keys come out sorted",
}

// microsRe matches the microseconds of a message file's times.
var microsRe = regexp.MustCompile(`(?m)^(  "(?:created|updated)_at": "[^".]*\.\d{3})\d{3}`)

// The SDK's own files (FileSessionManager: one agent with text, image
// bytes, a tool use and a guardrail redaction; an agent left in interrupt
// state by a tool-call interrupt; a Graph; a Swarm) import
// into every backend and export back. Every file comes back
// byte-identical (session.json with its updated_at as written, messages,
// multi_agent.json of the Graph and the Swarm)
// except these, each checked exactly:
//   - the files goldenJSONEqual names are JSON-equal only.
//   - through the cache, message times are truncated to milliseconds (see
//     goldenBackends); with that applied to the SDK's file, byte-identical.
func TestGolden_StrandsFileSessionManagerRoundTrips(t *testing.T) {
	t.Parallel()
	in := filepath.Join(goldenDir(t), "file")
	want := readTree(t, in)
	require.NotEmpty(t, want)
	for _, b := range goldenBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := b.open(t)
			t.Cleanup(func() { _ = repo.Close() })
			sum, err := transfer.ImportStrands(ctx, repo, in, transfer.ImportOptions{})
			require.NoError(t, err)
			assert.Equal(t, 3, sum.Sessions)
			out := t.TempDir()
			_, err = transfer.ExportStrands(ctx, repo, session.SessionQuery{}, out, nil)
			require.NoError(t, err)
			compareGolden(t, want, readTree(t, out), b.msTimes)
		})
	}
}

// SnapshotSessionManager's LocalFileStorage tree (snapshot_latest plus
// immutable snapshots) is opaque bytes to the store, so it must come back
// byte for byte on every backend.
func TestGolden_StrandsSnapshotTreeRoundTrips(t *testing.T) {
	t.Parallel()
	in := filepath.Join(goldenDir(t), "snapshots")
	want := readTree(t, in)
	require.Len(t, want, 3)
	for _, b := range goldenBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := b.open(t)
			t.Cleanup(func() { _ = repo.Close() })
			sum, err := transfer.ImportStrandsSnapshots(ctx, repo, in, transfer.ImportOptions{})
			require.NoError(t, err)
			assert.Equal(t, 3, sum.Snapshots)
			out := t.TempDir()
			_, err = transfer.ExportStrandsSnapshots(ctx, repo, session.SessionQuery{}, out, nil)
			require.NoError(t, err)
			assert.Equal(t, want, readTree(t, out))
		})
	}
}

// compareGolden checks the exported tree against the SDK's: the same
// file set, each file byte-identical but for the documented exceptions.
func compareGolden(t *testing.T, want, got map[string][]byte, msTimes bool) {
	t.Helper()
	assert.ElementsMatch(t, keys(want), keys(got), "file set")
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			continue
		}
		switch {
		case goldenJSONEqual[p] != "":
			assert.NotEqual(t, string(w), string(g), "%s is byte-identical now: drop it from goldenJSONEqual", p)
			var wv, gv any
			require.NoError(t, json.Unmarshal(w, &wv), p)
			require.NoError(t, json.Unmarshal(g, &gv), p)
			assert.Equal(t, wv, gv, "%s: not JSON-equal", p)
		case msTimes && strings.Contains(p, "/messages/"):
			assert.Equal(t, string(microsRe.ReplaceAll(w, []byte("${1}000"))), string(g), "%s: differs beyond millisecond times", p)
		default:
			assert.Equal(t, string(w), string(g), "%s: not byte-identical", p)
		}
	}
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
