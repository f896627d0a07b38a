package mongotest_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/internal/strandsgolden"
	"github.com/sessionkit/sessionkit/internal/testservice"
)

// The golden trees strands-agents 1.62.0 wrote (testdata/strands-1.62)
// round-trip on the Mongo backends as on the others
// (cmd/sessionkit/internal/transfer, golden_test.go): imported with the
// sessionkit CLI, exported back and compared by the same rules
// (strandsgolden.Compare). The import code lives in an internal package of
// cmd/sessionkit, which this module may not import, so the test runs the
// CLI itself, built once from the repository — the path a user takes.
//
// MongoDB keeps times at milliseconds, so every file's top-level
// created_at and updated_at come back truncated (the SDK writes
// microseconds); everything else is byte-identical, or JSON-equal where
// strandsgolden.JSONEqual says. Snapshot trees come back byte for byte.
func TestGolden_StrandsTreesRoundTripOnMongo(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	servers := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"ferretdb", func(t *testing.T) string {
			uri, _ := mongotest.Start(t)
			return goldenURL(t, uri, "")
		}},
		{"java-server", func(t *testing.T) string {
			uri, _ := mongotest.StartJava(t)
			return goldenURL(t, uri, "")
		}},
		{"cache-over-java-server", func(t *testing.T) string {
			uri, _ := mongotest.StartJava(t)
			rs := testservice.StartRedis(t)
			return goldenURL(t, uri, "redis://"+rs.Addr+"/0")
		}},
	}
	files := filepath.Join(strandsgolden.Dir(), "file")
	snaps := filepath.Join(strandsgolden.Dir(), "snapshots")
	wantFiles := strandsgolden.ReadTree(t, files)
	wantSnaps := strandsgolden.ReadTree(t, snaps)
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			u := s.url(t)
			out := t.TempDir()
			runCLI(t, bin, "import", "--format", "strands", "--in", files, "--url", u)
			runCLI(t, bin, "export", "--format", "strands", "--out", out, "--url", u)
			strandsgolden.Compare(t, wantFiles, strandsgolden.ReadTree(t, out), func(string) bool { return true })

			snapOut := t.TempDir()
			runCLI(t, bin, "import", "--format", "strands-snapshots", "--in", snaps, "--url", u)
			runCLI(t, bin, "export", "--format", "strands-snapshots", "--out", snapOut, "--url", u)
			require.Equal(t, wantSnaps, strandsgolden.ReadTree(t, snapOut))
		})
	}
}

// goldenURL is a backend URL for a database of the test's own on the
// server at uri, through a Redis cache when cache is set.
func goldenURL(t *testing.T, uri, cache string) string {
	t.Helper()
	u, err := url.Parse(uri)
	require.NoError(t, err)
	u.Path = "/" + uniqueDB(t)
	q := u.Query()
	q.Set("collection", "sessions")
	if cache != "" {
		q.Set("cache", cache)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// buildCLI builds cmd/sessionkit into a directory of t's (go build's
// cache makes it quick after the first time) and returns the executable.
func buildCLI(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "sessionkit")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sessionkit")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/sessionkit:\n%s", out)
	return bin
}

// runCLI runs the CLI with a home of the test's own (no user
// configuration) and no backend variables from the environment.
func runCLI(t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "MONGODB_URI=", "REDIS_URL=", "SESSIONKIT_URL=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "sessionkit %v:\n%s", args, out)
}
