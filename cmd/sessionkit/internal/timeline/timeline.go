// Package timeline orders everything stored under one session — agents,
// messages with their tool calls, redactions and metrics, guardrail events,
// feedback — by time, for the viewer, the API and the demo.
package timeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/wire"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Kinds of timeline events.
const (
	KindSession   = "session"
	KindAgent     = "agent"
	KindMessage   = "message"
	KindGuardrail = "guardrail"
	KindFeedback  = "feedback"
)

// Event is one entry of a session timeline. Kind says which of the
// optional fields are set. Message events carry the stored message and,
// pre-digested for display, its text, tool calls and tool results, whether
// it was redacted, and the metrics snapshot of that turn.
type Event struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	AgentID   string    `json:"agent_id,omitempty"`
	MessageID *int      `json:"message_id,omitempty"`

	Role        string                      `json:"role,omitempty"`
	Text        string                      `json:"text,omitempty"`
	ToolCalls   []ToolCall                  `json:"tool_calls,omitempty"`
	ToolResults []ToolResult                `json:"tool_results,omitempty"`
	Redacted    bool                        `json:"redacted,omitempty"`
	Redaction   string                      `json:"redaction,omitempty"`
	Message     *wire.Message               `json:"message,omitempty"`
	Agent       *wire.Agent                 `json:"agent,omitempty"`
	Feedback    *wire.Feedback              `json:"feedback,omitempty"`
	Guardrail   *wire.SessionGuardrailEvent `json:"guardrail,omitempty"`
}

// ToolCall is a toolUse block, digested.
type ToolCall struct {
	ToolUseID string          `json:"tool_use_id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input,omitempty"`
}

// ToolResult is a toolResult block, digested.
type ToolResult struct {
	ToolUseID string `json:"tool_use_id"`
	Status    string `json:"status"`
	Text      string `json:"text,omitempty"`
}

// Timeline is a whole session in time order.
type Timeline struct {
	Session *wire.Session `json:"session"`
	Events  []*Event      `json:"events"`
	// Snapshots are the session's snapshot keys in key order (the first
	// page; MoreSnapshots says there are more); absent when there are none.
	Snapshots     []Snapshot `json:"snapshots,omitempty"`
	MoreSnapshots bool       `json:"more_snapshots,omitempty"`
}

// Build reads a whole session and orders its agents, messages,
// guardrail events and feedback by time. Ties keep a stable order: the
// session first, then agents, messages by agent and id, guardrail events,
// feedback.
func Build(ctx context.Context, repo session.Repository, id string) (*Timeline, error) {
	sess, err := repo.GetSession(ctx, id)
	if err != nil {
		return nil, err
	}
	ws, err := wire.FromSession(sess, false)
	if err != nil {
		return nil, err
	}
	tl := &Timeline{Session: ws}
	tl.Events = append(tl.Events, &Event{At: sess.CreatedAt, Kind: KindSession})
	agents, err := repo.ListAgents(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		wa, err := wire.FromAgent(a)
		if err != nil {
			return nil, driver.AgentError(id, a.ID, err)
		}
		tl.Events = append(tl.Events, &Event{At: a.CreatedAt, Kind: KindAgent, AgentID: a.ID, Agent: wa})
		msgs, err := repo.ListMessages(ctx, id, a.ID, 0, 0)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			ev, err := messageEvent(a.ID, m)
			if err != nil {
				return nil, driver.MessageError(id, a.ID, m.ID, err)
			}
			tl.Events = append(tl.Events, ev)
		}
	}
	guards, err := repo.ListGuardrailEvents(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, g := range guards {
		mid := g.MessageID
		tl.Events = append(tl.Events, &Event{At: g.Timestamp, Kind: KindGuardrail, AgentID: g.AgentID,
			MessageID: &mid, Guardrail: wire.FromSessionGuardrail(g)})
	}
	fbs, err := repo.ListFeedback(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, f := range fbs {
		wf, err := wire.FromFeedback(f)
		if err != nil {
			return nil, err
		}
		tl.Events = append(tl.Events, &Event{At: f.CreatedAt, Kind: KindFeedback, AgentID: f.AgentID,
			MessageID: f.MessageID, Feedback: wf})
	}
	slices.SortStableFunc(tl.Events, func(a, b *Event) int { return a.At.Compare(b.At) })
	if tl.Snapshots, tl.MoreSnapshots, err = listSnapshots(ctx, repo, id); err != nil {
		return nil, err
	}
	return tl, nil
}

func messageEvent(agentID string, m *session.Message) (*Event, error) {
	wm, err := wire.FromMessage(m)
	if err != nil {
		return nil, err
	}
	mid := m.ID
	ev := &Event{At: m.CreatedAt, Kind: KindMessage, AgentID: agentID, MessageID: &mid,
		Role: string(m.Message.Role), Message: wm, Redacted: m.RedactMessage != nil}
	ev.Text = textOf(m.Message.Content)
	if m.RedactMessage != nil {
		ev.Redaction = textOf(m.RedactMessage.Content)
	}
	for _, b := range m.Message.Content {
		if tid, name, ok := b.ToolUse(); ok {
			tu, _ := b["toolUse"].(map[string]any)
			input, err := wire.Value(tu["input"])
			if err != nil {
				return nil, err
			}
			ev.ToolCalls = append(ev.ToolCalls, ToolCall{ToolUseID: tid, Name: name, Input: input})
		}
		if tid, status, ok := b.ToolResult(); ok {
			tr, _ := b["toolResult"].(map[string]any)
			ev.ToolResults = append(ev.ToolResults, ToolResult{ToolUseID: tid, Status: status, Text: textOfAny(tr["content"])})
		}
	}
	return ev, nil
}

func textOf(blocks []session.ContentBlock) string {
	var out string
	for _, b := range blocks {
		if t, ok := b.Text(); ok {
			out = joinText(out, t)
		}
	}
	return out
}

func textOfAny(v any) string {
	items, _ := v.([]any)
	var out string
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if t, ok := m["text"].(string); ok {
				out = joinText(out, t)
			}
		}
	}
	return out
}

