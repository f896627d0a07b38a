package sqlite

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// A file written at schema version 3 (before the snapshot store) opens,
// gains the snapshots table, keeps its data and stores snapshots; deleting
// its session removes them by cascade.
func TestMigrate_Version3FileGainsSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := fileAtVersion(t, 3)

	r := openTest(t, dir, Options{})
	_, err := r.GetSession(ctx, "s1")
	require.NoError(t, err, "the version-3 session survives the upgrade")
	_, err = r.PutSnapshot(ctx, "s1", "scopes/agent/a/snapshots/snapshot_latest.json", []byte{0, 1, 0xff})
	require.NoError(t, err)
	got, err := r.GetSnapshot(ctx, "s1", "scopes/agent/a/snapshots/snapshot_latest.json")
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 1, 0xff}, got.Data)

	require.NoError(t, r.DeleteSession(ctx, "s1"))
	var rows int
	require.NoError(t, r.reader.QueryRowContext(ctx, `SELECT count(*) FROM snapshots`).Scan(&rows))
	assert.Zero(t, rows, "DeleteSession left snapshot rows behind")
}

// A 20 MiB snapshot (past what the conformance harness's limits allow)
// round-trips, and a session budget counts snapshots: one over it is
// ErrTooLarge and writes nothing.
func TestSnapshot_LargeAndSessionBudget(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a 20 MiB snapshot in -short mode")
	}
	ctx := context.Background()
	r := openTest(t, t.TempDir(), Options{MaxSessionBytes: 30 << 20})
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s1"}))
	big := make([]byte, 20<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	_, err := r.PutSnapshot(ctx, "s1", "latest", big)
	require.NoError(t, err)
	got, err := r.GetSnapshot(ctx, "s1", "latest")
	require.NoError(t, err)
	require.True(t, bytes.Equal(big, got.Data), "the 20 MiB snapshot came back different")
	_, err = r.PutSnapshot(ctx, "s1", "second", big)
	require.ErrorIs(t, err, session.ErrTooLarge, "40 MiB of snapshots in a 30 MiB session")
	_, err = r.GetSnapshot(ctx, "s1", "second")
	require.ErrorIs(t, err, session.ErrNotFound)
	_, err = r.PutSnapshot(ctx, "s1", "latest", big[:10<<20])
	require.NoError(t, err, "an overwrite counts the difference")
}
