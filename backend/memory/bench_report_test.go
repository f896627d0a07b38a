package memory_test

import (
	"context"
	"testing"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
	"github.com/sessionkit/sessionkit/session"
)

// The benchmarks below feed bench/REPORT.md (scripts/bench-report.sh); the
// append-versus-bare-map floor is BenchmarkAppend_Memory against
// BenchmarkAppend_BareMap in bench_test.go.

func BenchmarkOps(b *testing.B) {
	r := memory.New(memory.Options{})
	defer r.Close()
	benchsuite.Ops(b, "memory", r, nil)
}

func BenchmarkGrowth(b *testing.B) {
	benchsuite.Growth(b, "memory", benchsuite.HistorySizes(), func(b *testing.B, n int) benchsuite.Fixture {
		r := memory.New(memory.Options{})
		b.Cleanup(func() { _ = r.Close() })
		if err := benchsuite.Seed(context.Background(), r, "s", "a", n); err != nil {
			b.Fatal(err)
		}
		return benchsuite.Fixture{Repo: r, SessionID: "s", AgentID: "a", History: n}
	})
}

func BenchmarkTurns(b *testing.B) {
	r := memory.New(memory.Options{})
	defer r.Close()
	benchsuite.Turns(b, "memory", r, nil)
}

func BenchmarkHeap(b *testing.B) {
	benchsuite.HeapPerSessions(b, "memory", 1000, func() session.Repository { return memory.New(memory.Options{}) })
}
