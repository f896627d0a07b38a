// Package session is sessionkit's storage contract for AI-agent
// conversations: the records (Session, Agent, Message, Feedback, guardrail
// events), the Repository interface every backend implements, the typed
// errors they report, the input rules they enforce, and the URL registry
// that picks a backend by configuration. Programs are written against this
// package; backends are interchangeable behind it. What only backend
// authors need — the validation and normalization helpers every backend
// calls, the value and Strands JSON codecs, the error constructors, the
// validate-once fast paths — is in package session/driver, as gocloud keeps
// docstore/driver apart from docstore.
//
// # Records
//
// A Session is one conversation. Under it live its Agents (one per agent
// id), each agent's message log (Message, ids 0, 1, 2, ...), the session's
// free-form metadata, user Feedback, and the audit trail of guardrail
// interventions (GuardrailEvent on the message, SessionGuardrailEvent on the
// session). Session, Agent and Message carry the fields of the Strands SDK's
// Session, SessionAgent and SessionMessage plus the audit data the Python
// "MongoDB Session Manager for Strands Agents" keeps (application name,
// agent configuration, event-loop metrics, guardrail events).
//
// Free-form values — agent state, metadata, content blocks, tool input —
// are stored in one canonical form (see driver.Normalize): nil, bool,
// string, []byte, int64, float64, []any and map[string]any. Integers and
// floats stay distinct, as Python keeps 1 and 1.0 distinct. Every record,
// and ContentBlock, has a Clone method.
//
// # Repository
//
// Repository is the storage contract: SessionStore, AgentStore,
// MessageStore, MetadataStore, FeedbackStore and GuardrailStore, plus Close.
// Each method's documentation lists its contract — which error for which
// case, idempotency, what concurrent callers observe. The rules common to
// every method are on Repository itself: ctx bounds every call, bad input
// writes nothing, returned values are the caller's own, times are UTC.
// Optional capabilities are separate interfaces a repository may implement:
// Pinger (health checks), StatsReporter (counters for /metrics),
// MessageAppender (appends whose id the store assigns), APIKeyStore
// (per-application API keys, stored hashed, for the service),
// MultiAgentStore (Graph and Swarm orchestrator state, Strands'
// create/read/update_multi_agent), ExpiryStore (sessions that expire,
// removed by a background Sweeper; RetentionPolicy for per-application
// defaults; Prune deletes old sessions over any repository, through
// IdleDeleter where the repository has it) and Forker (a
// copy of a session, or of one agent's history up to a message, with its
// lineage; see ForkOrigin).
//
// # Errors
//
// Every Repository method reports failures as errors that match one of
// ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalidArgument,
// ErrTooLarge or ErrClosed under errors.Is, wrapped with the ids concerned
// (`session "abc": agent "x": not found`). Input errors are *FieldError
// values, which name the rejected field. Backend failures (network,
// disk) are returned wrapped, never swallowed into a zero value.
//
// # Input rules
//
// Every backend validates and normalizes input identically, with the
// session/driver helpers, before writing anything:
//
//   - Session ids: 1 to MaxIDBytes (256) bytes of valid UTF-8, no "/", no
//     control characters (including NUL, U+001F, U+0085, U+2028 and
//     U+2029). "." and "@" are allowed, so e-mail addresses work.
//   - Agent ids and top-level metadata keys: the session-id rules, and no
//     "." anywhere and no leading "$", because they become document field
//     names.
//   - Message ids: 0 or more.
//   - Values: the canonical form above; NaN and infinities, invalid UTF-8,
//     unsigned integers above MaxInt64, structs, channels and nesting deeper
//     than 200 levels are rejected with ErrInvalidArgument naming the path
//     ("state.items[3]").
//   - Times: zero means now; stored in UTC at microsecond precision, as
//     Python writes them.
//
// # Message ids
//
// Message ids are dense per agent: 0, 1, 2, ... CreateMessage of id N
// succeeds only when the agent holds exactly N messages, so concurrent
// writers can never duplicate an id or lose a message: the loser gets
// ErrConflict, re-reads CountMessages and retries. ListMessages pages by
// position, as Strands' list_messages slices by position.
//
// # Strands JSON
//
// Records convert to and from the JSON files the Strands Python SDK's
// FileSessionManager and S3SessionManager write (session.json, agent.json,
// message_<N>.json) with the driver package's MarshalStrands and
// UnmarshalStrands functions, byte for byte as Python writes them.
//
// # Backends and URLs
//
// Backends live in their own packages and register a URL scheme when
// imported, in the spirit of database/sql drivers: backend/memory
// ("memory://"), backend/sqlite ("sqlite://"), backend/mongo ("mongodb://",
// "mongodb+srv://"). Open picks the backend a URL names, so a service can
// be configured by one environment variable. A "cache" query parameter
// wraps the backend in a decorator registered with RegisterWrapper, such as
// backend/rediscache's Redis read-through cache:
//
//	mongodb://db.internal/app?cache=redis://127.0.0.1:6379/0
//
// Errors from Open and RedactURL's output never contain passwords or
// secret-looking query parameters. The conformance package holds the test
// suite every backend passes.
package session
