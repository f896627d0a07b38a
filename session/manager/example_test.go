package manager_test

import (
	"context"
	"fmt"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

func Example() {
	ctx := context.Background()
	repo := memory.New(memory.Options{})
	audit := func(ctx context.Context, ev *manager.Event, next manager.Next) error {
		err := next(ctx, ev)
		if err == nil {
			fmt.Printf("hook: %s %s\n", ev.Kind, ev.Operation)
		}
		return err
	}
	m, err := manager.New(ctx, repo, "user@example.com", manager.Options{ApplicationName: "demo", Hooks: []manager.Hook{audit}})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	agent, err := m.Initialize(ctx, "assistant", manager.AgentOptions{Config: session.AgentConfig{Model: "claude"}})
	if err != nil {
		panic(err)
	}
	agent.BeginInvocation(session.Usage{})
	for _, c := range []session.ChatMessage{
		{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("Hi!")}},
		{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock("Hello.")}},
	} {
		if _, err := agent.Append(ctx, c); err != nil {
			panic(err)
		}
	}
	usage := session.Usage{InputTokens: 10, OutputTokens: 3, TotalTokens: 13}
	if err := agent.EndInvocation(ctx, &session.EventLoopMetrics{AccumulatedUsage: usage, AccumulatedMetrics: session.LatencyMetrics{LatencyMs: 120}}); err != nil {
		panic(err)
	}
	tool := m.MetadataTool(manager.MetadataToolOptions{})
	fmt.Println(tool.Invoke(ctx, map[string]any{"action": "set", "metadata": `{"topic": "greeting"}`}))

	// A new manager — another request — resumes the conversation.
	m2, err := manager.New(ctx, repo, "user@example.com", manager.Options{})
	if err != nil {
		panic(err)
	}
	again, err := m2.Initialize(ctx, "assistant", manager.AgentOptions{})
	if err != nil {
		panic(err)
	}
	for _, c := range again.Messages() {
		text, _ := c.Content[0].Text()
		fmt.Printf("%s: %s\n", c.Role, text)
	}
	last, _ := repo.GetMessage(ctx, "user@example.com", "assistant", 1)
	fmt.Println("invocation tokens:", last.EventLoopMetrics.InvocationUsage.TotalTokens)
	// Output:
	// hook: message append
	// hook: message append
	// hook: metadata update
	// Successfully updated metadata fields: ['topic']
	// user: Hi!
	// assistant: Hello.
	// invocation tokens: 13
}
