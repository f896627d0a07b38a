package session

import (
	"context"
	"time"
)

// Repository is the storage contract every backend implements: the five role
// interfaces plus Close. It is safe for concurrent use by many goroutines and,
// unless a backend's documentation says otherwise, by many processes sharing
// the same store.
//
// Rules common to every method:
//   - ctx bounds the call; a cancelled or expired ctx returns its error
//     (wrapped) and may or may not have applied a write that was in flight.
//   - Bad input returns an error matching ErrInvalidArgument that names the
//     field, and writes nothing. Ids are checked with driver.ValidateSessionID,
//     driver.ValidateAgentID and driver.ValidateMessageID; values with driver.Normalize.
//   - Errors are wrapped with the ids they concern; test them with errors.Is
//     against ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalidArgument,
//     ErrTooLarge and ErrClosed. Backend failures (network, disk) are
//     returned wrapped, never swallowed into a zero value.
//   - Values returned are the caller's to keep: mutating them never changes
//     the store, and mutating an argument after a call returns never changes
//     what was stored.
//   - Times are UTC. A backend may store them at a coarser precision than
//     microseconds (MongoDB keeps milliseconds).
//   - Reads (Get*, List*, Count*) change nothing and may be retried freely;
//     each returns a state that existed at some moment during the call.
//   - Every write is atomic: concurrent readers see all of it or none of it.
//     Writes to one session apply one at a time; concurrent updates of the
//     same fields are last-writer-wins, of different metadata keys both
//     apply. Methods marked Idempotent may be retried after an unknown
//     outcome (a timeout) with the same effect as one call. Creates report
//     ErrAlreadyExists on a retry that follows a success; AddFeedback and
//     RecordGuardrailEvent append, so retrying them after an unknown
//     outcome can record the same thing twice.
type Repository interface {
	SessionStore
	AgentStore
	MessageStore
	MetadataStore
	FeedbackStore
	GuardrailStore
	// Close releases the repository's resources. Calls after Close return
	// ErrClosed. Close is idempotent.
	Close() error
}

// SessionStore stores session records.
type SessionStore interface {
	// CreateSession stores a new session (see driver.PrepareSession for defaults).
	// Contract: ErrAlreadyExists if the id is taken — the stored session is
	// left untouched, never overwritten. Of many concurrent creates of one
	// id exactly one succeeds.
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns a session with its metadata. Contract: ErrNotFound
	// if it does not exist.
	GetSession(ctx context.Context, sessionID string) (*Session, error)
	// DeleteSession removes a session and everything under it: agents,
	// messages, metadata, feedback, guardrail events. Contract: ErrNotFound
	// if it does not exist, so a retry after a success reports ErrNotFound.
	// A write racing the delete either lands before it (and is deleted) or
	// fails with ErrNotFound; it never recreates part of the session.
	DeleteSession(ctx context.Context, sessionID string) error
	// ListSessions returns sessions matching q, newest first (by CreatedAt,
	// then by id descending), one page at a time. Contract:
	// ErrInvalidArgument for a malformed query or cursor. Pages are stable
	// under concurrent inserts: a cursor continues after the last session
	// it returned.
	ListSessions(ctx context.Context, q SessionQuery) (SessionPage, error)
}

// SessionQuery filters and pages ListSessions. The zero value lists every
// session, DefaultPageSize at a time.
type SessionQuery struct {
	// ApplicationName, when set, keeps sessions of that application.
	ApplicationName string
	// Type, when set, keeps sessions of that type.
	Type Type
	// IDPrefix, when set, keeps sessions whose id starts with it.
	IDPrefix string
	// Metadata keeps sessions whose metadata holds each key with an equal
	// value (canonical values; see driver.Normalize). Keys follow
	// driver.ValidateMetadataKey.
	Metadata map[string]any
	// CreatedFrom and CreatedTo, when set, keep sessions created in
	// [CreatedFrom, CreatedTo).
	CreatedFrom, CreatedTo time.Time
	// ForkedFrom, when set, keeps the direct forks of that session (those
	// whose ForkedFrom.SessionID it is).
	ForkedFrom string
	// Limit is the page size: 0 means DefaultPageSize; at most MaxPageSize.
	Limit int
	// Cursor continues a previous listing (SessionPage.NextCursor).
	Cursor string
}

