// Package wire is the JSON form of sessionkit's records, shared by the HTTP
// API and the JSON Lines export so that both speak one schema. Field names
// follow the Python original's document schema (snake_case; message and
// content blocks in Strands form). Free-form values — metadata, state,
// content blocks, traces — are encoded with driver.MarshalValueJSON, so
// binary data travels as {"__bytes_encoded__": true, "data": "<base64>"}
// and integers stay distinct from floats in both directions.
package wire

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Session is the JSON form of session.Session. ViewerPasswordHash is only
// filled by the export; the API never sends it.
type Session struct {
	SessionID          string          `json:"session_id"`
	SessionType        string          `json:"session_type,omitempty"`
	ApplicationName    string          `json:"application_name,omitempty"`
	Metadata           json.RawMessage `json:"metadata,omitempty"`
	ViewerPasswordHash string          `json:"viewer_password_hash,omitempty"`
	CreatedAt          *time.Time      `json:"created_at,omitempty"`
	UpdatedAt          *time.Time      `json:"updated_at,omitempty"`
	// ExpiresAt is the session's expiry, absent when it has none.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// ForkedFrom is the session's lineage (fork.go); absent when it is not
	// a fork. Import restores it with session.TimeRestorer (CreateSession
	// records none).
	ForkedFrom *ForkOrigin `json:"forked_from,omitempty"`
}

// Agent is the JSON form of session.Agent.
type Agent struct {
	AgentID                  string          `json:"agent_id"`
	State                    json.RawMessage `json:"state,omitempty"`
	ConversationManagerState json.RawMessage `json:"conversation_manager_state,omitempty"`
	InternalState            json.RawMessage `json:"_internal_state,omitempty"`
	Config                   *AgentConfig    `json:"config,omitempty"`
	CreatedAt                *time.Time      `json:"created_at,omitempty"`
	UpdatedAt                *time.Time      `json:"updated_at,omitempty"`
}

// AgentConfig is the JSON form of session.AgentConfig.
type AgentConfig struct {
	Model          string          `json:"model,omitempty"`
	SystemPrompt   string          `json:"system_prompt,omitempty"`
	PromptMetadata *PromptMetadata `json:"prompt_metadata,omitempty"`
}

// PromptMetadata is the JSON form of session.PromptMetadata.
type PromptMetadata struct {
	PromptID       string   `json:"prompt_id,omitempty"`
	PromptName     string   `json:"prompt_name,omitempty"`
	PromptVersion  string   `json:"prompt_version,omitempty"`
	DeploymentID   string   `json:"deployment_id,omitempty"`
	DeploymentName string   `json:"deployment_name,omitempty"`
	Temperature    *float64 `json:"temperature,omitempty"`
}

// Message is the JSON form of session.Message. Message and RedactMessage
// are Strands message objects ({"role", "content", "metadata"?, ...}).
type Message struct {
	MessageID        int               `json:"message_id"`
	Message          json.RawMessage   `json:"message"`
	RedactMessage    json.RawMessage   `json:"redact_message,omitempty"`
	EventLoopMetrics *EventLoopMetrics `json:"event_loop_metrics,omitempty"`
	GuardrailEvent   *GuardrailEvent   `json:"guardrail_event,omitempty"`
	CreatedAt        *time.Time        `json:"created_at,omitempty"`
	UpdatedAt        *time.Time        `json:"updated_at,omitempty"`
}

// EventLoopMetrics is the JSON form of session.EventLoopMetrics, with the
// Python original's field names.
type EventLoopMetrics struct {
	AccumulatedUsage   Usage                `json:"accumulated_usage"`
	AccumulatedMetrics LatencyMetrics       `json:"accumulated_metrics"`
	CycleMetrics       CycleMetrics         `json:"cycle_metrics"`
	ToolUsage          map[string]ToolUsage `json:"tool_usage,omitempty"`
	InvocationUsage    *Usage               `json:"invocation_usage,omitempty"`
}

