package mongotest_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/session"
)

// construction is one way an application gets a Mongo repository. Each
// opens a repository over database db; close gives it back (to the pool,
// the factory's reference, ...).
type construction struct {
	name string
	open func(t *testing.T, uri, db string) session.Repository
}

// constructions are the ways other than mongo.New (TestConformance_*):
// the shared reference-counted client, a factory with and without
// overrides, the default factory, and session.Open with a mongodb:// URL.
// Peers and reopened repositories are made the same way, so Reopen releases
// the repository's reference and acquires a new one from the same pool.
func constructions() []construction {
	opts := func(db string) mongo.Options {
		return mongo.Options{Database: db, MaxDocumentBytes: conformanceSizeLimit}
	}
	var (
		mu        sync.Mutex
		factories = map[string]*mongo.Factory{}
	)
	// factory returns the factory of one test server, made once: per-request
	// repositories from one factory is how it is meant to be used.
	factory := func(t *testing.T, uri string, defaults mongo.Options) *mongo.Factory {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		key := uri + "\x00" + defaults.Database
		if f := factories[key]; f != nil {
			return f
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		f, err := mongo.NewFactory(ctx, mongo.FactoryConfig{URI: uri, Options: defaults})
		require.NoError(t, err)
		factories[key] = f
		return f
	}
	ctx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 30*time.Second)
	}
	return []construction{
		{"Open", func(t *testing.T, uri, db string) session.Repository {
			c, cancel := ctx()
			defer cancel()
			r, err := mongo.Open(c, uri, opts(db), mongo.PoolOptions{MaxPoolSize: 8, MinPoolSize: 1})
			require.NoError(t, err)
			return r
		}},
		{"Factory", func(t *testing.T, uri, db string) session.Repository {
			// The factory's defaults name the database.
			f := factory(t, uri, opts(db))
			c, cancel := ctx()
			defer cancel()
			r, err := f.Repository(c, mongo.Overrides{})
			require.NoError(t, err)
			return r
		}},
		{"FactoryOverrides", func(t *testing.T, uri, db string) session.Repository {
			// One factory for the server; database and collection per call.
			f := factory(t, uri, mongo.Options{MaxDocumentBytes: conformanceSizeLimit})
			c, cancel := ctx()
			defer cancel()
			r, err := f.Repository(c, mongo.Overrides{Database: db, Collection: "overridden"})
			require.NoError(t, err)
			return r
		}},
		{"DefaultFactory", func(t *testing.T, uri, db string) session.Repository {
			f, err := mongo.DefaultFactory()
			require.NoError(t, err, "initialized by the test")
			c, cancel := ctx()
			defer cancel()
			r, err := f.Repository(c, mongo.Overrides{Database: db})
			require.NoError(t, err)
			return r
		}},
		{"URL", func(t *testing.T, uri, db string) session.Repository {
			u, err := url.Parse(uri)
			require.NoError(t, err)
			c, cancel := ctx()
			defer cancel()
			r, err := session.Open(c, fmt.Sprintf("mongodb://%s/%s?max_document_bytes=%d&maxPoolSize=8", u.Host, db, conformanceSizeLimit))
			require.NoError(t, err)
			return r
		}},
	}
}

// runConformancePaths runs the conformance suite over the constructions on
// one server: the whole suite over each of them on mongo-java-server (about
// 7 s a run). On FerretDB, several times slower, each case runs over one of
// them in turn — every construction meets about a fifth of the 224 cases;
// the five share the repository code TestConformance_FerretDB runs the
// whole suite over and differ in how a repository gets its client and
// options. SESSIONKIT_CONFORMANCE_ALL_PATHS=1 runs the whole suite over
// every construction there too.
func runConformancePaths(t *testing.T, start func(testing.TB) (string, string)) {
	uri, kind := start(t)
	cons := constructions()
	{
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := mongo.InitDefaultFactory(c, mongo.FactoryConfig{URI: uri, Options: mongo.Options{MaxDocumentBytes: conformanceSizeLimit}})
		cancel()
		require.NoError(t, err)
		t.Cleanup(func() { _ = mongo.CloseDefaultFactory() })
	}
	harness := func(pick func() construction) conformance.Harness {
		var mu sync.Mutex
		type made struct {
			db string
			c  construction
		}
		of := map[session.Repository]made{}
		remember := func(r session.Repository, m made) session.Repository {
			mu.Lock()
			defer mu.Unlock()
			of[r] = m
			return r
		}
		lookup := func(r session.Repository) made {
			mu.Lock()
			defer mu.Unlock()
			return of[r]
		}
		openClosed := func(t *testing.T, m made) session.Repository {
			r := m.c.open(t, uri, m.db)
			t.Cleanup(func() { _ = r.Close() })
			return remember(r, m)
		}
		return conformance.Harness{
			NewRepository: func(t *testing.T) session.Repository {
				return openClosed(t, made{db: uniqueDB(t), c: pick()})
			},
			NewPeer: func(t *testing.T, r session.Repository) session.Repository {
				return openClosed(t, lookup(r))
			},
			Reopen: func(t *testing.T, r session.Repository) session.Repository {
				m := lookup(r)
				require.NoError(t, r.Close())
				return openClosed(t, m)
			},
			Capabilities: conformance.Capabilities{SizeLimit: conformanceSizeLimit, TimePrecision: time.Millisecond,
				Appenders: appenders(kind)},
		}
	}
	if kind != mongotest.KindFerretDB || os.Getenv("SESSIONKIT_CONFORMANCE_ALL_PATHS") == "1" {
		for _, c := range cons {
			t.Run(c.name, func(t *testing.T) {
				conformance.Run(t, harness(func() construction { return c }))
			})
		}
		return
	}
	var next atomic.Int64
	used := make([]atomic.Int64, len(cons))
	// The cases are parallel subtests, which run after Run returns: count
	// what each construction got once they are done.
	t.Cleanup(func() {
		var counts []string
		for i, c := range cons {
			assert.Positive(t, used[i].Load(), "construction %s ran no case", c.name)
			counts = append(counts, fmt.Sprintf("%s %d", c.name, used[i].Load()))
		}
		t.Logf("cases per construction: %s", strings.Join(counts, ", "))
	})
	conformance.Run(t, harness(func() construction {
		i := int(next.Add(1)) % len(cons)
		used[i].Add(1)
		return cons[i]
	}))
}

// TestConformancePaths_* change the default factory, a process-wide
// setting, so they never run in parallel with each other.
func TestConformancePaths_FerretDB(t *testing.T) {
	runConformancePaths(t, serversByName("ferretdb"))
}

func TestConformancePaths_JavaServer(t *testing.T) {
	runConformancePaths(t, serversByName("javaserver"))
}

func serversByName(name string) func(testing.TB) (string, string) {
	for _, s := range servers {
		if s.name == name {
			return s.start
		}
	}
	panic("no server " + name)
}
