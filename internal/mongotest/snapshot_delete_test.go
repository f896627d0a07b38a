package mongotest_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/event"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/session"
)

// TestDeleteSession_FailedSnapshotDeleteLeavesTheSessionWhole: when the
// delete of a session's snapshots fails, DeleteSession reports it and the
// session is still there for the caller's retry — it never deletes the
// document and leaves the snapshots behind for whoever creates the id next
// (another application's key could then read them). The snapshot delete is
// made to fail by cancelling the call's context as the driver starts it.
// mongo-java-server only: on FerretDB the backend finishes writes detached
// from the caller's cancellation.
func TestDeleteSession_FailedSnapshotDeleteLeavesTheSessionWhole(t *testing.T) {
	uri, _ := mongotest.StartJava(t)
	var cancelOnSnapshotDelete atomic.Pointer[context.CancelFunc]
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName != "delete" {
			return
		}
		if coll, ok := e.Command.Lookup("delete").StringValueOK(); ok && strings.HasSuffix(coll, mongo.SnapshotCollectionSuffix) {
			if cancel := cancelOnSnapshotDelete.Swap(nil); cancel != nil {
				(*cancel)()
			}
		}
	}}
	c, err := driver.Connect(options.Client().ApplyURI(uri).SetMonitor(mon))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	ctx := ctxT(t)
	r, err := mongo.New(ctx, c, mongo.Options{Database: uniqueDB(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })

	const key = "scopes/agent/a/snapshots/snapshot_latest.json"
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s", ApplicationName: "first-owner"}))
	_, err = r.PutSnapshot(ctx, "s", key, []byte(`{"secret":1}`))
	require.NoError(t, err)

	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cancelOnSnapshotDelete.Store(&cancel)
	require.Error(t, r.DeleteSession(dctx, "s"), "the snapshot delete failed")
	s, err := r.GetSession(ctx, "s")
	require.NoError(t, err, "a failed DeleteSession leaves the session for the retry")
	require.Equal(t, "first-owner", s.ApplicationName)

	require.NoError(t, r.DeleteSession(ctx, "s"), "the retry deletes it")
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s", ApplicationName: "next-owner"}))
	page, err := r.ListSnapshots(ctx, "s", session.SnapshotQuery{})
	require.NoError(t, err)
	require.Empty(t, page.Snapshots, "the id's next owner sees none of the first owner's snapshots")
	_, err = r.GetSnapshot(ctx, "s", key)
	require.ErrorIs(t, err, session.ErrNotFound)
}
