package mongotest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/session"
)

// movingClock is a clock the test moves.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movingClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// An expired session disappears from the MongoDB-wire servers CI has
// (FerretDB refuses TTL indexes; mongo-java-server 1.47 accepts the option,
// and the test does not rely on it enforcing anything, nor could it on a
// controlled clock): the background sweeper, on the test's clock, deletes its snapshots (other collections) and its document, and
// leaves the live session alone. The expires_at index is a TTL index where
// the backend detected support (Capabilities.TTLIndexes), a plain one on
// FerretDB.
func TestExpiry_SweeperRemovesExpiredSessionAndSnapshots(t *testing.T) {
	t.Parallel()
	for _, start := range []func(testing.TB) (string, string){mongotest.Start, mongotest.StartJava} {
		uri, kind := start(t)
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			clock := &movingClock{t: time.Now().UTC().Truncate(time.Millisecond)}
			r, c, _ := newRepo(t, uri, mongo.Options{Now: clock.now, Sweep: session.SweeperOptions{Interval: 10 * time.Millisecond}})
			for _, id := range []string{"expiring", "kept"} {
				var at time.Time
				if id == "expiring" {
					at = clock.now().Add(time.Hour)
				}
				require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id, ExpiresAt: at}))
				require.NoError(t, r.CreateAgent(ctx, id, &session.Agent{ID: "a"}))
				_, err := r.PutSnapshot(ctx, id, "agent/a/latest", []byte("snapshot bytes"))
				require.NoError(t, err)
			}
			db := c.Database(r.Database())
			count := func(coll string, filter bson.D) int64 {
				n, err := db.Collection(coll).CountDocuments(ctx, filter)
				require.NoError(t, err)
				return n
			}
			sessions := r.Collection()
			manifests := sessions + mongo.SnapshotCollectionSuffix
			chunks := sessions + mongo.SnapshotChunkCollectionSuffix
			require.EqualValues(t, 2, count(sessions, bson.D{}))
			require.EqualValues(t, 1, count(sessions, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$type", Value: "date"}}}}),
				"expires_at is a BSON date on the document")

			clock.add(time.Hour)
			_, err := r.GetSession(ctx, "expiring")
			require.ErrorIs(t, err, session.ErrNotFound, "hidden at once, before the sweep")
			require.Eventually(t, func() bool { return r.Stats()["expiry_sessions_swept_total"] == 1 }, 20*time.Second, 10*time.Millisecond)
			assert.Zero(t, count(sessions, bson.D{{Key: "_id", Value: "expiring"}}), "the document is gone")
			assert.EqualValues(t, 1, count(sessions, bson.D{}))
			assert.EqualValues(t, 1, count(manifests, bson.D{}), "only the live session's snapshot manifest is left")
			assert.EqualValues(t, 1, count(chunks, bson.D{}), "only the live session's chunks are left")
			_, err = r.GetSnapshot(ctx, "kept", "agent/a/latest")
			require.NoError(t, err)

			cur, err := db.Collection(sessions).Indexes().List(ctx)
			require.NoError(t, err)
			var specs []bson.M
			require.NoError(t, cur.All(ctx, &specs))
			var ttl any
			found := false
			for _, s := range specs {
				if s["name"] == "expires_at_1" {
					found, ttl = true, s["expireAfterSeconds"]
				}
			}
			require.True(t, found, "an index on expires_at: %v", specs)
			if r.Capabilities().TTLIndexes {
				assert.NotNil(t, ttl, "%s: a TTL index", kind)
			} else {
				assert.Nil(t, ttl, "%s: a plain index", kind)
			}
			assert.Equal(t, float64(map[bool]int{true: 1}[r.Capabilities().TTLIndexes]), r.Stats()["mongo_server_ttl_indexes"])
		})
	}
}
