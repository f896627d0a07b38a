package benchsuite

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// heapSeq makes HeapPerSessions' session ids unique across iterations.
var heapSeq int

// HeapPerSessions measures the Go heap that n sessions take in the
// repository newRepo returns (a fresh one per iteration): HeapAlloc after a
// full GC, before and after Fill(n), reported as heap-B/session and as
// heap-MB/1000-sessions. Only meaningful for in-process backends (memory);
// run it alone (-benchtime=1x) so that no other benchmark's garbage is
// counted.
//
// The sub-benchmark is BenchmarkX/backend=<backend>/sessions=<n>.
func HeapPerSessions(b *testing.B, backend string, n int, newRepo func() session.Repository) {
	b.Run(fmt.Sprintf("backend=%s/sessions=%d", backend, n), func(b *testing.B) { runHeap(b, n, newRepo) })
}

func runHeap(b *testing.B, n int, newRepo func() session.Repository) {
	ctx := context.Background()
	var total float64
	for b.Loop() {
		b.StopTimer()
		repo := newRepo()
		before := heapAfterGC()
		b.StartTimer()
		heapSeq++
		if err := Fill(ctx, repo, fmt.Sprintf("heap-%d", heapSeq), n); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		after := heapAfterGC()
		runtime.KeepAlive(repo)
		total += float64(int64(after) - int64(before))
		if err := repo.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	perSession := total / float64(b.N) / float64(n)
	b.ReportMetric(perSession, "heap-B/session")
	b.ReportMetric(perSession*1000/(1<<20), "heap-MB/1000-sessions")
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
