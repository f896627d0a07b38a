package mongotest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/event"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/mongotest"
)

// server is one MongoDB-wire server the suite runs on.
type server struct {
	name  string
	start func(testing.TB) (string, string)
}

// servers lists FerretDB (or MONGODB_URI) and mongo-java-server.
var servers = []server{
	{"ferretdb", mongotest.Start},
	{"javaserver", mongotest.StartJava},
}

var dbSeq atomic.Int64

// uniqueDB names a database of its own for one test, so tests can share a
// real MONGODB_URI server.
func uniqueDB(t testing.TB) string {
	return fmt.Sprintf("skt_%d_%d", time.Now().UnixNano()%1e9, dbSeq.Add(1))
}

// commandCounter counts the commands a client sends, and their bytes.
type commandCounter struct {
	commands, sent, received atomic.Int64
}

func (c *commandCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			switch e.CommandName {
			case "hello", "isMaster", "ismaster", "endSessions":
				return
			}
			c.commands.Add(1)
			c.sent.Add(int64(len(e.Command)))
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			c.received.Add(int64(len(e.Reply)))
		},
	}
}

// count runs fn and returns how many commands it sent.
func (c *commandCounter) count(fn func()) int64 {
	before := c.commands.Load()
	fn()
	return c.commands.Load() - before
}

// client connects a borrowed client with a command counter.
func client(t testing.TB, uri string) (*driver.Client, *commandCounter) {
	t.Helper()
	cc := &commandCounter{}
	c, err := driver.Connect(options.Client().ApplyURI(uri).SetMonitor(cc.monitor()).SetMaxPoolSize(4))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c, cc
}

// newRepo opens a Repository over a borrowed client in a database of its own.
func newRepo(t testing.TB, uri string, opts mongo.Options) (*mongo.Repository, *driver.Client, *commandCounter) {
	t.Helper()
	c, cc := client(t, uri)
	if opts.Database == "" {
		opts.Database = uniqueDB(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := mongo.New(ctx, c, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r, c, cc
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dbOfRepo is the database a repository from newRepo uses.
func dbOfRepo(r *mongo.Repository) string { return r.Database() }
