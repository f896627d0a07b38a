package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/wire"
	"github.com/sessionkit/sessionkit/session"
)

// Event kinds on a timeline.
const (
	EventSession   = "session"
	EventAgent     = "agent"
	EventMessage   = "message"
	EventGuardrail = "guardrail"
	EventFeedback  = "feedback"
)

// TimelineEvent is one entry of a session timeline. Kind says which of the
// optional fields are set. Message events carry the stored message and,
// pre-digested for display, its text, tool calls and tool results, whether
// it was redacted, and the metrics snapshot of that turn.
type TimelineEvent struct {
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
	Session *wire.Session    `json:"session"`
	Events  []*TimelineEvent `json:"events"`
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tl, err := BuildTimeline(r.Context(), s.repo, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tl)
}

// BuildTimeline reads a whole session and orders its agents, messages,
// guardrail events and feedback by time. Ties keep a stable order: the
// session first, then agents, messages by agent and id, guardrail events,
// feedback.
func BuildTimeline(ctx context.Context, repo session.Repository, id string) (*Timeline, error) {
	sess, err := repo.GetSession(ctx, id)
	if err != nil {
		return nil, err
	}
	ws, err := wire.FromSession(sess, false)
	if err != nil {
		return nil, err
	}
	tl := &Timeline{Session: ws}
	tl.Events = append(tl.Events, &TimelineEvent{At: sess.CreatedAt, Kind: EventSession})
	agents, err := repo.ListAgents(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		wa, err := wire.FromAgent(a)
		if err != nil {
			return nil, session.AgentError(id, a.ID, err)
		}
		tl.Events = append(tl.Events, &TimelineEvent{At: a.CreatedAt, Kind: EventAgent, AgentID: a.ID, Agent: wa})
		msgs, err := repo.ListMessages(ctx, id, a.ID, 0, 0)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			ev, err := messageEvent(a.ID, m)
			if err != nil {
				return nil, session.MessageError(id, a.ID, m.ID, err)
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
		tl.Events = append(tl.Events, &TimelineEvent{At: g.Timestamp, Kind: EventGuardrail, AgentID: g.AgentID,
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
		tl.Events = append(tl.Events, &TimelineEvent{At: f.CreatedAt, Kind: EventFeedback, AgentID: f.AgentID,
			MessageID: f.MessageID, Feedback: wf})
	}
	slices.SortStableFunc(tl.Events, func(a, b *TimelineEvent) int { return a.At.Compare(b.At) })
	return tl, nil
}

func messageEvent(agentID string, m *session.Message) (*TimelineEvent, error) {
	wm, err := wire.FromMessage(m)
	if err != nil {
		return nil, err
	}
	mid := m.ID
	ev := &TimelineEvent{At: m.CreatedAt, Kind: EventMessage, AgentID: agentID, MessageID: &mid,
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
