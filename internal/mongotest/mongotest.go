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
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

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

// JarEnv names the environment variable that points at the
// mongo-java-server launcher jar (built by scripts/mongo-java.sh build).
const JarEnv = "SESSIONKIT_MONGO_JAVA_JAR"

// StartJava starts mongo-java-server (in-memory backend) on a free loopback
// port and returns its connection string. The jar comes from
// SESSIONKIT_MONGO_JAVA_JAR or internal/mongojava/target/; when there is
// none, or java is missing, the test is skipped (or fails when
// SESSIONKIT_REQUIRE_SERVICES=1).
func StartJava(t testing.TB) (uri string, kind string) {
	t.Helper()
	jar := os.Getenv(JarEnv)
	if jar == "" {
		jar = defaultJar()
	}
	if jar == "" {
		testservice.Unavailable(t, "mongo-java-server jar not built (run scripts/mongo-java.sh build or set %s)", JarEnv)
		return "", ""
	}
	if _, err := os.Stat(jar); err != nil {
		testservice.Unavailable(t, "mongo-java-server jar %s: %v", jar, err)
		return "", ""
	}
	p := testservice.Start(t, 60*time.Second, nil, "java", "-Xss4m", "-jar", jar, "{port}")
	return "mongodb://" + p.Addr + "/", KindJavaServer
}

// defaultJar finds internal/mongojava/target/mongojava.jar next to this
// package's source.
func defaultJar() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	jar := filepath.Join(filepath.Dir(file), "..", "mongojava", "target", "mongojava.jar")
	if _, err := os.Stat(jar); err != nil {
		return ""
	}
	return jar
}
