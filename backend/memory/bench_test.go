package memory_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

// benchMessage is a typical short chat turn: one text block.
func benchMessage(id int) *session.Message {
	return &session.Message{ID: id, Message: session.ChatMessage{
		Role: session.RoleUser, Content: []session.ContentBlock{{"text": "What is the weather in Paris today?"}},
	}}
}

// BenchmarkAppend_Memory appends to one agent's log through the full
// Repository path: validation, normalization (a deep copy) and the dense-id
// check. Compare with BenchmarkAppend_BareMap in the same run.
func BenchmarkAppend_Memory(b *testing.B) {
	ctx := context.Background()
	r := memory.New(memory.Options{})
	defer r.Close()
	if err := r.CreateSession(ctx, &session.Session{ID: "s"}); err != nil {
		b.Fatal(err)
	}
	if err := r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := r.CreateMessage(ctx, "s", "a", benchMessage(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAppend_BareMap is the floor: a mutex-guarded map of slices with no
// validation and no copy.
func BenchmarkAppend_BareMap(b *testing.B) {
	var mu sync.Mutex
	logs := map[string][]*session.Message{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m := benchMessage(i)
		mu.Lock()
		logs["s/a"] = append(logs["s/a"], m)
		mu.Unlock()
		i++
	}
}

// BenchmarkListMessages reads a 40-message log (deep copies out).
func BenchmarkListMessages(b *testing.B) {
	ctx := context.Background()
	r := memory.New(memory.Options{})
	defer r.Close()
	_ = r.CreateSession(ctx, &session.Session{ID: "s"})
	_ = r.CreateAgent(ctx, "s", &session.Agent{ID: "a"})
	for i := range 40 {
		if err := r.CreateMessage(ctx, "s", "a", benchMessage(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ListMessages(ctx, "s", "a", 0, 0); err != nil {
			b.Fatal(err)
		}
	}
}
