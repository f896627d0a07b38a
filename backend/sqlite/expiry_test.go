package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// settable is a clock the test moves.
type settable struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settable) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settable) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ownedTables are every table holding rows of a session.
var ownedTables = []string{"sessions", "session_metadata", "agents", "messages", "feedback", "guardrail_events", "multi_agents", "snapshots"}

// An expired session disappears from the file: the background sweeper (on
// its own goroutine, every 10 ms here, on the test's clock) deletes its row
// and, by cascade, every row it owned, and leaves the other session alone;
// its progress shows in Stats (/metrics).
func TestExpiry_SweeperRemovesExpiredSessionFromEveryTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &settable{t: fixedNow}
	r := openTest(t, t.TempDir(), Options{Now: clock.now, Sweep: session.SweeperOptions{Interval: 10 * time.Millisecond}})
	for _, id := range []string{"expiring", "kept"} {
		var at time.Time
		if id == "expiring" {
			at = fixedNow.Add(time.Hour)
		}
		require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id, ExpiresAt: at, Metadata: map[string]any{"k": "v"}}))
		require.NoError(t, r.CreateAgent(ctx, id, &session.Agent{ID: "a"}))
		require.NoError(t, r.CreateMessage(ctx, id, "a", textMessage(0, "hi")))
		_, err := r.AddFeedback(ctx, id, &session.Feedback{Comment: "ok"})
		require.NoError(t, err)
		require.NoError(t, r.RecordGuardrailEvent(ctx, id, "a", 0, &session.GuardrailEvent{Action: "BLOCKED"}))
		require.NoError(t, r.CreateMultiAgent(ctx, id, &session.MultiAgent{ID: "g", State: map[string]any{}}))
		_, err = r.PutSnapshot(ctx, id, "k", []byte("x"))
		require.NoError(t, err)
	}
	for _, table := range ownedTables {
		require.Equal(t, 2, rowCount(t, r, table), table)
	}

	clock.add(time.Hour)
	require.Eventually(t, func() bool { return r.Stats()["expiry_sessions_swept_total"] == 1 }, 10*time.Second, 5*time.Millisecond)
	for _, table := range ownedTables {
		assert.Equal(t, 1, rowCount(t, r, table), "%s keeps only the live session's rows", table)
	}
	_, err := r.GetSession(ctx, "kept")
	require.NoError(t, err)
	assert.Positive(t, r.Stats()["expiry_sweeps_total"])
	assert.Zero(t, r.Stats()["expiry_sweep_errors_total"])

	// DeleteSession removes the same set, in one transaction.
	require.NoError(t, r.DeleteSession(ctx, "kept"))
	for _, table := range ownedTables {
		assert.Zero(t, rowCount(t, r, table), "%s after DeleteSession", table)
	}
}

// Close stops the sweeper; a repository with the sweeper disabled runs
// none and reports no sweeper counters. (TestMain's goleak check fails the
// package if a sweeper outlives Close.)
func TestExpiry_SweeperStopsAtCloseAndCanBeDisabled(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{Sweep: session.SweeperOptions{Interval: -1}})
	_, ok := r.Stats()["expiry_sweeps_total"]
	assert.False(t, ok)
	r2, err := Open(context.Background(), t.TempDir(), Options{Sweep: session.SweeperOptions{Interval: time.Millisecond}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r2.Stats()["expiry_sweeps_total"] > 0 }, 10*time.Second, time.Millisecond)
	require.NoError(t, r2.Close())
	require.NoError(t, r2.Close(), "idempotent")
}

// A file at schema version 4 gains the expiry column: its sessions never
// expire until given an expiry.
func TestMigrate_Version4FileGainsExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := fileAtVersion(t, 4)

	clock := &settable{t: fixedNow}
	r := openTest(t, dir, Options{Now: clock.now})
	got, err := r.GetSession(ctx, "s1")
	require.NoError(t, err)
	assert.True(t, got.ExpiresAt.IsZero())
	require.NoError(t, r.SetSessionExpiry(ctx, "s1", fixedNow.Add(time.Minute)))
	clock.add(time.Minute)
	n, err := r.SweepExpired(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Zero(t, rowCount(t, r, "sessions"))
}

// BenchmarkSweepExpired measures the sweep of 100 expired sessions (one
// write transaction, cascading to an agent and a message each).
func BenchmarkSweepExpired(b *testing.B) {
	ctx := context.Background()
	clock := &settable{t: fixedNow}
	r := openTest(b, b.TempDir(), Options{Now: clock.now, Sweep: session.SweeperOptions{Interval: -1}})
	for b.Loop() {
		b.StopTimer()
		for i := range 100 {
			id := fmt.Sprintf("s%d", i)
			require.NoError(b, r.CreateSession(ctx, &session.Session{ID: id, ExpiresAt: clock.now().Add(time.Minute)}))
			require.NoError(b, r.CreateAgent(ctx, id, &session.Agent{ID: "a"}))
			require.NoError(b, r.CreateMessage(ctx, id, "a", textMessage(0, "hi")))
		}
		clock.add(time.Minute)
		b.StartTimer()
		n, err := r.SweepExpired(ctx, 100)
		require.NoError(b, err)
		require.Equal(b, 100, n)
	}
}

// BenchmarkLiveCheck is the cost the expiry check adds to every call
// under a session (one more primary-key lookup in the call's
// transaction): "read" runs a read transaction with one lookup, as the
// lightest call does, "readLive" the same plus the check.
func BenchmarkLiveCheck(b *testing.B) {
	ctx := context.Background()
	r := openTest(b, b.TempDir(), Options{Sweep: session.SweeperOptions{Interval: -1}})
	require.NoError(b, r.CreateSession(ctx, &session.Session{ID: "s"}))
	lookup := func(tx *sql.Tx) error {
		var n int64
		return tx.QueryRowContext(ctx, `SELECT size_bytes FROM sessions WHERE id = ?`, "s").Scan(&n)
	}
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			require.NoError(b, r.read(ctx, "bench", lookup))
		}
	})
	b.Run("readLive", func(b *testing.B) {
		for b.Loop() {
			require.NoError(b, r.readLive(ctx, "s", "bench", lookup))
		}
	})
}
