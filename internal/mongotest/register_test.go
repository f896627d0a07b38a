package mongotest_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// hostOf returns host:port of a connection string from mongotest.Start.
func hostOf(t *testing.T, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	require.NoError(t, err)
	return u.Host
}

func TestRegister_OpenURLOnFerretDB(t *testing.T) {
	t.Parallel()
	uri, _ := mongotest.Start(t)
	host := hostOf(t, uri)
	c, _ := client(t, uri)
	ctx := ctxT(t)
	db := uniqueDB(t)

	repo, err := session.Open(ctx, fmt.Sprintf("mongodb://%s/%s?collection=x&metadata_fields=a,b&maxPoolSize=5", host, db))
	require.NoError(t, err)
	defer repo.Close()
	r, ok := repo.(*mongo.Repository)
	require.True(t, ok, "%T", repo)
	assert.Equal(t, db, r.Database(), "the path names the database")
	assert.Equal(t, "x", r.Collection())

	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "url"}))
	require.NoError(t, repo.CreateAgent(ctx, "url", &session.Agent{ID: "a"}))
	require.NoError(t, repo.CreateMessage(ctx, "url", "a", textMessage(0, "hi")))
	md, err := repo.GetMetadata(ctx, "url")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": "", "b": ""}, md, "metadata_fields are pre-filled")
	n, err := c.Database(db).Collection("x").CountDocuments(ctx, bson.D{{Key: "_id", Value: "url"}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "stored in <db>.x")

	// The database parameter wins over the path.
	other := uniqueDB(t)
	repo2, err := session.Open(ctx, fmt.Sprintf("mongodb://%s/%s?database=%s", host, db, other))
	require.NoError(t, err)
	defer repo2.Close()
	assert.Equal(t, other, repo2.(*mongo.Repository).Database())
	assert.Equal(t, mongo.DefaultCollection, repo2.(*mongo.Repository).Collection())
}

func TestRegister_BadParametersAreInvalidArgumentsWithoutThePassword(t *testing.T) {
	t.Parallel()
	uri, _ := mongotest.Start(t)
	host := hostOf(t, uri)
	ctx := ctxT(t)
	const secret = "hunter2hunter2"
	for _, tc := range []struct{ name, query string }{
		{"max_document_bytes not a number", "max_document_bytes=big"},
		{"max_document_bytes negative", "max_document_bytes=-1"},
		{"operation_timeout not a duration", "operation_timeout=soon"},
		{"operation_timeout zero", "operation_timeout=0s"},
		{"metadata field with a dot", "metadata_fields=a.b"},
		{"metadata field with a dollar", "metadata_fields=$x"},
		{"driver option malformed", "maxPoolSize=many"},
		{"driver options inconsistent", "minPoolSize=10&maxPoolSize=2"},
		{"driver option bad bool", "retryWrites=perhaps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := fmt.Sprintf("mongodb://user:%s@%s/db?%s", secret, host, tc.query)
			repo, err := session.Open(ctx, raw)
			if repo != nil {
				_ = repo.Close()
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, session.ErrInvalidArgument)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, fmt.Sprintf("%+v", err), secret)
		})
	}
}

func TestRegister_CacheParameterWrapsInRediscache(t *testing.T) {
	t.Parallel()
	rs := testservice.StartRedis(t)
	uri, _ := mongotest.Start(t)
	host := hostOf(t, uri)
	ctx := ctxT(t)
	prefix := fmt.Sprintf("urlcache%d:", time.Now().UnixNano())
	cache := url.QueryEscape(fmt.Sprintf("redis://%s/0?prefix=%s", rs.Addr, prefix))
	repo, err := session.Open(ctx, fmt.Sprintf("mongodb://%s/%s?collection=c&cache=%s", host, uniqueDB(t), cache))
	require.NoError(t, err)
	defer repo.Close()
	c, ok := repo.(*rediscache.Cache)
	require.True(t, ok, "cache=redis://… wraps the repository: %T", repo)
	inner, ok := c.Inner().(*mongo.Repository)
	require.True(t, ok, "over the Mongo repository: %T", c.Inner())
	assert.Equal(t, "c", inner.Collection(), "the cache parameter does not reach the backend")

	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "cached", Metadata: map[string]any{"k": "v"}}))
	for range 2 {
		md, err := repo.GetMetadata(ctx, "cached")
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"k": "v"}, md)
	}
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rc.Close()
	keys, err := rc.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.NotEmpty(t, keys, "reads were cached in Redis under the prefix")
	assert.Contains(t, c.Stats(), "mongo_commands_total", "the backend's pool statistics pass through the cache")
}

// TestConformance_CacheOverMongo runs the conformance suite on
// rediscache over this backend, with a real redis-server: every repository
// is a cache with a key prefix of its own over a Mongo repository in a
// database of its own; a peer is a second cache instance over a second
// Mongo repository (second client) on the same collection with the same
// prefix, as a second process would be.
func TestConformance_CacheOverMongo_FerretDB(t *testing.T) {
	runCacheConformance(t, mongotest.Start)
}

func TestConformance_CacheOverMongo_JavaServer(t *testing.T) {
	runCacheConformance(t, mongotest.StartJava)
}

func runCacheConformance(t *testing.T, start func(testing.TB) (string, string)) {
	rs := testservice.StartRedis(t)
	uri, kind := start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr, ContextTimeoutEnabled: true, PoolSize: 64})
	t.Cleanup(func() { _ = rc.Close() })
	var seq atomic.Int64
	run := time.Now().UnixNano()
	type where struct{ db, prefix string }
	open := func(t *testing.T, w where) *rediscache.Cache {
		t.Helper()
		c, _ := client(t, uri)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := mongo.New(ctx, c, mongo.Options{Database: w.db, MaxDocumentBytes: conformanceSizeLimit,
			SnapshotChunkBytes: conformanceChunkBytes, MaxSnapshotBytes: smallSnapshotLimit})
		require.NoError(t, err)
		cache, err := rediscache.New(r, rc, rediscache.Options{Prefix: w.prefix, RedisTimeout: 2 * time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { _ = cache.Close() })
		return cache
	}
	whereOf := map[*rediscache.Cache]where{}
	lock := make(chan struct{}, 1)
	remember := func(c *rediscache.Cache, w where) session.Repository {
		lock <- struct{}{}
		whereOf[c] = w
		<-lock
		return c
	}
	lookup := func(r session.Repository) where {
		lock <- struct{}{}
		defer func() { <-lock }()
		w, ok := whereOf[r.(*rediscache.Cache)]
		require.True(t, ok)
		return w
	}
	conformance.Run(t, conformance.Harness{
		NewRepository: func(t *testing.T) session.Repository {
			w := where{db: uniqueDB(t), prefix: fmt.Sprintf("cm%d-%d:", run, seq.Add(1))}
			return remember(open(t, w), w)
		},
		NewPeer: func(t *testing.T, r session.Repository) session.Repository {
			w := lookup(r)
			return remember(open(t, w), w)
		},
		Reopen: func(t *testing.T, r session.Repository) session.Repository {
			w := lookup(r)
			require.NoError(t, r.Close())
			return remember(open(t, w), w)
		},
		Capabilities: conformance.Capabilities{SizeLimit: conformanceSizeLimit, TimePrecision: time.Millisecond,
			SnapshotLimit: smallSnapshotLimit, Appenders: appenders(kind)},
	})
	if strings.HasPrefix(t.Name(), "TestConformance_CacheOverMongo_FerretDB") {
		t.Log("FerretDB: writes serialized in-process per session (not atomic under concurrency)")
	}
}
