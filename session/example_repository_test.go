package session_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

// The Repository contract in use, on the in-memory reference backend: every
// backend behaves the same (the conformance package checks it).
func Example() {
	ctx := context.Background()
	var repo session.Repository = memory.New(memory.Options{})
	defer repo.Close()

	if err := repo.CreateSession(ctx, &session.Session{ID: "chat-1", ApplicationName: "support-bot"}); err != nil {
		panic(err)
	}
	if err := repo.CreateAgent(ctx, "chat-1", &session.Agent{ID: "assistant"}); err != nil {
		panic(err)
	}
	// Message ids are dense: creating id N succeeds only when the agent
	// holds exactly N messages, so two writers can never both write id 0.
	first := &session.Message{ID: 0, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("Hi")}}}
	fmt.Println(repo.CreateMessage(ctx, "chat-1", "assistant", first))
	err := repo.CreateMessage(ctx, "chat-1", "assistant", first)
	fmt.Println(errors.Is(err, session.ErrConflict))

	// Metadata updates touch only the named keys.
	_ = repo.UpdateMetadata(ctx, "chat-1", map[string]any{"priority": "high", "topic": "billing"})
	_ = repo.UpdateMetadata(ctx, "chat-1", map[string]any{"priority": "low"})
	md, _ := repo.GetMetadata(ctx, "chat-1")
	fmt.Println(md["priority"], md["topic"])

	// Bad input is a typed error naming the field, and writes nothing.
	err = repo.UpdateMetadata(ctx, "chat-1", map[string]any{"$where": 1})
	fmt.Println(errors.Is(err, session.ErrInvalidArgument))

	msgs, _ := repo.ListMessages(ctx, "chat-1", "assistant", 0, 0)
	fmt.Println(len(msgs), msgs[0].Message.Content[0]["text"])
	_, err = repo.GetAgent(ctx, "chat-1", "nobody")
	fmt.Println(errors.Is(err, session.ErrNotFound))
	// Output:
	// <nil>
	// true
	// low billing
	// true
	// 1 Hi
	// true
}
