package scripted_test

import (
	"context"
	"fmt"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session/manager"
	"github.com/sessionkit/sessionkit/session/manager/scripted"
)

func Example() {
	ctx := context.Background()
	m, err := manager.New(ctx, memory.New(memory.Options{}), "demo", manager.Options{})
	if err != nil {
		panic(err)
	}
	a, err := m.Initialize(ctx, "assistant", manager.AgentOptions{})
	if err != nil {
		panic(err)
	}
	clockTool := func(ctx context.Context, in map[string]any) (string, error) { return "10:00", nil }
	agent := scripted.New(a, scripted.Options{Seed: 1, Tools: map[string]scripted.Tool{"clock": clockTool}})
	answer, err := agent.Run(ctx, scripted.Turn{User: "What time is it?", ToolName: "clock", Answer: "It is 10:00."})
	if err != nil {
		panic(err)
	}
	fmt.Println(answer, len(a.Messages()), "messages,", agent.Metrics().CycleMetrics.CycleCount, "cycles")
	// Output: It is 10:00. 4 messages, 2 cycles
}
