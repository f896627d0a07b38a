package session

import "time"

// Type is a session's type. Strands writes every session, including
// multi-agent ones, as TypeAgent.
type Type string

// TypeAgent is the only session type Strands defines ("AGENT").
const TypeAgent Type = "AGENT"

// Session is one conversation: the root record under which agents, their
// message logs, metadata, feedback and guardrail events live.
type Session struct {
	// ID identifies the session. It may contain "." and "@" (e-mail
	// addresses, dotted names); see driver.ValidateSessionID.
	ID string
	// Type is the Strands session type; empty means TypeAgent.
	Type Type
	// ApplicationName tags the application that owns the session. It is set
	// at creation and never changes.
	ApplicationName string
	// Metadata is the session's free-form metadata. On CreateSession it is
	// the initial metadata (for example fields pre-filled with ""); reads
	// return the stored map.
	Metadata map[string]any
	// ViewerPasswordHash is the session-viewer password as produced by
	// driver.HashViewerPassword. Documents written by the Python original hold the
	// plaintext instead; driver.VerifyViewerPassword accepts both. Never expose it.
	ViewerPasswordHash string `json:"-"`
	// CreatedAt is set once at creation (now when zero on create).
	CreatedAt time.Time
	// UpdatedAt moves on every write under the session.
	UpdatedAt time.Time
	// ExpiresAt, when set, is when the session expires: from then on it
	// reads as ErrNotFound, everything under it included, and the store
	// removes it (see ExpiryStore). Zero means never.
	ExpiresAt time.Time
	// ForkedFrom is where the session was copied from (see Forker); nil
	// for a session that is not a fork. Only ForkSession sets it:
	// CreateSession ignores it.
	ForkedFrom *ForkOrigin
}

// Agent is one agent's persisted state within a session: the Strands
// SessionAgent plus the agent configuration the Python original keeps.
type Agent struct {
	// ID identifies the agent within its session; see driver.ValidateAgentID.
	ID string
	// State is the agent's user key/value state (Strands agent.state).
	State map[string]any
	// ConversationManagerState is the conversation manager's get_state():
	// {"__name__": <Python class name>, "removed_message_count": n, ...}.
	ConversationManagerState map[string]any
	// InternalState is Strands' "_internal_state":
	// {"interrupt_state": {...}, "model_state": {...}}.
	InternalState map[string]any
	// Config is the agent configuration (model, system prompt, prompt
	// metadata). UpdateAgent never changes it; use UpdateAgentConfig.
	Config AgentConfig
	// CreatedAt is set once at creation (now when zero on create).
	CreatedAt time.Time
	// UpdatedAt moves on every update.
	UpdatedAt time.Time
}

// AgentConfig is how an agent was configured when it ran.
type AgentConfig struct {
	// Model is the model id, e.g. "us.anthropic.claude-sonnet-4-20250514-v1:0".
	Model string
	// SystemPrompt is the agent's system prompt.
	SystemPrompt string
	// PromptMetadata describes the managed prompt in use, if any.
	PromptMetadata *PromptMetadata
}

// PromptMetadata identifies a managed prompt and its deployment.
type PromptMetadata struct {
	// PromptID, PromptName and PromptVersion identify the prompt;
	// DeploymentID and DeploymentName the deployment that served it.
	PromptID       string
	PromptName     string
	PromptVersion  string
	DeploymentID   string
	DeploymentName string
	// Temperature, when set, must be within [0, 2].
	Temperature *float64
}

// AgentConfigPatch is a partial update of an AgentConfig: nil fields are left
// as stored.
type AgentConfigPatch struct {
	Model          *string
	SystemPrompt   *string
	PromptMetadata *PromptMetadata
}

// Role is the author of a chat message.
type Role string

// The two roles Strands messages carry.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// ChatMessage is a Strands Message: {role, content, metadata?}.
type ChatMessage struct {
	// Role is who said it: RoleUser or RoleAssistant.
	Role Role
	// Content is the message's content blocks, in order.
	Content []ContentBlock
	// Metadata is the optional Strands message metadata, e.g.
	// {"usage": {...}, "metrics": {...}} on assistant messages.
	Metadata map[string]any
	// Extra holds keys this version does not know (for example
	// "tracking_id"), kept so that they round-trip.
	Extra map[string]any
}

// ContentBlock is one Strands content block, kept as the free-form map the
// model produced so that every kind — text, toolUse, toolResult, image,
// document, reasoningContent and kinds not invented yet — round-trips
// losslessly. Binary data is a []byte value. Values follow the rules of
// driver.Normalize.
type ContentBlock map[string]any

