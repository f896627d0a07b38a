package sqlite

import (
	"context"
	"testing"

	"github.com/sessionkit/sessionkit/internal/benchsuite"
)

// The benchmarks below feed bench/REPORT.md (scripts/bench-report.sh). They
// run the shared workloads of internal/benchsuite, so SQLite is measured
// doing exactly what the other backends do.

func BenchmarkOps(b *testing.B) {
	r := openTest(b, b.TempDir(), Options{})
	benchsuite.Ops(b, "sqlite", r, nil)
}

// BenchmarkGrowth builds each history in one transaction (as withHistory
// does) with the shared benchmark messages, so that a 10,000-message
// history costs a fraction of a second to set up.
func BenchmarkGrowth(b *testing.B) {
	benchsuite.Growth(b, "sqlite", benchsuite.HistorySizes(), func(b *testing.B, n int) benchsuite.Fixture {
		return benchsuite.Fixture{Repo: reportHistory(b, n), SessionID: "s1", AgentID: "a1", History: n}
	})
}

func BenchmarkTurns(b *testing.B) {
	r := openTest(b, b.TempDir(), Options{})
	benchsuite.Turns(b, "sqlite", r, nil)
}

// reportHistory opens a repository whose agent s1/a1 holds
// benchsuite.Message(0) ... benchsuite.Message(n-1).
func reportHistory(b *testing.B, n int) *Repository {
	b.Helper()
	r := openTest(b, b.TempDir(), Options{})
	ctx := context.Background()
	if err := benchsuite.Seed(ctx, r, "s1", "a1", 0); err != nil {
		b.Fatal(err)
	}
	var encoded [2]encodedMessage
	for i := range encoded {
		m, err := encodeMessage(benchsuite.Message(i))
		if err != nil {
			b.Fatal(err)
		}
		encoded[i] = m
	}
	tx, err := r.writer.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (session_id, agent_id, message_id, message, size_bytes,
		created_at, updated_at) VALUES ('s1', 'a1', ?, ?, ?, 0, 0)`)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for i := range n {
		m := encoded[i%2]
		if _, err := stmt.ExecContext(ctx, i, m.message, m.size()); err != nil {
			b.Fatal(err)
		}
		size += m.size()
	}
	if err := stmt.Close(); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET size_bytes = size_bytes + ? WHERE id = 's1'`, size); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return r
}
