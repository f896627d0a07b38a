package sessionkit

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/bench/peers/workload"
	"github.com/sessionkit/sessionkit/session"
)

func benchAppend(b *testing.B, repo session.Repository) {
	ctx := context.Background()
	r := &rotation{tb: b, repo: repo}
	b.ReportAllocs()
	workload.Rotate(b, workload.AppendsPerSession, func() { r.fresh(workload.History) }, func(i int) {
		if _, err := r.agent.Append(ctx, text(session.RoleUser, workload.Question)); err != nil {
			b.Fatal(err)
		}
	})
}

func benchToolTurn(b *testing.B, repo session.Repository) {
	ctx := context.Background()
	r := &rotation{tb: b, repo: repo}
	b.ReportAllocs()
	workload.Rotate(b, workload.TurnsPerSession, func() { r.fresh(workload.History) }, func(i int) {
		if err := toolTurn(ctx, r.agent, i); err != nil {
			b.Fatal(err)
		}
	})
}

// benchResume resumes a session of workload.ResumeHistory messages whose
// agent sees the newest want of them.
func benchResume(b *testing.B, repo session.Repository, want int) {
	ctx := context.Background()
	a := seed(b, repo, "resume", workload.ResumeHistory)
	if drop := workload.ResumeHistory - want; drop > 0 {
		// A sliding window moved past the oldest messages: the stored
		// removed_message_count makes a resume load only the newest.
		require.Equal(b, drop, a.RemoveOldest(drop))
		_, err := a.Sync(ctx)
		require.NoError(b, err)
	}
	msgs, err := resume(ctx, repo, "resume")
	require.NoError(b, err)
	require.Len(b, msgs, want)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		msgs, err := resume(ctx, repo, "resume")
		if err != nil || len(msgs) != want {
			b.Fatalf("resume: %d messages, %v", len(msgs), err)
		}
	}
}

func BenchmarkMemoryAppend(b *testing.B)   { benchAppend(b, openMemory(b)) }
func BenchmarkMemoryResume(b *testing.B)   { benchResume(b, openMemory(b), workload.ResumeHistory) }
func BenchmarkMemoryToolTurn(b *testing.B) { benchToolTurn(b, openMemory(b)) }
func BenchmarkSQLiteAppend(b *testing.B)   { benchAppend(b, openSQLite(b)) }
func BenchmarkSQLiteToolTurn(b *testing.B) { benchToolTurn(b, openSQLite(b)) }
func BenchmarkSQLiteResume(b *testing.B)   { benchResume(b, openSQLite(b), workload.ResumeTail) }