// Message is one entry of an agent's message log: the Strands SessionMessage
// plus the audit data the Python original keeps on it.
type Message struct {
	// ID is the 0-based position of the message in the agent's full
	// history. IDs are dense: 0, 1, 2, ...
	ID int
	// Message is what was said.
	Message ChatMessage
	// RedactMessage, when set, replaces Message for the agent (a guardrail
	// redaction); Message keeps the original for audit.
	RedactMessage *ChatMessage
	// EventLoopMetrics is the usage and timing captured at the last sync
	// after this message, if any.
	EventLoopMetrics *EventLoopMetrics
	// GuardrailEvent records the guardrail intervention on this message, if
	// any.
	GuardrailEvent *GuardrailEvent
	// CreatedAt is set once at creation (now when zero on create).
	CreatedAt time.Time
	// UpdatedAt moves on every update.
	UpdatedAt time.Time
}

// Effective returns what the agent sees: the redaction when there is one,
// otherwise the original message (Strands' to_message).
func (m *Message) Effective() ChatMessage {
	if m.RedactMessage != nil {
		return *m.RedactMessage
	}
	return m.Message
}

// EventLoopMetrics is the metrics snapshot stored on a message, with the
// Python original's field names.
type EventLoopMetrics struct {
	// AccumulatedUsage is the agent's token usage so far (cumulative).
	AccumulatedUsage Usage
	// AccumulatedMetrics is the agent's model latency so far (cumulative).
	AccumulatedMetrics LatencyMetrics
	// CycleMetrics summarises the event-loop cycles so far.
	CycleMetrics CycleMetrics
	// ToolUsage is per-tool execution statistics, keyed by tool name.
	ToolUsage map[string]ToolUsage
	// InvocationUsage is this invocation's own usage (not cumulative), which
	// the Python original does not record. Nil when unknown.
	InvocationUsage *Usage
}

// Usage counts tokens.
type Usage struct {
	InputTokens           int64
	OutputTokens          int64
	TotalTokens           int64
	CacheReadInputTokens  int64
	CacheWriteInputTokens int64
}

// LatencyMetrics is model latency in milliseconds.
type LatencyMetrics struct {
	LatencyMs         int64
	TimeToFirstByteMs int64
}

// CycleMetrics summarises event-loop cycles; durations are in seconds.
type CycleMetrics struct {
	CycleCount       int64
	TotalDuration    float64
	AverageCycleTime float64
}

// ToolUsage is one tool's execution statistics; times are in seconds.
type ToolUsage struct {
	CallCount    int64
	SuccessCount int64
	ErrorCount   int64
	TotalTime    float64
	AverageTime  float64
	SuccessRate  float64
}

// GuardrailEvent records a guardrail intervention on a message.
type GuardrailEvent struct {
	// Action is what the guardrail did, "BLOCKED" by default.
	Action string
	// Timestamp is when it happened.
	Timestamp time.Time
	// StopReason is the model's stop reason, e.g. "guardrail_intervened".
	StopReason string
	// PoliciesTriggered maps a policy ("contentPolicy", ...) to the items
	// that acted, e.g. {"contentPolicy": ["HATE/HIGH"]}.
	PoliciesTriggered map[string][]string
	// Trace is the raw guardrail trace, kept on the message only.
	Trace map[string]any
}

// SessionGuardrailEvent is the session-level audit entry of a guardrail
// intervention (the message-level event without its trace).
type SessionGuardrailEvent struct {
	// AgentID and MessageID name the message the guardrail acted on.
	AgentID   string
	MessageID int
	// Action, Timestamp, StopReason and PoliciesTriggered are as on
	// GuardrailEvent.
	Action            string
	Timestamp         time.Time
	StopReason        string
	PoliciesTriggered map[string][]string
}

// Rating is a feedback rating.
type Rating string

// The ratings feedback may carry; RatingNone is the empty string.
const (
	RatingUp   Rating = "up"
	RatingDown Rating = "down"
	RatingNone Rating = ""
)

// Feedback is a user's judgement of a session or of one answer in it.
type Feedback struct {
	// ID identifies the feedback; AddFeedback assigns one when empty.
	ID string
	// Rating is up, down or none.
	Rating Rating
	// Comment is free text.
	Comment string
	// AgentID and MessageID, when set, point the feedback at one message.
	// MessageID requires AgentID.
	AgentID   string
	MessageID *int
	// Extra holds any other caller fields, stored verbatim.
	Extra map[string]any
	// CreatedAt is set by AddFeedback when zero.
	CreatedAt time.Time
}
