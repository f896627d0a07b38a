package benchsuite

import (
	"context"
	"fmt"
	"testing"
)

// Growth measures how the cost of three operations grows with the history
// of one agent: append (CreateMessage), read-agent (GetAgent, what resume
// reads first) and list-last-20 (ListMessages of the newest 20, the window
// resume loads). For each n in sizes, open returns a fixture whose agent
// holds n messages; the sub-benchmarks are
// BenchmarkX/backend=<backend>/history=<n>/<op>, the reads first so that
// they see exactly n messages.
func Growth(b *testing.B, backend string, sizes []int, open func(b *testing.B, n int) Fixture) {
	b.Run("backend="+backend, func(b *testing.B) { runGrowth(b, sizes, open) })
}

func runGrowth(b *testing.B, sizes []int, open func(b *testing.B, n int) Fixture) {
	ctx := context.Background()
	for _, n := range sizes {
		b.Run(fmt.Sprintf("history=%d", n), func(b *testing.B) {
			f := open(b, n)
			if f.History != n {
				b.Fatalf("fixture holds %d messages, want %d", f.History, n)
			}
			b.Run("read-agent", func(b *testing.B) {
				b.ReportAllocs()
				m := Measure(f.Meter)
				for b.Loop() {
					if _, err := f.Repo.GetAgent(ctx, f.SessionID, f.AgentID); err != nil {
						b.Fatal(err)
					}
				}
				m.Report(b)
			})
			b.Run("list-last-20", func(b *testing.B) {
				b.ReportAllocs()
				m := Measure(f.Meter)
				for b.Loop() {
					msgs, err := f.Repo.ListMessages(ctx, f.SessionID, f.AgentID, n-ListLastN, ListLastN)
					if err != nil {
						b.Fatal(err)
					}
					if len(msgs) != ListLastN || msgs[ListLastN-1].ID != n-1 {
						b.Fatalf("list-last-20 of %d: got %d messages", n, len(msgs))
					}
				}
				m.Report(b)
			})
			b.Run("append", func(b *testing.B) {
				b.ReportAllocs()
				next := n
				m := Measure(f.Meter)
				for b.Loop() {
					if err := f.Repo.CreateMessage(ctx, f.SessionID, f.AgentID, Message(next)); err != nil {
						b.Fatal(err)
					}
					next++
				}
				m.Report(b)
			})
		})
	}
}
