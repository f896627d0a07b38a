package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/session"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sessionkit-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	repo, err := sqlite.Open(ctx, dir, sqlite.Options{MaxSessionBytes: 16 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer repo.Close()

	if err := repo.CreateSession(ctx, &session.Session{ID: "user@example.com", ApplicationName: "support"}); err != nil {
		log.Fatal(err)
	}
	if err := repo.CreateAgent(ctx, "user@example.com", &session.Agent{ID: "assistant"}); err != nil {
		log.Fatal(err)
	}
	for _, text := range []string{"Hello", "Hi! How can I help?"} {
		// The next id is the message count; a concurrent writer that took it
		// first would make this ErrConflict, and the caller would re-read.
		next, err := repo.CountMessages(ctx, "user@example.com", "assistant")
		if err != nil {
			log.Fatal(err)
		}
		msg := &session.Message{ID: next, Message: session.ChatMessage{
			Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(text)}}}
		if err := repo.CreateMessage(ctx, "user@example.com", "assistant", msg); err != nil {
			log.Fatal(err)
		}
	}
	msgs, err := repo.ListMessages(ctx, "user@example.com", "assistant", 0, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		text, _ := m.Message.Content[0].Text()
		fmt.Println(m.ID, text)
	}
	err = repo.CreateMessage(ctx, "user@example.com", "assistant", &session.Message{ID: 0,
		Message: session.ChatMessage{Role: session.RoleUser}})
	fmt.Println(errors.Is(err, session.ErrConflict))
	// Output:
	// 0 Hello
	// 1 Hi! How can I help?
	// true
}

func Example_url() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sessionkit-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// sqlite:///absolute/dir or sqlite://./relative/dir, options as parameters.
	repo, err := session.Open(ctx, "sqlite://"+dir+"?max_session_bytes=1048576&busy_timeout=2s")
	if err != nil {
		log.Fatal(err)
	}
	defer repo.Close()
	_, err = repo.GetSession(ctx, "missing")
	fmt.Println(errors.Is(err, session.ErrNotFound))
	// Output: true
}