// Usage is the JSON form of session.Usage (Strands camelCase names).
type Usage struct {
	InputTokens           int64 `json:"inputTokens"`
	OutputTokens          int64 `json:"outputTokens"`
	TotalTokens           int64 `json:"totalTokens"`
	CacheReadInputTokens  int64 `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int64 `json:"cacheWriteInputTokens"`
}

// LatencyMetrics is the JSON form of session.LatencyMetrics.
type LatencyMetrics struct {
	LatencyMs         int64 `json:"latencyMs"`
	TimeToFirstByteMs int64 `json:"timeToFirstByteMs"`
}

// CycleMetrics is the JSON form of session.CycleMetrics.
type CycleMetrics struct {
	CycleCount       int64   `json:"cycle_count"`
	TotalDuration    float64 `json:"total_duration"`
	AverageCycleTime float64 `json:"average_cycle_time"`
}

// ToolUsage is the JSON form of session.ToolUsage.
type ToolUsage struct {
	CallCount    int64   `json:"call_count"`
	SuccessCount int64   `json:"success_count"`
	ErrorCount   int64   `json:"error_count"`
	TotalTime    float64 `json:"total_time"`
	AverageTime  float64 `json:"average_time"`
	SuccessRate  float64 `json:"success_rate"`
}

// GuardrailEvent is the JSON form of session.GuardrailEvent.
type GuardrailEvent struct {
	Action            string              `json:"action,omitempty"`
	Timestamp         *time.Time          `json:"timestamp,omitempty"`
	StopReason        string              `json:"stop_reason,omitempty"`
	PoliciesTriggered map[string][]string `json:"policies_triggered,omitempty"`
	Trace             json.RawMessage     `json:"trace,omitempty"`
}

// SessionGuardrailEvent is the JSON form of session.SessionGuardrailEvent.
type SessionGuardrailEvent struct {
	AgentID           string              `json:"agent_id"`
	MessageID         int                 `json:"message_id"`
	Action            string              `json:"action"`
	Timestamp         time.Time           `json:"timestamp"`
	StopReason        string              `json:"stop_reason,omitempty"`
	PoliciesTriggered map[string][]string `json:"policies_triggered,omitempty"`
}

// Feedback is the JSON form of session.Feedback.
type Feedback struct {
	FeedbackID string          `json:"feedback_id,omitempty"`
	Rating     string          `json:"rating"`
	Comment    string          `json:"comment,omitempty"`
	AgentID    string          `json:"agent_id,omitempty"`
	MessageID  *int            `json:"message_id,omitempty"`
	Extra      json.RawMessage `json:"extra,omitempty"`
	CreatedAt  *time.Time      `json:"created_at,omitempty"`
}

// Value encodes a canonical free-form value with driver.MarshalValueJSON.
// A nil map encodes as nothing (the field is omitted).
func Value(v any) (json.RawMessage, error) {
	if m, ok := v.(map[string]any); ok && m == nil {
		return nil, nil
	}
	if v == nil {
		return nil, nil
	}
	b, err := driver.MarshalValueJSON(v)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

// Object decodes raw as a JSON object into a canonical map; empty raw or
// JSON null gives nil. field names the input in the error, which matches
// session.ErrInvalidArgument.
func Object(field string, raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	v, err := driver.UnmarshalValueJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, driver.InvalidArgument(field, "must be a JSON object, not %s", kind(v))
	}
	return m, nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// FromSession converts s. withSecret includes the viewer password hash
// (export only).
func FromSession(s *session.Session, withSecret bool) (*Session, error) {
	md, err := Value(s.Metadata)
	if err != nil {
		return nil, driver.SessionError(s.ID, err)
	}
	out := &Session{
		SessionID:       s.ID,
		SessionType:     string(s.Type),
		ApplicationName: s.ApplicationName,
		Metadata:        md,
		CreatedAt:       timePtr(s.CreatedAt),
		UpdatedAt:       timePtr(s.UpdatedAt),
		ExpiresAt:       timePtr(s.ExpiresAt),
		ForkedFrom:      FromForkOrigin(s.ForkedFrom),
	}
	if withSecret {
		out.ViewerPasswordHash = s.ViewerPasswordHash
	}
	return out, nil
}

// ToSession converts w; errors match session.ErrInvalidArgument.
func (w *Session) ToSession() (*session.Session, error) {
	md, err := Object("metadata", w.Metadata)
	if err != nil {
		return nil, err
	}
	return &session.Session{
		ID:                 w.SessionID,
		Type:               session.Type(w.SessionType),
		ApplicationName:    w.ApplicationName,
		Metadata:           md,
		ViewerPasswordHash: w.ViewerPasswordHash,
		CreatedAt:          timeOf(w.CreatedAt),
		UpdatedAt:          timeOf(w.UpdatedAt),
		ExpiresAt:          timeOf(w.ExpiresAt),
	}, nil
}

// FromAgent converts a.
func FromAgent(a *session.Agent) (*Agent, error) {
	out := &Agent{AgentID: a.ID, CreatedAt: timePtr(a.CreatedAt), UpdatedAt: timePtr(a.UpdatedAt)}
	var err error
	if out.State, err = Value(a.State); err != nil {
		return nil, err
	}
	if out.ConversationManagerState, err = Value(a.ConversationManagerState); err != nil {
		return nil, err
	}
	if out.InternalState, err = Value(a.InternalState); err != nil {
		return nil, err
	}
	c := a.Config
	if c.Model != "" || c.SystemPrompt != "" || c.PromptMetadata != nil {
		out.Config = &AgentConfig{Model: c.Model, SystemPrompt: c.SystemPrompt}
		if p := c.PromptMetadata; p != nil {
			pm := PromptMetadata(*p)
			out.Config.PromptMetadata = &pm
		}
	}
	return out, nil
}

// ToAgent converts w; errors match session.ErrInvalidArgument.
func (w *Agent) ToAgent() (*session.Agent, error) {
	out := &session.Agent{ID: w.AgentID, CreatedAt: timeOf(w.CreatedAt), UpdatedAt: timeOf(w.UpdatedAt)}
	var err error
	if out.State, err = Object("state", w.State); err != nil {
		return nil, err
	}
	if out.ConversationManagerState, err = Object("conversation_manager_state", w.ConversationManagerState); err != nil {
		return nil, err
	}
	if out.InternalState, err = Object("_internal_state", w.InternalState); err != nil {
		return nil, err
	}
	if c := w.Config; c != nil {
		out.Config = session.AgentConfig{Model: c.Model, SystemPrompt: c.SystemPrompt}
		if p := c.PromptMetadata; p != nil {
			pm := session.PromptMetadata(*p)
			out.Config.PromptMetadata = &pm
		}
	}
	return out, nil
}

// FromChat converts a chat message to its Strands JSON object.
func FromChat(c session.ChatMessage) (json.RawMessage, error) {
	return Value(c.Map())
}

// ToChat decodes a Strands JSON message object.
func ToChat(field string, raw json.RawMessage) (session.ChatMessage, error) {
	m, err := Object(field, raw)
	if err != nil {
		return session.ChatMessage{}, err
	}
	if m == nil {
		return session.ChatMessage{}, driver.InvalidArgument(field, "is required")
	}
	c, err := session.ChatMessageFromMap(m)
	if err != nil {
		return session.ChatMessage{}, fmt.Errorf("%s: %w", field, err)
	}
	return c, nil
}

// FromMessage converts m.
func FromMessage(m *session.Message) (*Message, error) {
	out := &Message{MessageID: m.ID, CreatedAt: timePtr(m.CreatedAt), UpdatedAt: timePtr(m.UpdatedAt)}
	var err error
	if out.Message, err = FromChat(m.Message); err != nil {
		return nil, err
	}
	if m.RedactMessage != nil {
		if out.RedactMessage, err = FromChat(*m.RedactMessage); err != nil {
			return nil, err
		}
	}
	if em := m.EventLoopMetrics; em != nil {
		out.EventLoopMetrics = FromMetrics(em)
	}
	if ev := m.GuardrailEvent; ev != nil {
		if out.GuardrailEvent, err = FromGuardrail(ev); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ToMessage converts w; errors match session.ErrInvalidArgument.
func (w *Message) ToMessage() (*session.Message, error) {
	out := &session.Message{ID: w.MessageID, CreatedAt: timeOf(w.CreatedAt), UpdatedAt: timeOf(w.UpdatedAt)}
	var err error
	if out.Message, err = ToChat("message", w.Message); err != nil {
		return nil, err
	}
	if len(w.RedactMessage) > 0 && string(w.RedactMessage) != "null" {
		r, err := ToChat("redact_message", w.RedactMessage)
		if err != nil {
			return nil, err
		}
		out.RedactMessage = &r
	}
	if em := w.EventLoopMetrics; em != nil {
		out.EventLoopMetrics = em.ToMetrics()
	}
	if ev := w.GuardrailEvent; ev != nil {
		if out.GuardrailEvent, err = ev.ToGuardrail(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FromMetrics converts em.
func FromMetrics(em *session.EventLoopMetrics) *EventLoopMetrics {
	out := &EventLoopMetrics{
		AccumulatedUsage:   Usage(em.AccumulatedUsage),
		AccumulatedMetrics: LatencyMetrics(em.AccumulatedMetrics),
		CycleMetrics:       CycleMetrics(em.CycleMetrics),
	}
	if len(em.ToolUsage) > 0 {
		out.ToolUsage = make(map[string]ToolUsage, len(em.ToolUsage))
		for k, v := range em.ToolUsage {
			out.ToolUsage[k] = ToolUsage(v)
		}
	}
	if em.InvocationUsage != nil {
		u := Usage(*em.InvocationUsage)
		out.InvocationUsage = &u
	}
	return out
}

// ToMetrics converts w.
func (w *EventLoopMetrics) ToMetrics() *session.EventLoopMetrics {
	out := &session.EventLoopMetrics{
		AccumulatedUsage:   session.Usage(w.AccumulatedUsage),
		AccumulatedMetrics: session.LatencyMetrics(w.AccumulatedMetrics),
		CycleMetrics:       session.CycleMetrics(w.CycleMetrics),
	}
	if len(w.ToolUsage) > 0 {
		out.ToolUsage = make(map[string]session.ToolUsage, len(w.ToolUsage))
		for k, v := range w.ToolUsage {
			out.ToolUsage[k] = session.ToolUsage(v)
		}
	}
	if w.InvocationUsage != nil {
		u := session.Usage(*w.InvocationUsage)
		out.InvocationUsage = &u
	}
	return out
}

// FromGuardrail converts ev.
func FromGuardrail(ev *session.GuardrailEvent) (*GuardrailEvent, error) {
	tr, err := Value(ev.Trace)
	if err != nil {
		return nil, err
	}
	return &GuardrailEvent{
		Action:            ev.Action,
		Timestamp:         timePtr(ev.Timestamp),
		StopReason:        ev.StopReason,
		PoliciesTriggered: ev.PoliciesTriggered,
		Trace:             tr,
	}, nil
}

// ToGuardrail converts w; errors match session.ErrInvalidArgument.
func (w *GuardrailEvent) ToGuardrail() (*session.GuardrailEvent, error) {
	tr, err := Object("guardrail_event.trace", w.Trace)
	if err != nil {
		return nil, err
	}
	return &session.GuardrailEvent{
		Action:            w.Action,
		Timestamp:         timeOf(w.Timestamp),
		StopReason:        w.StopReason,
		PoliciesTriggered: w.PoliciesTriggered,
		Trace:             tr,
	}, nil
}

// FromSessionGuardrail converts ev.
func FromSessionGuardrail(ev *session.SessionGuardrailEvent) *SessionGuardrailEvent {
	return &SessionGuardrailEvent{
		AgentID:           ev.AgentID,
		MessageID:         ev.MessageID,
		Action:            ev.Action,
		Timestamp:         ev.Timestamp.UTC(),
		StopReason:        ev.StopReason,
		PoliciesTriggered: ev.PoliciesTriggered,
	}
}

// FromFeedback converts f.
func FromFeedback(f *session.Feedback) (*Feedback, error) {
	extra, err := Value(f.Extra)
	if err != nil {
		return nil, err
	}
	return &Feedback{
		FeedbackID: f.ID,
		Rating:     string(f.Rating),
		Comment:    f.Comment,
		AgentID:    f.AgentID,
		MessageID:  f.MessageID,
		Extra:      extra,
		CreatedAt:  timePtr(f.CreatedAt),
	}, nil
}

// ToFeedback converts w; errors match session.ErrInvalidArgument.
func (w *Feedback) ToFeedback() (*session.Feedback, error) {
	extra, err := Object("extra", w.Extra)
	if err != nil {
		return nil, err
	}
	return &session.Feedback{
		ID:        w.FeedbackID,
		Rating:    session.Rating(w.Rating),
		Comment:   w.Comment,
		AgentID:   w.AgentID,
		MessageID: w.MessageID,
		Extra:     extra,
		CreatedAt: timeOf(w.CreatedAt),
	}, nil
}
