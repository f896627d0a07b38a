package adk

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/adk/v2/session"
	"google.golang.org/genai"

	"github.com/sessionkit/sessionkit/bench/peers/workload"
)

func benchAppend(b *testing.B, svc session.Service) {
	ctx := context.Background()
	r := &rotation{tb: b, svc: svc}
	b.ReportAllocs()
	workload.Rotate(b, workload.AppendsPerSession, func() { r.fresh(workload.History) }, func(i int) {
		if err := svc.AppendEvent(ctx, r.sess, textEvent(ctx, "user", genai.RoleUser, workload.Question)); err != nil {
			b.Fatal(err)
		}
	})
}

func benchToolTurn(b *testing.B, svc session.Service) {
	ctx := context.Background()
	r := &rotation{tb: b, svc: svc}
	b.ReportAllocs()
	workload.Rotate(b, workload.TurnsPerSession, func() { r.fresh(workload.History) }, func(i int) {
		if err := toolTurn(ctx, svc, r.sess, i); err != nil {
			b.Fatal(err)
		}
	})
}

// benchResume loads a session of workload.ResumeHistory events: all of them
// when last is 0, else the newest last.
func benchResume(b *testing.B, svc session.Service, last int) {
	ctx := context.Background()
	seed(b, svc, "resume", workload.ResumeHistory)
	want := last
	if want == 0 {
		want = workload.ResumeHistory
	}
	evs, err := resume(ctx, svc, "resume", last)
	require.NoError(b, err)
	require.Equal(b, want, evs.Len())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		evs, err := resume(ctx, svc, "resume", last)
		if err != nil || evs.Len() != want {
			b.Fatalf("resume: %v", err)
		}
		n := 0
		for range evs.All() {
			n++
		}
		if n != want {
			b.Fatalf("resume: %d events", n)
		}
	}
}

func BenchmarkMemoryAppend(b *testing.B)   { benchAppend(b, openMemory(b)) }
func BenchmarkMemoryResume(b *testing.B)   { benchResume(b, openMemory(b), 0) }
func BenchmarkMemoryToolTurn(b *testing.B) { benchToolTurn(b, openMemory(b)) }
func BenchmarkSQLiteAppend(b *testing.B)   { benchAppend(b, openSQLite(b)) }
func BenchmarkSQLiteToolTurn(b *testing.B) { benchToolTurn(b, openSQLite(b)) }
func BenchmarkSQLiteResume(b *testing.B)   { benchResume(b, openSQLite(b), workload.ResumeTail) }
