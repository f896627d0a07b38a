// Command readme is the library example printed in the README, kept here
// so that it is compiled and run by the tests; main_test.go checks that the
// README shows this file verbatim.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"

	_ "github.com/sessionkit/sessionkit/backend/memory"     // registers memory://
	_ "github.com/sessionkit/sessionkit/backend/mongo"      // registers mongodb:// and mongodb+srv://
	_ "github.com/sessionkit/sessionkit/backend/rediscache" // registers the ?cache=redis://… option
	_ "github.com/sessionkit/sessionkit/backend/sqlite"     // registers sqlite://
)

func main() {
	ctx := context.Background()
	// One URL picks the backend: memory://, sqlite:///var/lib/sessionkit, mongodb://host/db?collection=sessions,
	// each optionally with &cache=redis%3A%2F%2Fhost%3A6379%2F0 (a ? instead of & when it is the first option).
	url := os.Getenv("SESSIONKIT_URL")
	if url == "" {
		url = "memory://"
	}
	repo, err := session.Open(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer repo.Close()

	// Per request: open the session (created on first use), initialize the agent (resumed if it exists).
	m, err := manager.New(ctx, repo, "user-42", manager.Options{ApplicationName: "support-bot"})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	agent, err := m.Initialize(ctx, "support-agent", manager.AgentOptions{Config: session.AgentConfig{Model: "claude"}})
	if err != nil {
		log.Fatal(err)
	}

	agent.BeginInvocation(session.Usage{}) // the agent's accumulated usage before this invocation
	for _, msg := range []session.ChatMessage{
		{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("Where is my order?")}},
		// … model turns and tool calls; agent.RedactLatest(ctx, redaction) when a guardrail intervenes …
		{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock("It ships today.")}},
	} {
		if _, err := agent.Append(ctx, msg); err != nil {
			log.Fatal(err)
		}
	}
	// Syncs the agent's changed state and stores the metrics on this invocation's last assistant message —
	// only when AccumulatedMetrics.LatencyMs > 0 (a model was called) and the invocation appended one.
	metrics := session.EventLoopMetrics{
		AccumulatedUsage:   session.Usage{InputTokens: 12, OutputTokens: 5, TotalTokens: 17},
		AccumulatedMetrics: session.LatencyMetrics{LatencyMs: 840},
	}
	if err := agent.EndInvocation(ctx, &metrics); err != nil {
		log.Fatal(err)
	}
	if err := m.UpdateMetadata(ctx, map[string]any{"priority": "high"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(agent.Messages()), "messages in session user-42")
}
