package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
)

// conformanceSizeLimit is the per-session byte budget the size cases use.
const conformanceSizeLimit = 64 << 10

// conformanceSnapshotLimit is the snapshot size limit; it is under the
// session budget, which snapshots count towards. The 20 MiB case runs
// unlimited in TestSnapshot_Large.
const conformanceSnapshotLimit = 32 << 10

func TestConformance(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T, dir string) *sqlite.Repository {
		t.Helper()
		r, err := sqlite.Open(context.Background(), dir, sqlite.Options{MaxSessionBytes: conformanceSizeLimit, MaxSnapshotBytes: conformanceSnapshotLimit})
		require.NoError(t, err)
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	conformance.Run(t, conformance.Harness{
		NewRepository: func(t *testing.T) session.Repository { return open(t, t.TempDir()) },
		// A peer is a second Repository on the same file: another process,
		// as far as SQLite's locking is concerned.
		NewPeer: func(t *testing.T, r session.Repository) session.Repository {
			return open(t, filepathDir(r))
		},
		NewRepositoryAt: func(t *testing.T, now func() time.Time) session.Repository {
			r, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{MaxSessionBytes: conformanceSizeLimit,
				MaxSnapshotBytes: conformanceSnapshotLimit, Now: now})
			require.NoError(t, err)
			t.Cleanup(func() { _ = r.Close() })
			return r
		},
		Reopen: func(t *testing.T, r session.Repository) session.Repository {
			dir := filepathDir(r)
			require.NoError(t, r.Close())
			return open(t, dir)
		},
		Capabilities: conformance.Capabilities{SizeLimit: conformanceSizeLimit, TimePrecision: time.Microsecond,
			SnapshotLimit: conformanceSnapshotLimit},
	})
}

func filepathDir(r session.Repository) string {
	p := r.(*sqlite.Repository).Path()
	return filepath.Dir(p)
}
