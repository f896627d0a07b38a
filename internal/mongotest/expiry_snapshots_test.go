package mongotest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/session"
)

// A session document removed by something other than the sweeper — the
// TTL index on MongoDB, an operator's deleteOne — leaves its snapshots in
// their own collections. Whoever takes the id next (CreateSession or a
// fork) must not see them.
func TestExpiry_DocumentRemovedBehindTheBackendLeavesNoSnapshotsToTheNextHolder(t *testing.T) {
	t.Parallel()
	for _, start := range []func(testing.TB) (string, string){mongotest.Start, mongotest.StartJava} {
		uri, kind := start(t)
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			r, c, _ := newRepo(t, uri, mongo.Options{Sweep: session.SweeperOptions{Interval: -1}})
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "src"}))
			_, err := r.PutSnapshot(ctx, "src", "fork/only", []byte("the source's"))
			require.NoError(t, err)
			for _, reuse := range []struct {
				name string
				take func(id string) error
			}{
				{"CreateSession", func(id string) error { return r.CreateSession(ctx, &session.Session{ID: id}) }},
				{"ForkSession", func(id string) error {
					_, err := r.ForkSession(ctx, session.ForkRequest{SourceID: "src", ID: id})
					return err
				}},
			} {
				id := "reused-" + strings.ToLower(reuse.name)
				require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id, ExpiresAt: time.Now().Add(time.Hour)}))
				_, err := r.PutSnapshot(ctx, id, "agent/a/latest", []byte("the old holder's"))
				require.NoError(t, err)
				// What a TTL index does: the document alone goes.
				_, err = c.Database(r.Database()).Collection(r.Collection()).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
				require.NoError(t, err)

				require.NoError(t, reuse.take(id), reuse.name)
				_, err = r.GetSnapshot(ctx, id, "agent/a/latest")
				assert.ErrorIs(t, err, session.ErrNotFound, "%s: the old holder's snapshot is not the new session's", reuse.name)
				page, err := r.ListSnapshots(ctx, id, session.SnapshotQuery{})
				require.NoError(t, err)
				var keys []string
				for _, s := range page.Snapshots {
					keys = append(keys, s.Key)
				}
				want := []string(nil)
				if reuse.name == "ForkSession" {
					want = []string{"fork/only"}
				}
				assert.Equal(t, want, keys, "%s: only the new session's own snapshots are listed", reuse.name)
			}
		})
	}
}

// A sweep that found a session expired and a CreateSession (in another
// process, or on a server without per-process write locks) that reuses the
// id at the same moment: the sweep must never delete what the new session
// wrote. The interleaving is forced by the sweeper's command monitor: when
// the sweep sends its first delete of snapshot manifests, the other writer
// has just recreated the id and written a snapshot.
func TestExpiry_SweepRacingAReuseOfTheIDKeepsTheNewSessionsSnapshots(t *testing.T) {
	t.Parallel()
	for _, start := range []func(testing.TB) (string, string){mongotest.Start, mongotest.StartJava} {
		uri, kind := start(t)
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			clock := &movingClock{t: time.Now().UTC().Truncate(time.Millisecond)}
			db := uniqueDB(t)
			other, _, _ := newRepo(t, uri, mongo.Options{Database: db, Now: clock.now, Sweep: session.SweeperOptions{Interval: -1}})
			require.NoError(t, other.CreateSession(ctx, &session.Session{ID: "x", ExpiresAt: clock.now().Add(time.Minute)}))
			_, err := other.PutSnapshot(ctx, "x", "agent/a/latest", []byte("old"))
			require.NoError(t, err)
			clock.add(time.Minute)

			var once sync.Once
			var raceErr error
			armed := make(chan struct{})
			manifests := other.Collection() + mongo.SnapshotCollectionSuffix
			mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
				select {
				case <-armed:
				default:
					return
				}
				if e.CommandName != "delete" || !strings.Contains(e.Command.String(), manifests) {
					return
				}
				once.Do(func() {
					raceErr = other.CreateSession(ctx, &session.Session{ID: "x"})
					if raceErr == nil {
						_, raceErr = other.PutSnapshot(ctx, "x", "agent/a/latest", []byte("new"))
					}
				})
			}}
			c, err := driver.Connect(options.Client().ApplyURI(uri).SetMonitor(mon).SetMaxPoolSize(4))
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
			// The sweeper's repository takes no per-process write lock (as on
			// MongoDB, whose updates are atomic, or in another process).
			caps := other.Capabilities()
			caps.AtomicUpdates = true
			sweeper, err := mongo.New(ctx, c, mongo.Options{Database: db, Now: clock.now, Capabilities: &caps, Sweep: session.SweeperOptions{Interval: -1}})
			require.NoError(t, err)
			t.Cleanup(func() { _ = sweeper.Close() })

			close(armed)
			_, err = sweeper.SweepExpired(ctx, 10)
			require.NoError(t, err)
			require.NoError(t, raceErr, "the racing reuse")

			s, err := other.GetSession(ctx, "x")
			require.NoError(t, err, "the new session is live")
			assert.True(t, s.ExpiresAt.IsZero())
			snap, err := other.GetSnapshot(ctx, "x", "agent/a/latest")
			require.NoError(t, err, "the new session's snapshot survived the sweep")
			assert.Equal(t, "new", string(snap.Data))
		})
	}
}

// Snapshot epochs cost CreateSession nothing (one insert, as before) and a
// session's first PutSnapshot one guarded update; later puts and reads
// read the epoch in the lookup by _id they already made.
func TestSnapshotEpoch_RoundTrips(t *testing.T) {
	t.Parallel()
	for _, start := range []func(testing.TB) (string, string){mongotest.Start, mongotest.StartJava} {
		uri, kind := start(t)
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			r, _, cc := newRepo(t, uri, mongo.Options{Sweep: session.SweeperOptions{Interval: -1}})
			var err error
			assert.EqualValues(t, 1, cc.count(func() { err = r.CreateSession(ctx, &session.Session{ID: "s"}) }), "CreateSession")
			require.NoError(t, err)
			first := cc.count(func() { _, err = r.PutSnapshot(ctx, "s", "k1", []byte("x")) })
			require.NoError(t, err)
			second := cc.count(func() { _, err = r.PutSnapshot(ctx, "s", "k2", []byte("x")) })
			require.NoError(t, err)
			assert.Equal(t, second+1, first, "the first snapshot sets the epoch with one more command")
			get := cc.count(func() { _, err = r.GetSnapshot(ctx, "s", "k1") })
			require.NoError(t, err)
			list := cc.count(func() { _, err = r.ListSnapshots(ctx, "s", session.SnapshotQuery{}) })
			require.NoError(t, err)
			t.Logf("%s: CreateSession 1, first PutSnapshot %d, later PutSnapshot %d, GetSnapshot %d, ListSnapshots %d", kind, first, second, get, list)
		})
	}
}