func joinText(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

// WriteText renders tl for a terminal: one line per event, tool calls,
// redactions, guardrail events, metrics and feedback marked.
func (tl *Timeline) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "session %s (%s)\n", tl.Session.SessionID, tl.Session.ApplicationName)
	for _, ev := range tl.Events {
		at := ev.At.UTC().Format("15:04:05.000")
		switch ev.Kind {
		case KindSession:
			fmt.Fprintf(&b, "%s  session created\n", at)
		case KindAgent:
			model := ""
			if ev.Agent.Config != nil {
				model = " model=" + ev.Agent.Config.Model
			}
			fmt.Fprintf(&b, "%s  agent %s created%s\n", at, ev.AgentID, model)
		case KindMessage:
			fmt.Fprintf(&b, "%s  %s #%d %-9s %s\n", at, ev.AgentID, *ev.MessageID, ev.Role, oneLine(ev.Text))
			for _, tc := range ev.ToolCalls {
				fmt.Fprintf(&b, "%14s tool call %s(%s) [%s]\n", "", tc.Name, tc.Input, tc.ToolUseID)
			}
			for _, tr := range ev.ToolResults {
				fmt.Fprintf(&b, "%14s tool result %s: %s\n", "", tr.Status, oneLine(tr.Text))
			}
			if ev.Redacted {
				fmt.Fprintf(&b, "%14s REDACTED, the agent sees: %s\n", "", oneLine(ev.Redaction))
			}
			if m := ev.Message.EventLoopMetrics; m != nil {
				fmt.Fprintf(&b, "%14s metrics: %d tokens in, %d out, %d cycles, %dms model latency\n", "",
					m.AccumulatedUsage.InputTokens, m.AccumulatedUsage.OutputTokens, m.CycleMetrics.CycleCount, m.AccumulatedMetrics.LatencyMs)
			}
		case KindGuardrail:
			g := ev.Guardrail
			fmt.Fprintf(&b, "%s  GUARDRAIL %s on %s #%d (%s) %v\n", at, g.Action, g.AgentID, g.MessageID, g.StopReason, g.PoliciesTriggered)
		case KindFeedback:
			f := ev.Feedback
			target := "session"
			if f.MessageID != nil {
				target = fmt.Sprintf("%s #%d", f.AgentID, *f.MessageID)
			}
			fmt.Fprintf(&b, "%s  feedback %s on %s: %s\n", at, orDash(f.Rating), target, oneLine(f.Comment))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 100 {
		return string(r[:99]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