// Page sizes for ListSessions.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// SessionPage is one page of ListSessions.
type SessionPage struct {
	// Sessions is the page, newest first.
	Sessions []*Session
	// NextCursor continues the listing; empty on the last page.
	NextCursor string
}

// AgentStore stores agents within sessions.
type AgentStore interface {
	// CreateAgent stores a new agent, with its configuration. Contract:
	// ErrNotFound if the session does not exist; ErrAlreadyExists if the
	// agent does — its state and messages are left untouched. Of many
	// concurrent creates exactly one succeeds.
	CreateAgent(ctx context.Context, sessionID string, a *Agent) error
	// GetAgent returns an agent without its messages. Contract: ErrNotFound
	// if the session or the agent does not exist.
	GetAgent(ctx context.Context, sessionID, agentID string) (*Agent, error)
	// UpdateAgent replaces an agent's State, ConversationManagerState and
	// InternalState. It keeps the stored CreatedAt and Config (a.Config is
	// ignored: see UpdateAgentConfig) and sets UpdatedAt to now. Contract:
	// ErrNotFound if the session or agent does not exist. Idempotent.
	UpdateAgent(ctx context.Context, sessionID string, a *Agent) error
	// UpdateAgentConfig sets the non-nil fields of patch on the agent's
	// configuration; PromptMetadata is replaced as a whole. Contract:
	// ErrNotFound if the session or agent does not exist (no phantom agent
	// is created); ErrInvalidArgument for an empty patch or a temperature
	// outside [0, 2]. Idempotent.
	UpdateAgentConfig(ctx context.Context, sessionID, agentID string, patch AgentConfigPatch) error
	// ListAgents returns a session's agents, without messages, ordered by
	// id. Contract: ErrNotFound if the session does not exist.
	ListAgents(ctx context.Context, sessionID string) ([]*Agent, error)
}

// MessageStore stores each agent's message log.
type MessageStore interface {
	// CreateMessage appends m to the agent's log. Ids are dense: m.ID must
	// equal the number of messages the agent holds. Contract: ErrNotFound if
	// the session or agent does not exist; ErrConflict if m.ID is taken or
	// would leave a gap — so of concurrent writers of one id exactly one
	// succeeds and none loses a message; ErrTooLarge over the backend's size
	// limit.
	CreateMessage(ctx context.Context, sessionID, agentID string, m *Message) error
	// GetMessage returns one message. Contract: ErrNotFound if the session,
	// agent or message does not exist.
	GetMessage(ctx context.Context, sessionID, agentID string, messageID int) (*Message, error)
	// UpdateMessage replaces a message's Message and RedactMessage (nil
	// clears it), and its EventLoopMetrics and GuardrailEvent when they are
	// non-nil (nil keeps the stored ones). It keeps the stored CreatedAt and
	// sets UpdatedAt to now. Contract: ErrNotFound if the session, agent or
	// message does not exist; ErrTooLarge over the size limit. Idempotent.
	UpdateMessage(ctx context.Context, sessionID, agentID string, m *Message) error
	// ListMessages returns the agent's messages in id order from position
	// offset, at most limit of them (limit <= 0 means all). An offset past
	// the end gives an empty list. Contract: ErrNotFound if the session or
	// agent does not exist; ErrInvalidArgument for a negative offset.
	ListMessages(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*Message, error)
	// CountMessages returns how many messages the agent holds, which is also
	// the next message id, without fetching them. Contract: ErrNotFound if
	// the session or agent does not exist.
	CountMessages(ctx context.Context, sessionID, agentID string) (int, error)
}

