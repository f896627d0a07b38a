package mongotest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/session"
)

// The pool and factory tests run on FerretDB (or MONGODB_URI): what they
// check — sharing, reference counting, statistics — is the driver's and
// this package's, not the server's.

var poolSeq atomic.Int64

// poolURI returns a connection string of its own for one test: the appName
// parameter makes the shared-pool key unique, so that tests never share a
// client by accident.
func poolURI(t testing.TB) string {
	t.Helper()
	uri, _ := mongotest.Start(t)
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%sappName=pooltest%d", uri, sep, poolSeq.Add(1))
}

// disconnected reports whether a client has been disconnected.
func disconnected(ctx context.Context, c *driver.Client) bool {
	return errors.Is(c.Ping(ctx, nil), driver.ErrClientDisconnected)
}

// mustWork runs a write and a read on r.
func mustWork(t *testing.T, r session.Repository, sessionID string) {
	t.Helper()
	ctx := ctxT(t)
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sessionID}))
	_, err := r.GetSession(ctx, sessionID)
	require.NoError(t, err)
}

func TestPool_OneSharedClientPerURIAndOptions_ClosedByItsLastHolder(t *testing.T) {
	t.Parallel()
	uri := poolURI(t)
	ctx := ctxT(t)
	db := uniqueDB(t)
	r1, err := mongo.Open(ctx, uri, mongo.Options{Database: db}, mongo.PoolOptions{})
	require.NoError(t, err)
	r2, err := mongo.Open(ctx, uri, mongo.Options{Database: db}, mongo.PoolOptions{})
	require.NoError(t, err)
	other, err := mongo.Open(ctx, uri, mongo.Options{Database: db}, mongo.PoolOptions{MaxPoolSize: 7})
	require.NoError(t, err)

	assert.Same(t, r1.Client(), r2.Client(), "same connection string and options: one client")
	assert.NotSame(t, r1.Client(), other.Client(), "different pool options: another client")

	require.NoError(t, r1.Close())
	require.NoError(t, r1.Close(), "Close is idempotent and does not release twice")
	assert.ErrorIs(t, r1.CreateSession(ctx, &session.Session{ID: "x"}), session.ErrClosed)
	assert.False(t, disconnected(ctx, r2.Client()), "closing one holder leaves the client connected (B12)")
	mustWork(t, r2, "after-r1-closed")

	require.NoError(t, r2.Close())
	assert.True(t, disconnected(ctx, r2.Client()), "the last holder's Close disconnects the owned client")
	assert.False(t, disconnected(ctx, other.Client()))
	mustWork(t, other, "other-client")
	require.NoError(t, other.Close())
	assert.True(t, disconnected(ctx, other.Client()))

	// The key is free again: a new Open connects a new client.
	r3, err := mongo.Open(ctx, uri, mongo.Options{Database: db}, mongo.PoolOptions{})
	require.NoError(t, err)
	defer r3.Close()
	assert.NotSame(t, r2.Client(), r3.Client())
	mustWork(t, r3, "reconnected")
}

func TestFactory_ClosingOneFactoryLeavesAnotherOnTheSamePoolWorking(t *testing.T) {
	t.Parallel()
	uri := poolURI(t)
	ctx := ctxT(t)
	db := uniqueDB(t)
	cfg := mongo.FactoryConfig{URI: uri, Options: mongo.Options{Database: db}}
	f1, err := mongo.NewFactory(ctx, cfg)
	require.NoError(t, err)
	f2, err := mongo.NewFactory(ctx, cfg)
	require.NoError(t, err)
	fromF1, err := f1.Repository(ctx, mongo.Overrides{})
	require.NoError(t, err)
	fromF2 := mustRepo(t, f2)
	assert.Same(t, fromF1.Client(), fromF2.Client(), "both factories share the pooled client")

	require.NoError(t, f1.Close())
	require.NoError(t, f1.Close(), "Close is idempotent")
	_, err = f1.Repository(ctx, mongo.Overrides{})
	assert.ErrorIs(t, err, session.ErrClosed)
	require.NoError(t, f2.Ping(ctx), "the other factory still works")
	mustWork(t, fromF2, "via-f2")
	mustWork(t, fromF1, "via-repo-of-closed-factory")

	require.NoError(t, fromF2.Close())
	require.NoError(t, f2.Close())
	assert.False(t, disconnected(ctx, fromF1.Client()), "a repository still holds the client")
	mustWork(t, fromF1, "last-holder")
	require.NoError(t, fromF1.Close())
	assert.True(t, disconnected(ctx, fromF1.Client()), "the last holder closed the owned client")
}

