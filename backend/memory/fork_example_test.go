package memory_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

// Fork one agent's history up to message 1 into a new session, then list
// the forks of the source. The README's "Fork with lineage" section shows
// this code.
func ExampleRepository_ForkSession() {
	ctx := context.Background()
	var repo session.Repository = memory.New(memory.Options{})
	defer repo.Close()
	_ = repo.CreateSession(ctx, &session.Session{ID: "user-42", ApplicationName: "support-bot"})
	_ = repo.CreateAgent(ctx, "user-42", &session.Agent{ID: "default"})
	for i, text := range []string{"Where is my order?", "It ships today.", "Can I change the address?"} {
		_ = repo.CreateMessage(ctx, "user-42", "default", &session.Message{ID: i,
			Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(text)}}})
	}

	forker, err := session.ForkerOf(repo) // every backend in this module, and the cache over one
	if err != nil {
		log.Fatal(err)
	}
	upTo := 1
	fork, err := forker.ForkSession(ctx, session.ForkRequest{
		SourceID: "user-42", ID: "user-42-retry", AgentID: "default", MessageID: &upTo,
	})
	if err != nil {
		log.Fatal(err) // ErrNotFound, ErrAlreadyExists or ErrInvalidArgument naming the field; nothing written
	}
	o := fork.ForkedFrom
	fmt.Println(fork.ID, fork.ApplicationName, "forked from", o.SessionID, o.AgentID, *o.MessageID)
	n, _ := repo.CountMessages(ctx, "user-42-retry", "default")
	fmt.Println(n, "messages copied")

	page, _ := repo.ListSessions(ctx, session.SessionQuery{ForkedFrom: "user-42"}) // the forks of user-42
	for _, s := range page.Sessions {
		fmt.Println("fork of user-42:", s.ID)
	}
	// Output:
	// user-42-retry support-bot forked from user-42 default 1
	// 2 messages copied
	// fork of user-42: user-42-retry
}

// TestREADME_ForkSnippetIsTheExample: every line of the README's fork
// snippet is a line of ExampleRepository_ForkSession (indentation aside),
// so the snippet compiles and runs as the example does.
func TestREADME_ForkSnippetIsTheExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	example, err := os.ReadFile("fork_example_test.go")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(readme), "## Fork with lineage")
	require.True(t, ok, "README has no fork section")
	_, after, ok = strings.Cut(after, "```go\n")
	require.True(t, ok, "the fork section has no Go snippet")
	snippet, _, _ := strings.Cut(after, "```")
	lines := map[string]bool{}
	for _, l := range strings.Split(string(example), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, l := range strings.Split(snippet, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		assert.True(t, lines[l], "README line not in the example: %q", l)
	}
}