// MetadataStore stores a session's free-form metadata.
type MetadataStore interface {
	// UpdateMetadata sets the given top-level keys, leaving other keys
	// untouched; a nested value replaces the stored value as a whole.
	// Contract: ErrNotFound if the session does not exist;
	// ErrInvalidArgument for an empty update or a bad key (see
	// driver.ValidateMetadataKey). Idempotent.
	UpdateMetadata(ctx context.Context, sessionID string, metadata map[string]any) error
	// GetMetadata returns the session's metadata map itself (empty, never
	// nil, when there is none). Contract: ErrNotFound if the session does
	// not exist.
	GetMetadata(ctx context.Context, sessionID string) (map[string]any, error)
	// DeleteMetadata removes the named top-level keys; absent keys are
	// ignored. Contract: ErrNotFound if the session does not exist;
	// ErrInvalidArgument for an empty key list or a bad key. Idempotent.
	DeleteMetadata(ctx context.Context, sessionID string, keys []string) error
}

// FeedbackStore stores user feedback on sessions and messages.
type FeedbackStore interface {
	// AddFeedback appends f (see driver.PrepareFeedback for defaults) and returns
	// the stored copy, with its ID and CreatedAt. Contract: ErrNotFound if
	// the session does not exist, or if f points at an agent or message that
	// does not exist; ErrInvalidArgument for a bad rating or field. Not
	// idempotent: each call appends one entry, and concurrent calls all
	// land.
	AddFeedback(ctx context.Context, sessionID string, f *Feedback) (*Feedback, error)
	// ListFeedback returns a session's feedback in the order it was added.
	// Contract: ErrNotFound if the session does not exist.
	ListFeedback(ctx context.Context, sessionID string) ([]*Feedback, error)
}

// GuardrailStore stores the audit trail of guardrail interventions.
type GuardrailStore interface {
	// RecordGuardrailEvent sets ev on the message and appends the matching
	// SessionGuardrailEvent to the session, in one atomic write. Contract:
	// ErrNotFound if the session, agent or message does not exist. Not
	// idempotent: each call appends one session event (the message keeps
	// the last).
	RecordGuardrailEvent(ctx context.Context, sessionID, agentID string, messageID int, ev *GuardrailEvent) error
	// ListGuardrailEvents returns the session's guardrail events in the
	// order they were recorded. Contract: ErrNotFound if the session does not
	// exist.
	ListGuardrailEvents(ctx context.Context, sessionID string) ([]*SessionGuardrailEvent, error)
}

// MessageAppender is implemented by repositories whose store can assign the
// next message id itself, atomically with the write: the SQLite transaction,
// the memory backend's lock, one conditional MongoDB update. It is what makes
// an append without an id succeed under any number of concurrent writers on
// one agent, where CreateMessage's "id must be the next one" rule makes all
// but one of them retry. Decorators (the cache, fault injection) implement it
// by delegation when the repository they wrap does; a decorator type that
// has the method whatever it wraps answers an error matching
// errors.ErrUnsupported, writing nothing, when the wrapped repository lacks
// the capability, and callers (the session manager, the API) then fall back
// to CreateMessage.
type MessageAppender interface {
	// AppendMessage stores m as the agent's next message and returns the id
	// it was stored under: the number of messages the agent held just
	// before, assigned by the store in the same atomic write. m.ID is
	// ignored and m is not modified. Contract: as CreateMessage —
	// ErrNotFound if the session or agent does not exist, ErrTooLarge over
	// the size limit, ErrInvalidArgument for bad input — but never
	// ErrConflict because another writer appended first. Not idempotent: a
	// retry after an unknown outcome may store the message twice.
	AppendMessage(ctx context.Context, sessionID, agentID string, m *Message) (int, error)
}

// Pinger is implemented by repositories that can check their backend is
// reachable, for health checks.
type Pinger interface {
	// Ping returns nil when the backend answers within ctx.
	Ping(ctx context.Context) error
}

// StatsReporter is implemented by repositories (and decorators) that keep
// counters, for /metrics. Names are Prometheus-style snake case
// ("cache_hits_total"); values never include credentials.
type StatsReporter interface {
	// Stats returns a snapshot of the counters.
	Stats() map[string]float64
}
