// Package mongotest gives tests a MongoDB-wire server: MONGODB_URI when it
// is set (a real MongoDB or Atlas), else an embedded FerretDB v1.24.2 on
// SQLite in a temporary directory; and, with StartJava, mongo-java-server
// (an in-memory server in Java) when its launcher jar has been built.
//
// It is a separate Go module so that FerretDB's hundred-odd dependencies
// never reach the library's go.mod or its users' builds.
package mongotest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/sessionkit/sessionkit/internal/testservice"
)

// Server kinds returned by Start and StartJava.
const (
	KindMongoDB    = "mongodb"     // MONGODB_URI
	KindFerretDB   = "ferretdb"    // embedded FerretDB v1.24.2 (SQLite)
	KindJavaServer = "java-server" // de.bwaldvogel mongo-java-server
)

// Start returns the connection string of a MongoDB-wire server for t and
// its kind. With MONGODB_URI set it returns that (tests must then use a
// database of their own). Otherwise it starts FerretDB embedded on
// 127.0.0.1:<free port> with its SQLite handler in t.TempDir() (never
// mode=memory, which deadlocks), stopped when t ends.
func Start(t testing.TB) (uri string, kind string) {
	t.Helper()
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		return uri, KindMongoDB
	}
	// ferretdb.New writes a package-level variable of FerretDB's: tests
	// starting servers in parallel must not call it at the same time.
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	newMu.Unlock()
	if err != nil {
		t.Fatalf("mongotest: ferretdb: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return f.MongoDBURI(), KindFerretDB
}

// newMu serializes ferretdb.New.
var newMu sync.Mutex

// StartJava starts mongo-java-server (in-memory backend) on a free loopback
// port and returns its connection string; see testservice.StartMongoJava.
func StartJava(t testing.TB) (uri string, kind string) {
	t.Helper()
	return testservice.StartMongoJava(t), KindJavaServer
}
