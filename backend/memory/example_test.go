package memory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

func Example() {
	ctx := context.Background()
	repo := memory.New(memory.Options{})
	defer repo.Close()

	_ = repo.CreateSession(ctx, &session.Session{ID: "user@example.com", ApplicationName: "support"})
	_ = repo.CreateAgent(ctx, "user@example.com", &session.Agent{ID: "default"})

	// Message ids are dense: the next id is the current count.
	for _, text := range []string{"hello", "hi, how can I help?"} {
		n, _ := repo.CountMessages(ctx, "user@example.com", "default")
		role := session.RoleUser
		if n%2 == 1 {
			role = session.RoleAssistant
		}
		err := repo.CreateMessage(ctx, "user@example.com", "default", &session.Message{
			ID:      n,
			Message: session.ChatMessage{Role: role, Content: []session.ContentBlock{session.TextBlock(text)}},
		})
		if err != nil {
			fmt.Println(err)
		}
	}

	// Writing an id that is taken is a conflict, not an overwrite.
	err := repo.CreateMessage(ctx, "user@example.com", "default", &session.Message{
		ID:      0,
		Message: session.ChatMessage{Role: session.RoleUser},
	})
	fmt.Println(errors.Is(err, session.ErrConflict))

	msgs, _ := repo.ListMessages(ctx, "user@example.com", "default", 0, 0)
	for _, m := range msgs {
		text, _ := m.Message.Content[0].Text()
		fmt.Println(m.ID, m.Message.Role, text)
	}
	// Output:
	// true
	// 0 user hello
	// 1 assistant hi, how can I help?
}
