package transfer_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/session"
)

// writeFiles writes files (slash paths relative to dir).
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for p, b := range files {
		path := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}
}

// readTree reads every regular file under dir, by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, path)
			require.NoError(t, err)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			out[filepath.ToSlash(rel)] = b
		}
		return nil
	}))
	return out
}

// A SnapshotSessionManager tree (local-file Storage) imports into the
// snapshot store and exports back byte for byte.
func TestStrandsSnapshots_ImportExportByteIdentical(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tree := map[string][]byte{
		"session/s1/scopes/agent/a1/snapshots/snapshot_latest.json":                                                 []byte(`{"scope":"agent","schema_version":"1.0","created_at":"2026-11-26T00:00:00Z","data":{},"app_data":{}}`),
		"session/s1/scopes/agent/a1/snapshots/immutable_history/snapshot_01936b2e-0000-7000-8000-000000000001.json": []byte(`{"scope":"agent"}`),
		"session/s1/scopes/multiAgent/default_graph/snapshots/snapshot_latest.json":                                 []byte(`{"scope":"multiAgent","data":{"orchestrator_id":"default_graph","state":{}}}`),
		"session/s2/scopes/agent/a/snapshots/snapshot_latest.json":                                                  {0, 0xff, '{'}, // corrupt: stored as bytes
	}
	in := t.TempDir()
	writeFiles(t, in, tree)
	repo := memory.New(memory.Options{})
	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "s2", ApplicationName: "app"}))
	sum, err := transfer.ImportStrandsSnapshots(ctx, repo, in, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Sessions)
	assert.Equal(t, 4, sum.Snapshots)
	got, err := repo.GetSnapshot(ctx, "s2", "scopes/agent/a/snapshots/snapshot_latest.json")
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0xff, '{'}, got.Data)
	s2, err := repo.GetSession(ctx, "s2")
	require.NoError(t, err)
	assert.Equal(t, "app", s2.ApplicationName, "an existing session keeps what it had")

	out := t.TempDir()
	esum, err := transfer.ExportStrandsSnapshots(ctx, repo, session.SessionQuery{}, out, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, esum.Snapshots)
	assert.Equal(t, tree, readTree(t, out))

	// Again: both sessions now have snapshots and are skipped; with
	// Overwrite the tree replaces them as a whole.
	sum, err = transfer.ImportStrandsSnapshots(ctx, repo, in, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Skipped)
	_, err = repo.PutSnapshot(ctx, "s1", "extra", []byte("x"))
	require.NoError(t, err)
	_, err = transfer.ImportStrandsSnapshots(ctx, repo, in, transfer.ImportOptions{Overwrite: true})
	require.NoError(t, err)
	_, err = repo.GetSnapshot(ctx, "s1", "extra")
	require.ErrorIs(t, err, session.ErrNotFound, "overwrite keeps a key the tree does not have")
}

// Anything the importer cannot map is an error naming it, and a session
// with such an entry writes nothing.
func TestStrandsSnapshots_UnmappableEntriesAreErrorsNamingThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ok := "session/s1/scopes/agent/a/snapshots/snapshot_latest.json"
	tests := map[string]struct {
		files map[string][]byte
		name  string
	}{
		"stray file at the root":    {map[string][]byte{"notes.txt": nil, ok: []byte("{}")}, "notes.txt"},
		"FileSessionManager folder": {map[string][]byte{"session_s1/session.json": []byte("{}")}, "session_s1"},
		"file where a session goes": {map[string][]byte{"session/loose.json": []byte("{}")}, "session/loose.json"},
		"bad session id":            {map[string][]byte{"session/$ bad\x01/k": []byte("{}")}, "session/$ bad"},
		"key with a backslash":      {map[string][]byte{"session/s1/a\\b": []byte("{}"), ok: []byte("{}")}, `a\b`},
		"key with a control char":   {map[string][]byte{"session/s1/a\x7fb": []byte("{}")}, "session/s1/a"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			repo := memory.New(memory.Options{})
			_, err := transfer.ImportStrandsSnapshots(ctx, repo, dir, transfer.ImportOptions{})
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.name)
			page, err := repo.ListSessions(ctx, session.SessionQuery{})
			require.NoError(t, err)
			assert.Empty(t, page.Sessions, "nothing written")
		})
	}
	t.Run("symlink", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string][]byte{ok: []byte("{}")})
		require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "session/s1/link")))
		_, err := transfer.ImportStrandsSnapshots(ctx, memory.New(memory.Options{}), dir, transfer.ImportOptions{})
		require.ErrorIs(t, err, session.ErrInvalidArgument)
		assert.Contains(t, err.Error(), "session/s1/link")
	})
}
