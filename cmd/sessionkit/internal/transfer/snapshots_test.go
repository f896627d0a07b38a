package transfer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/session"
)

// Snapshots travel with their session through JSON Lines, as base64, so
// bytes that are not JSON (or not UTF-8) come back exactly, and with the
// time they were written.
func TestJSONL_SnapshotsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	written := time.Date(2025, 3, 4, 5, 6, 7, 891234000, time.UTC)
	src := memory.New(memory.Options{Now: func() time.Time { return written }})
	require.NoError(t, src.CreateSession(ctx, &session.Session{ID: "s1"}))
	require.NoError(t, src.CreateSession(ctx, &session.Session{ID: "s2"}))
	want := map[string][]byte{
		"scopes/agent/a/snapshots/snapshot_latest.json":                      []byte(`{"scope":"agent","schema_version":"1.0"}`),
		"scopes/agent/a/snapshots/immutable_history/snapshot_0190-7000.json": {0, 0xff, '{', '\n'},
		"empty": {},
	}
	for k, v := range want {
		_, err := src.PutSnapshot(ctx, "s1", k, v)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	_, err := transfer.ExportJSONL(ctx, src, session.SessionQuery{}, &buf, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(buf.String(), `"snapshots"`), "a session without snapshots has no snapshots field")
	assert.Contains(t, buf.String(), `"data":"AP97Cg=="`, "bytes are base64")

	repo := openSQLite(t)
	_, err = transfer.ImportJSONL(ctx, repo, bytes.NewReader(buf.Bytes()), transfer.ImportOptions{})
	require.NoError(t, err)
	dst := repo.(session.SnapshotStore)
	page, err := dst.ListSnapshots(ctx, "s1", session.SnapshotQuery{})
	require.NoError(t, err)
	require.Len(t, page.Snapshots, len(want))
	for k, v := range want {
		got, err := dst.GetSnapshot(ctx, "s1", k)
		require.NoError(t, err, k)
		assert.True(t, bytes.Equal(v, got.Data), "%s: got %q, want %q", k, got.Data, v)
		orig, err := src.GetSnapshot(ctx, "s1", k)
		require.NoError(t, err, k)
		assert.Equal(t, orig.UpdatedAt, got.UpdatedAt, "%s: updated_at", k)
	}
	for _, id := range []string{"s1", "s2"} {
		orig, err := src.GetSession(ctx, id)
		require.NoError(t, err)
		got, err := repo.GetSession(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, orig.UpdatedAt, got.UpdatedAt, "%s: updated_at", id)
	}
	page, err = dst.ListSnapshots(ctx, "s2", session.SnapshotQuery{})
	require.NoError(t, err)
	assert.Empty(t, page.Snapshots)
}

// A repository without the snapshot role fails the import of a session
// that has snapshots, rather than dropping them, and keeps nothing of it.
func TestJSONL_SnapshotsIntoARepositoryWithoutThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dst := struct{ session.Repository }{memory.New(memory.Options{})}
	line := `{"session":{"session_id":"a"},"snapshots":[{"key":"k","data":"eA=="}]}` + "\n"
	_, err := transfer.ImportJSONL(ctx, dst, strings.NewReader(line), transfer.ImportOptions{})
	require.Error(t, err)
	page, err := dst.ListSessions(ctx, session.SessionQuery{})
	require.NoError(t, err)
	assert.Empty(t, page.Sessions)
}