// mustRepo returns a repository of f closed with t.
func mustRepo(t *testing.T, f *mongo.Factory) *mongo.Repository {
	t.Helper()
	r, err := f.Repository(ctxT(t), mongo.Overrides{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestFactory_BorrowedClientIsNeverClosed(t *testing.T) {
	t.Parallel()
	uri, _ := mongotest.Start(t)
	c, _ := client(t, uri)
	ctx := ctxT(t)
	f, err := mongo.NewFactory(ctx, mongo.FactoryConfig{Client: c, URI: "mongodb://ignored.invalid/", Options: mongo.Options{Database: uniqueDB(t)}})
	require.NoError(t, err)
	r := mustRepo(t, f)
	assert.Same(t, c, r.Client(), "Client wins over URI")
	mustWork(t, r, "borrowed")
	assert.Equal(t, 1.0, f.Stats()["mongo_external_client"])

	require.NoError(t, r.Close())
	require.NoError(t, f.Close())
	assert.False(t, disconnected(ctx, c), "a borrowed client survives its repositories and factory")

	r2, err := mongo.New(ctx, c, mongo.Options{Database: uniqueDB(t)})
	require.NoError(t, err)
	require.NoError(t, r2.Close())
	assert.NoError(t, c.Ping(ctx, nil))

	_, err = mongo.NewFactory(ctx, mongo.FactoryConfig{})
	assert.ErrorIs(t, err, session.ErrInvalidArgument, "neither URI nor client")
}

func TestFactory_PerCallOverrides(t *testing.T) {
	t.Parallel()
	uri, _ := mongotest.Start(t)
	c, _ := client(t, uri)
	ctx := ctxT(t)
	dbA, dbB := uniqueDB(t), uniqueDB(t)
	f, err := mongo.NewFactory(ctx, mongo.FactoryConfig{Client: c, Options: mongo.Options{Database: dbA, MetadataFields: []string{"tier"}}})
	require.NoError(t, err)
	defer f.Close()

	for _, tc := range []struct {
		name       string
		o          mongo.Overrides
		db, coll   string
		wantFields map[string]any
	}{
		{"defaults", mongo.Overrides{}, dbA, mongo.DefaultCollection, map[string]any{"tier": ""}},
		{"database", mongo.Overrides{Database: dbB}, dbB, mongo.DefaultCollection, map[string]any{"tier": ""}},
		{"collection", mongo.Overrides{Collection: "tenant_x"}, dbA, "tenant_x", map[string]any{"tier": ""}},
		{"all three", mongo.Overrides{Database: dbB, Collection: "tenant_y", MetadataFields: []string{"status", "region"}}, dbB, "tenant_y", map[string]any{"status": "", "region": ""}},
		{"no metadata fields", mongo.Overrides{Collection: "tenant_z", MetadataFields: []string{}}, dbA, "tenant_z", map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.Repository(ctx, tc.o)
			require.NoError(t, err)
			defer r.Close()
			assert.Equal(t, tc.db, r.Database())
			assert.Equal(t, tc.coll, r.Collection())
			id := "s-" + strings.ReplaceAll(tc.name, " ", "-")
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id}))
			var doc struct {
				Metadata map[string]any `bson:"metadata"`
			}
			require.NoError(t, c.Database(tc.db).Collection(tc.coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc))
			md := map[string]any{}
			for k, v := range doc.Metadata {
				md[k] = v
			}
			assert.Equal(t, tc.wantFields, md)
		})
	}
	// Each override's metadata fields are indexed in its own collection.
	cur, err := c.Database(dbB).Collection("tenant_y").Indexes().List(ctx)
	require.NoError(t, err)
	var specs []struct {
		Key bson.D `bson:"key"`
	}
	require.NoError(t, cur.All(ctx, &specs))
	var keys []string
	for _, s := range specs {
		for _, e := range s.Key {
			keys = append(keys, e.Key)
		}
	}
	assert.Subset(t, keys, []string{"metadata.status", "metadata.region", "created_at"})
	assert.NotContains(t, keys, "metadata.tier")
}

