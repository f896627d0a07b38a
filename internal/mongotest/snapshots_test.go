package mongotest_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/mongotest"
)

// Snapshots live in the two snapshot collections, never in the session
// document (which the Python original keeps reading, and which MongoDB caps
// at 16 MiB): a 20 MiB snapshot is stored as chunks of at most
// SnapshotChunkBytes; an overwrite leaves only the new version's chunks;
// DeleteSession leaves nothing of the session in either collection.
func TestSnapshot_ChunksOutsideTheSessionDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20 MiB snapshot in -short mode")
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, kind := srv.start(t)
			if kind == mongotest.KindFerretDB && os.Getenv("SESSIONKIT_LARGE_SNAPSHOTS") == "" {
				t.Skip("20 MiB on FerretDB takes about 30 s; set SESSIONKIT_LARGE_SNAPSHOTS=1 (mongo-java-server runs it always)")
			}
			docs, _ := loadFixtures(t)
			r, c, _ := newRepo(t, uri, mongo.Options{SnapshotChunkBytes: 1 << 20})
			ctx := ctxT(t)
			db := c.Database(dbOfRepo(r))
			coll := db.Collection(mongo.DefaultCollection)
			for _, d := range docs {
				_, err := coll.InsertOne(ctx, d)
				require.NoError(t, err)
			}
			const sid = "customer-12345"
			const key = "scopes/agent/a/snapshots/snapshot_latest.json"
			big := make([]byte, 20<<20+5)
			for i := range big {
				big[i] = byte(i * 31)
			}
			_, err := r.PutSnapshot(ctx, sid, key, big)
			require.NoError(t, err)
			chunks := db.Collection(mongo.DefaultCollection + mongo.SnapshotChunkCollectionSuffix)
			manifests := db.Collection(mongo.DefaultCollection + mongo.SnapshotCollectionSuffix)
			n, err := chunks.CountDocuments(ctx, bson.D{})
			require.NoError(t, err)
			assert.Equal(t, int64(21), n, "20 MiB + 5 bytes in 1 MiB chunks")

			var doc bson.D
			require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: sid}}).Decode(&doc))
			assertOriginalReadable(t, doc)
			raw, err := bson.Marshal(doc)
			require.NoError(t, err)
			assert.Less(t, len(raw), 1<<20, "the snapshot went into the session document")

			got, err := r.GetSnapshot(ctx, sid, key)
			require.NoError(t, err)
			require.True(t, bytes.Equal(big, got.Data), "the chunked snapshot came back different")

			_, err = r.PutSnapshot(ctx, sid, key, []byte("small"))
			require.NoError(t, err)
			n, err = chunks.CountDocuments(ctx, bson.D{})
			require.NoError(t, err)
			assert.Equal(t, int64(1), n, "the replaced version's chunks were left behind")

			_, err = r.PutSnapshot(ctx, sid, "other", []byte("x"))
			require.NoError(t, err)
			require.NoError(t, r.DeleteSession(ctx, sid))
			for name, cl := range map[string]*driver.Collection{"chunks": chunks, "manifests": manifests} {
				n, err := cl.CountDocuments(ctx, bson.D{})
				require.NoError(t, err)
				assert.Zero(t, n, "DeleteSession left snapshot %s", name)
			}
		})
	}
}
