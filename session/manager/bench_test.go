package manager_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// The benchmarks below measure the manager's own cost over a real
// repository — an append, a resume and a Strands tool turn — so that a
// change to the validate-once, copy-once path shows in ns/op and allocs/op
// (issue 19). The peer comparison lives in bench/.

// benchBackends opens a fresh repository of each kind.
var benchBackends = []struct {
	name string
	open func(b *testing.B) session.Repository
}{
	{"memory", func(b *testing.B) session.Repository {
		r := memory.New(memory.Options{})
		b.Cleanup(func() { _ = r.Close() })
		return r
	}},
	{"sqlite", func(b *testing.B) session.Repository {
		r, err := sqlite.Open(context.Background(), b.TempDir(), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = r.Close() })
		return r
	}},
}

// benchAgent opens session "s" on repo with agent "a" holding history
// messages (benchsuite.Message).
func benchAgent(b *testing.B, repo session.Repository, history int) (*manager.Manager, *manager.AgentSession) {
	ctx := context.Background()
	m, err := manager.New(ctx, repo, "s", manager.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range history {
		if _, err := a.Append(ctx, benchsuite.Message(i).Message); err != nil {
			b.Fatal(err)
		}
	}
	return m, a
}

// BenchmarkManagerAppend appends one chat message through the manager to
// an agent holding 100 messages.
func BenchmarkManagerAppend(b *testing.B) {
	for _, be := range benchBackends {
		b.Run("backend="+be.name+"/history=100", func(b *testing.B) {
			_, a := benchAgent(b, be.open(b), 100)
			ctx := context.Background()
			msg := benchsuite.Message(0).Message
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Append(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkManagerResume resumes an agent of 200 messages (no window):
// manager.New, Initialize and Messages, what a process restart costs.
func BenchmarkManagerResume(b *testing.B) {
	for _, be := range benchBackends {
		b.Run("backend="+be.name+"/messages=200", func(b *testing.B) {
			repo := be.open(b)
			m, _ := benchAgent(b, repo, 200)
			_ = m.Close()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				m, err := manager.New(ctx, repo, "s", manager.Options{})
				if err != nil {
					b.Fatal(err)
				}
				a, err := m.Initialize(ctx, "a", manager.AgentOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if n := len(a.Messages()); n != 200 {
					b.Fatalf("resumed %d messages, want 200", n)
				}
				_ = m.Close()
			}
		})
	}
}

// BenchmarkManagerToolTurn runs the four messages of a Strands tool turn
// (prompt, toolUse, toolResult, answer) plus a state change and its sync,
// directly on the handle (no scripted loop).
func BenchmarkManagerToolTurn(b *testing.B) {
	for _, be := range benchBackends {
		b.Run("backend="+be.name, func(b *testing.B) {
			_, a := benchAgent(b, be.open(b), 0)
			ctx := context.Background()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				id := fmt.Sprintf("tool-%d", i)
				turn := []session.ChatMessage{
					{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("What does the report say about growth?")}},
					{Role: session.RoleAssistant, Content: []session.ContentBlock{session.ToolUseBlock(id, "search", map[string]any{"query": "growth", "page": int64(i % 10)})}},
					{Role: session.RoleUser, Content: []session.ContentBlock{session.ToolResultBlock(id, "success", session.TextBlock(benchsuite.Text[:200]))}},
					{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock(benchsuite.Text)}},
				}
				for _, c := range turn {
					if _, err := a.Append(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
				if err := a.SetState("turns", int64(i+1)); err != nil {
					b.Fatal(err)
				}
				if _, err := a.Sync(ctx); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
