package trpc

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"trpc.group/trpc-go/trpc-agent-go/model"

	"github.com/sessionkit/sessionkit/bench/peers/workload"
)

func BenchmarkMemoryAppend(b *testing.B) {
	ctx := context.Background()
	svc := openMemory(b)
	r := &rotation{tb: b, svc: svc}
	b.ReportAllocs()
	workload.Rotate(b, workload.AppendsPerSession, func() { r.fresh(workload.History) }, func(i int) {
		if err := svc.AppendEvent(ctx, r.sess, messageEvent("user", model.NewUserMessage(workload.Question))); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkMemoryToolTurn(b *testing.B) {
	ctx := context.Background()
	svc := openMemory(b)
	r := &rotation{tb: b, svc: svc}
	b.ReportAllocs()
	workload.Rotate(b, workload.TurnsPerSession, func() { r.fresh(workload.History) }, func(i int) {
		if err := toolTurn(ctx, svc, r.sess, i); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkMemoryResume(b *testing.B) {
	ctx := context.Background()
	svc := openMemory(b)
	seed(b, svc, "resume", workload.ResumeHistory)
	sess, err := svc.GetSession(ctx, key("resume"))
	require.NoError(b, err)
	require.Len(b, sess.Events, workload.ResumeHistory)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sess, err := svc.GetSession(ctx, key("resume"))
		if err != nil || sess == nil || len(sess.Events) != workload.ResumeHistory {
			b.Fatalf("resume: %v", err)
		}
	}
}
