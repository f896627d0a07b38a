package hooks

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// BenchmarkStoragePath measures a metadata update plus a feedback add
// through the manager, without hooks and with all three hooks pointed at an
// endpoint that is down, over the memory backend (storage of a few
// microseconds, where the hooks' own enqueue cost shows) and over SQLite (a
// durable write, as in production). The target is a ratio of at most 1.1
// between the two: notification must not slow storage.
func BenchmarkStoragePath(b *testing.B) {
	down := fmt.Sprintf("http://127.0.0.1:%d", testservice.FreePort(b)) // nothing listens
	delivery := DeliveryOptions{Logger: slog.New(slog.DiscardHandler)}
	cfg := staticConfig("us-east-1")

	for _, backend := range []string{"memory", "sqlite"} {
		for _, withHooks := range []bool{false, true} {
			b.Run(fmt.Sprintf("backend=%s/hooks=%v", backend, withHooks), func(b *testing.B) {
				benchStoragePath(b, backend, withHooks, down, delivery, cfg)
			})
		}
	}
}

func benchStoragePath(b *testing.B, backend string, withHooks bool, down string, delivery DeliveryOptions, cfg aws.Config) {
	var hooks []manager.Hook
	if withHooks {
		fb, err := NewFeedbackSNS(sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(down) }), FeedbackSNSOptions{
			Good: FeedbackRoute{TopicARN: "arn:aws:sns:us-east-1:000000000000:good"}, Bad: FeedbackRoute{TopicARN: "arn:aws:sns:us-east-1:000000000000:bad"},
			Neutral: FeedbackRoute{TopicARN: "arn:aws:sns:us-east-1:000000000000:neutral"}, Delivery: delivery,
		})
		require.NoError(b, err)
		md, err := NewMetadataSQS(sqsClient(down), MetadataSQSOptions{QueueURL: down + "/000000000000/q", Delivery: delivery})
		require.NoError(b, err)
		ws, err := NewAPIGatewayClient(down, cfg)
		require.NoError(b, err)
		wh, err := NewMetadataWebSocket(ws, MetadataWebSocketOptions{Delivery: delivery})
		require.NoError(b, err)
		hooks = []manager.Hook{fb.Hook, md.Hook, wh.Hook}
		b.Cleanup(func() {
			ctx, cancel := contextWithTimeout(1)
			defer cancel()
			_ = fb.Close(ctx)
			_ = md.Close(ctx)
			_ = wh.Close(ctx)
		})
	}
	var repo session.Repository = memory.New(memory.Options{})
	if backend == "sqlite" {
		var err error
		repo, err = sqlite.Open(b.Context(), b.TempDir(), sqlite.Options{})
		require.NoError(b, err)
	}
	b.Cleanup(func() { _ = repo.Close() })
	m, err := manager.New(b.Context(), repo, "bench", manager.Options{Hooks: hooks})
	require.NoError(b, err)
	require.NoError(b, m.UpdateMetadata(b.Context(), map[string]any{"connection_id": "c1"}))
	update := map[string]any{"status": "open", "step": 1, "tags": []any{"a", "b"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := m.UpdateMetadata(b.Context(), update); err != nil {
			b.Fatal(err)
		}
		if i%64 == 0 { // feedback is rarer than metadata writes
			if _, err := m.AddFeedback(b.Context(), &session.Feedback{Rating: session.RatingUp, Comment: "ok"}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkHookChainFixedStorage is BenchmarkStoragePath with a Next that
// does a fixed amount of work (hashing 16 KiB, a few microseconds) standing
// in for a storage round trip, so machine noise in the memory backend does
// not hide the hooks' own cost.
func BenchmarkHookChainFixedStorage(b *testing.B) {
	down := fmt.Sprintf("http://127.0.0.1:%d", testservice.FreePort(b))
	delivery := DeliveryOptions{Logger: slog.New(slog.DiscardHandler)}
	page := make([]byte, 16<<10)
	storage := func(_ context.Context, ev *manager.Event) error {
		sum := sha256.Sum256(page)
		ev.AgentID = string(sum[:1]) // keep the work observable
		return nil
	}
	stored := map[string]any{"connection_id": "c1"}
	for _, withHooks := range []bool{false, true} {
		b.Run(fmt.Sprintf("hooks=%v", withHooks), func(b *testing.B) {
			next := manager.Next(storage)
			if withHooks {
				md, err := NewMetadataSQS(sqsClient(down), MetadataSQSOptions{QueueURL: down + "/000000000000/q", Delivery: delivery})
				require.NoError(b, err)
				ws, err := NewAPIGatewayClient(down, staticConfig("us-east-1"))
				require.NoError(b, err)
				wh, err := NewMetadataWebSocket(ws, MetadataWebSocketOptions{Delivery: delivery})
				require.NoError(b, err)
				b.Cleanup(func() {
					ctx, cancel := contextWithTimeout(1)
					defer cancel()
					_ = md.Close(ctx)
					_ = wh.Close(ctx)
				})
				inner := func(ctx context.Context, ev *manager.Event) error { return wh.Hook(ctx, ev, storage) }
				next = func(ctx context.Context, ev *manager.Event) error { return md.Hook(ctx, ev, inner) }
			}
			load := func(context.Context) (map[string]any, error) { return stored, nil }
			b.ReportAllocs()
			for b.Loop() {
				ev := &manager.Event{Kind: manager.KindMetadata, Operation: manager.OpUpdate, SessionID: "bench",
					Metadata: map[string]any{"status": "open", "step": int64(1)}, LoadMetadata: load}
				if err := next(b.Context(), ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