// TestDefaultFactory_ReinitWhileRequestsAreInFlight changes process-wide
// state, so it does not run in parallel with the other tests of this file
// that could use it (none does).
func TestDefaultFactory_ReinitWhileRequestsAreInFlight(t *testing.T) {
	uri := poolURI(t)
	ctx := ctxT(t)
	db := uniqueDB(t)
	require.NoError(t, mongo.CloseDefaultFactory())
	_, err := mongo.DefaultFactory()
	require.ErrorIs(t, err, mongo.ErrNoDefaultFactory)

	first, err := mongo.InitDefaultFactory(ctx, mongo.FactoryConfig{URI: uri, Options: mongo.Options{Database: db}})
	require.NoError(t, err)
	got, err := mongo.DefaultFactory()
	require.NoError(t, err)
	require.Same(t, first, got)

	const workers, requests = 6, 15
	var wg sync.WaitGroup
	var served atomic.Int64
	errs := make(chan error, workers*requests)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range requests {
				err := func() error {
					f, err := mongo.DefaultFactory()
					if err != nil {
						return err
					}
					time.Sleep(time.Millisecond) // widen the window for a re-init
					r, err := f.Repository(ctx, mongo.Overrides{})
					if err != nil {
						return fmt.Errorf("repository: %w", err)
					}
					defer r.Close()
					id := fmt.Sprintf("w%d-r%d", w, i)
					if err := r.CreateSession(ctx, &session.Session{ID: id}); err != nil {
						return err
					}
					if _, err := r.GetSession(ctx, id); err != nil {
						return err
					}
					served.Add(1)
					return nil
				}()
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	// Re-initialise three times while the requests run: with the same
	// connection string (the pooled client is kept) and with a changed
	// one (a new client; the old one closes when its last request ends).
	for i := range 3 {
		time.Sleep(5 * time.Millisecond)
		cfgURI := uri
		if i == 1 {
			cfgURI = uri + "&maxPoolSize=20"
		}
		_, err := mongo.InitDefaultFactory(ctx, mongo.FactoryConfig{URI: cfgURI, Options: mongo.Options{Database: db}})
		require.NoError(t, err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("request failed during re-init: %v", err)
	}
	assert.Equal(t, int64(workers*requests), served.Load())
	_, err = first.Repository(ctx, mongo.Overrides{})
	assert.NoError(t, err, "a replaced default factory hands out repositories of its successor")

	require.NoError(t, mongo.CloseDefaultFactory())
	require.NoError(t, mongo.CloseDefaultFactory(), "idempotent")
	_, err = mongo.DefaultFactory()
	assert.ErrorIs(t, err, mongo.ErrNoDefaultFactory)
	_, err = first.Repository(ctx, mongo.Overrides{})
	assert.ErrorIs(t, err, session.ErrClosed, "after CloseDefaultFactory the chain ends")
}

func TestStats_MoveWithOperations(t *testing.T) {
	t.Parallel()
	uri := poolURI(t)
	ctx := ctxT(t)
	db := uniqueDB(t)
	f, err := mongo.NewFactory(ctx, mongo.FactoryConfig{URI: uri, Options: mongo.Options{Database: db}, Pool: mongo.PoolOptions{MinPoolSize: 1}})
	require.NoError(t, err)
	defer f.Close()
	r := mustRepo(t, f)
	before := r.Stats()
	for _, k := range []string{
		"mongo_connections_open", "mongo_connections_in_use", "mongo_connections_idle", "mongo_checkouts_waiting",
		"mongo_checkouts_total", "mongo_checkout_failures_total", "mongo_commands_total", "mongo_command_failures_total",
		"mongo_command_seconds_total", "mongo_operations_total",
	} {
		assert.Contains(t, before, k)
	}

	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
	require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
	for i := range 3 {
		require.NoError(t, r.CreateMessage(ctx, "s", "a", textMessage(i, "hello")))
	}
	_, err = r.ListMessages(ctx, "s", "a", 0, 0)
	require.NoError(t, err)
	after := r.Stats()
	assert.GreaterOrEqual(t, after["mongo_commands_total"]-before["mongo_commands_total"], 6.0)
	assert.GreaterOrEqual(t, after["mongo_checkouts_total"]-before["mongo_checkouts_total"], 6.0)
	assert.Greater(t, after["mongo_command_seconds_total"], before["mongo_command_seconds_total"])
	assert.Equal(t, 6.0, after["mongo_operations_total"]-before["mongo_operations_total"])
	assert.GreaterOrEqual(t, after["mongo_connections_open"], 1.0)
	assert.Equal(t, 0.0, after["mongo_connections_in_use"], "no operation in flight")
	assert.Equal(t, after["mongo_connections_open"], after["mongo_connections_idle"])
	assert.Equal(t, after["mongo_commands_total"], f.Stats()["mongo_commands_total"], "factory and repository share the client's counters")

	// A command the server rejects counts as a command failure: the
	// aggregate ListAgents uses on MongoDB, forced on a server without it.
	forced := mongo.Options{Database: db, Capabilities: &mongo.Capabilities{Aggregation: true}}
	fr, err := mongo.Open(ctx, uri, forced, mongo.PoolOptions{MinPoolSize: 1})
	require.NoError(t, err)
	defer fr.Close()
	_, err = fr.ListAgents(ctx, "s")
	if r.Capabilities().Aggregation {
		require.NoError(t, err) // a real MongoDB has it
		return
	}
	require.Error(t, err)
	assert.Equal(t, 1.0, fr.Stats()["mongo_command_failures_total"]-after["mongo_command_failures_total"])
	assert.Equal(t, 1.0, fr.Stats()["mongo_operation_failures_total"])
}

// TestCredentials_NeverInStatsErrorsOrLogs uses a connection string with a
// password against a live server and an unreachable one, and looks for the
// password in everything the package exposes. It swaps the process's
// default loggers, so it does not run in parallel.
func TestCredentials_NeverInStatsErrorsOrLogs(t *testing.T) {
	const secret = "s3cr3tPassw0rd"
	var logs bytes.Buffer
	var logMu sync.Mutex
	oldSlog := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	oldFlags, oldOut := log.Flags(), log.Writer()
	log.SetOutput(lockedWriter{&logs, &logMu})
	t.Cleanup(func() {
		slog.SetDefault(oldSlog)
		log.SetOutput(oldOut)
		log.SetFlags(oldFlags)
	})

	uri, _ := mongotest.Start(t)
	host := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	ctx := ctxT(t)
	var exposed []string
	check := func(what string, v any) {
		t.Helper()
		s := fmt.Sprintf("%v", v)
		exposed = append(exposed, s)
		assert.NotContains(t, s, secret, what)
	}

	// PLAIN: FerretDB v1 accepts it without authentication configured.
	live := fmt.Sprintf("mongodb://sessionkit:%s@%s/?authMechanism=PLAIN&appName=credtest%d", secret, host, poolSeq.Add(1))
	r, err := mongo.Open(ctx, live, mongo.Options{Database: uniqueDB(t)}, mongo.PoolOptions{ServerSelectionTimeout: 2 * time.Second})
	if err != nil {
		// FerretDB without authentication configured may refuse the
		// credentials; the refusal itself must not show the password.
		check("auth error", err)
		t.Logf("live server refused the credentials: %v", err)
	} else {
		defer r.Close()
		require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "cred"}))
		stats := r.Stats()
		for k, v := range stats {
			check("stats key", k)
			check("stats value", v)
		}
		check("stats", stats)
		check("pool stats", mongo.PoolStats())
		check("not found", r.CreateAgent(ctx, "missing", &session.Agent{ID: "a"}))
		check("conflict", r.CreateMessage(ctx, "cred", "missing", textMessage(3, "x")))
	}

	unreachable := fmt.Sprintf("mongodb://sessionkit:%s@127.0.0.1:1/?appName=credtest%d", secret, poolSeq.Add(1))
	_, err = mongo.Open(ctx, unreachable, mongo.Options{}, mongo.PoolOptions{ServerSelectionTimeout: 300 * time.Millisecond, ConnectTimeout: 300 * time.Millisecond})
	require.Error(t, err)
	check("unreachable", err)
	assert.Contains(t, err.Error(), "127.0.0.1:1", "the error still says where")

	for _, bad := range []string{
		fmt.Sprintf("mongodb://sessionkit:%s@%s/?maxPoolSize=lots", secret, host),
		fmt.Sprintf("mongodb://sessionkit:%s@%s/?minPoolSize=9&maxPoolSize=3", secret, host),
		fmt.Sprintf("mongodb://sessionkit:%s@%s/?w=1&journal=maybe", secret, host),
	} {
		_, err := mongo.Open(ctx, bad, mongo.Options{}, mongo.PoolOptions{})
		require.Error(t, err, bad)
		assert.ErrorIs(t, err, session.ErrInvalidArgument, "malformed connection string")
		check("invalid", err)
		_, err = mongo.NewFactory(ctx, mongo.FactoryConfig{URI: bad})
		assert.ErrorIs(t, err, session.ErrInvalidArgument)
		check("invalid factory", err)
	}

	logMu.Lock()
	defer logMu.Unlock()
	assert.NotContains(t, logs.String(), secret, "logs")
	assert.NotEmpty(t, exposed)
}

// lockedWriter serializes writes to a shared buffer.
type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
