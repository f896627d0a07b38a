package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

var historySizes = []int{100, 10_000, 100_000}

// withHistory opens a repository whose agent s1/a1 holds n messages,
// inserted in one transaction (the dense-id trigger still checks each).
func withHistory(b *testing.B, n int) *Repository {
	b.Helper()
	r := openTest(b, b.TempDir(), Options{})
	seed(b, r, 0)
	msg, err := encodeMessage(textMessage(0, "a message of an ordinary length, about as long as a chat turn"))
	require.NoError(b, err)
	ctx := context.Background()
	tx, err := r.writer.BeginTx(ctx, nil)
	require.NoError(b, err)
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (session_id, agent_id, message_id, message, size_bytes,
		created_at, updated_at) VALUES ('s1', 'a1', ?, ?, ?, 0, 0)`)
	require.NoError(b, err)
	for i := range n {
		_, err := stmt.ExecContext(ctx, i, msg.message, msg.size())
		require.NoError(b, err)
	}
	require.NoError(b, stmt.Close())
	_, err = tx.ExecContext(ctx, `UPDATE sessions SET size_bytes = size_bytes + ? WHERE id = 's1'`, int64(n)*msg.size())
	require.NoError(b, err)
	require.NoError(b, tx.Commit())
	return r
}

func BenchmarkAppend(b *testing.B) {
	for _, n := range historySizes {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			r := withHistory(b, n)
			ctx := context.Background()
			next := n
			b.ResetTimer()
			for b.Loop() {
				if err := r.CreateMessage(ctx, "s1", "a1", textMessage(next, "appended")); err != nil {
					b.Fatal(err)
				}
				next++
			}
		})
	}
}

func BenchmarkListLast20(b *testing.B) {
	for _, n := range historySizes {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			r := withHistory(b, n)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				msgs, err := r.ListMessages(ctx, "s1", "a1", n-20, 20)
				if err != nil || len(msgs) != 20 || msgs[19].ID != n-1 {
					b.Fatalf("got %d messages, err %v", len(msgs), err)
				}
			}
		})
	}
}

func BenchmarkCountMessages(b *testing.B) {
	r := withHistory(b, 100_000)
	ctx := context.Background()
	for b.Loop() {
		if n, err := r.CountMessages(ctx, "s1", "a1"); err != nil || n != 100_000 {
			b.Fatal(n, err)
		}
	}
}

var _ session.Repository = (*Repository)(nil)

// BenchmarkAppendOneAgentContended measures appends from 64 goroutines to
// one agent: AppendMessage (the store assigns the id inside its write
// transaction) against CreateMessage at the count, retried after each
// conflict — what every writer without AppendMessage does. It reports the
// conflicts per append the retry loop met.
func BenchmarkAppendOneAgentContended(b *testing.B) {
	ctx := context.Background()
	tests := []struct {
		name   string
		append func(r *Repository) (conflicts int, err error)
	}{
		{"AppendMessage", func(r *Repository) (int, error) {
			_, err := r.AppendMessage(ctx, "s1", "a1", textMessage(0, "contended"))
			return 0, err
		}},
		{"CreateMessageRetry", func(r *Repository) (int, error) {
			for conflicts := 0; ; conflicts++ {
				n, err := r.CountMessages(ctx, "s1", "a1")
				if err != nil {
					return conflicts, err
				}
				err = r.CreateMessage(ctx, "s1", "a1", textMessage(n, "contended"))
				if !errors.Is(err, session.ErrConflict) {
					return conflicts, err
				}
			}
		}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			r := openTest(b, b.TempDir(), Options{})
			seed(b, r, 0)
			var conflicts atomic.Int64
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c, err := tt.append(r)
					if err != nil {
						b.Error(err)
						return
					}
					conflicts.Add(int64(c))
				}
			})
			b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
		})
	}
}
