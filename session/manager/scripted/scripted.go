// Package scripted is a deterministic agent loop with no model and no
// network, for tests, examples and demos: each Turn runs the Strands event
// loop shape — user prompt, assistant toolUse, user toolResult, assistant
// answer — through a manager.AgentSession, with seeded token usage,
// latencies, cycle and tool metrics, so the whole session lifecycle
// (append, sync, metrics, guardrail redaction) runs end to end.
package scripted

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// Tool runs a tool call and returns its text result; an error becomes an
// error toolResult.
type Tool func(ctx context.Context, input map[string]any) (string, error)

// Turn is one scripted invocation.
type Turn struct {
	// User is the user's prompt.
	User string
	// ToolName, when set, makes the assistant call that tool with ToolInput
	// before answering.
	ToolName  string
	ToolInput map[string]any
	// Answer is the assistant's final answer.
	Answer string
	// Guardrail, when set, makes a guardrail block the user prompt: the
	// prompt is redacted to Guardrail.Replacement and the assistant answers
	// Guardrail.Answer without calling tools.
	Guardrail *Guardrail
	// State is set on the agent's state during the turn.
	State map[string]any
}

// Guardrail describes a guardrail intervention on a turn's input.
type Guardrail struct {
	Replacement string
	Answer      string
	Trace       map[string]any
}

// Options configures an Agent.
type Options struct {
	// Seed makes usage and timings reproducible.
	Seed uint64
	// Tools are the tools the script may call, by name.
	Tools map[string]Tool
}

// Agent is a scripted agent bound to one AgentSession. It is safe for
// concurrent use, though turns run one at a time.
type Agent struct {
	sess  *manager.AgentSession
	tools map[string]Tool

	mu      sync.Mutex
	rnd     *rand.Rand
	metrics session.EventLoopMetrics
	toolSeq int
}

// New returns a scripted agent over sess.
func New(sess *manager.AgentSession, opts Options) *Agent {
	return &Agent{
		sess:    sess,
		tools:   opts.Tools,
		rnd:     rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)),
		metrics: session.EventLoopMetrics{ToolUsage: map[string]session.ToolUsage{}},
	}
}

// Metrics returns the agent's accumulated event-loop metrics.
func (a *Agent) Metrics() session.EventLoopMetrics {
	a.mu.Lock()
	defer a.mu.Unlock()
	return cloneMetrics(a.metrics)
}

// Run runs one turn and returns the assistant's final answer.
func (a *Agent) Run(ctx context.Context, t Turn) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sess.BeginInvocation(a.metrics.AccumulatedUsage)
	for k, v := range t.State {
		if err := a.sess.SetState(k, v); err != nil {
			return "", err
		}
	}
	if _, err := a.sess.Append(ctx, session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(t.User)}}); err != nil {
		return "", err
	}
	answer := t.Answer
	if g := t.Guardrail; g != nil {
		replacement := session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(g.Replacement)}}
		if err := a.sess.RedactLatest(ctx, replacement, manager.Redaction{StopReason: "guardrail_intervened", Trace: g.Trace}); err != nil {
			return "", err
		}
		answer = g.Answer
	} else if t.ToolName != "" {
		id := a.nextToolUseID()
		use := a.modelMessage(session.ContentBlock{"text": "Let me check."}, session.ToolUseBlock(id, t.ToolName, t.ToolInput))
		if _, err := a.sess.Append(ctx, use); err != nil {
			return "", err
		}
		result := a.callTool(ctx, t.ToolName, id, t.ToolInput)
		if _, err := a.sess.Append(ctx, session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{result}}); err != nil {
			return "", err
		}
	}
	if _, err := a.sess.Append(ctx, a.modelMessage(session.TextBlock(answer))); err != nil {
		return "", err
	}
	m := cloneMetrics(a.metrics)
	if err := a.sess.EndInvocation(ctx, &m); err != nil {
		return "", err
	}
	return answer, nil
}

func (a *Agent) nextToolUseID() string {
	a.toolSeq++
	return fmt.Sprintf("tooluse_%04d_%08x", a.toolSeq, a.rnd.Uint32())
}

// modelMessage is one model call: an assistant message with seeded usage
// and latency in its metadata, accumulated into the agent's metrics as one
// event-loop cycle.
func (a *Agent) modelMessage(content ...session.ContentBlock) session.ChatMessage {
	in, out := 50+a.rnd.Int64N(450), 10+a.rnd.Int64N(190)
	cacheRead := a.rnd.Int64N(100)
	latency, ttfb := 200+a.rnd.Int64N(1800), 50+a.rnd.Int64N(150)
	cycle := float64(latency)/1000 + float64(a.rnd.IntN(100))/1000
	u := &a.metrics.AccumulatedUsage
	u.InputTokens += in
	u.OutputTokens += out
	u.TotalTokens += in + out
	u.CacheReadInputTokens += cacheRead
	a.metrics.AccumulatedMetrics.LatencyMs += latency
	a.metrics.AccumulatedMetrics.TimeToFirstByteMs += ttfb
	c := &a.metrics.CycleMetrics
	c.CycleCount++
	c.TotalDuration += cycle
	c.AverageCycleTime = c.TotalDuration / float64(c.CycleCount)
	return session.ChatMessage{
		Role:    session.RoleAssistant,
		Content: content,
		Metadata: map[string]any{
			"usage":   map[string]any{"inputTokens": in, "outputTokens": out, "totalTokens": in + out, "cacheReadInputTokens": cacheRead},
			"metrics": map[string]any{"latencyMs": latency, "timeToFirstByteMs": ttfb},
		},
	}
}

func (a *Agent) callTool(ctx context.Context, name, id string, input map[string]any) session.ContentBlock {
	tu := a.metrics.ToolUsage[name]
	tu.CallCount++
	elapsed := float64(1+a.rnd.IntN(500)) / 1000
	tu.TotalTime += elapsed
	var text, status string
	if tool, ok := a.tools[name]; !ok {
		text, status = fmt.Sprintf("Unknown tool: %s", name), "error"
	} else if out, err := tool(ctx, driver.CloneMap(input)); err != nil {
		text, status = err.Error(), "error"
	} else {
		text, status = out, "success"
	}
	if status == "success" {
		tu.SuccessCount++
	} else {
		tu.ErrorCount++
	}
	tu.AverageTime = tu.TotalTime / float64(tu.CallCount)
	tu.SuccessRate = float64(tu.SuccessCount) / float64(tu.CallCount)
	a.metrics.ToolUsage[name] = tu
	return session.ToolResultBlock(id, status, session.TextBlock(text))
}

func cloneMetrics(m session.EventLoopMetrics) session.EventLoopMetrics {
	tu := make(map[string]session.ToolUsage, len(m.ToolUsage))
	for k, v := range m.ToolUsage {
		tu[k] = v
	}
	m.ToolUsage = tu
	m.InvocationUsage = nil
	return m
}
