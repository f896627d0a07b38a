// Package session is sessionkit's storage contract for AI-agent
// conversations: the records (Session, Agent, Message, Feedback, guardrail
// events), the Repository interface every backend implements, the typed
// errors they report, the input rules they enforce, the Strands-compatible
// JSON codec, and the URL registry that picks a backend by configuration.
// Programs are written against this package; backends are interchangeable
// behind it.
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
// are stored in one canonical form (see Normalize): nil, bool, string,
// []byte, int64, float64, []any and map[string]any. Integers and floats stay
// distinct, as Python keeps 1 and 1.0 distinct. Every record has a Clone
// method; CloneValue and CloneMap deep-copy free-form values.
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
// (per-application API keys, stored hashed, for the service) and
// MultiAgentStore (Graph and Swarm orchestrator state, Strands'
// create/read/update_multi_agent) and Forker (a copy of a session, or of
// one agent's history up to a message, with its lineage; see ForkOrigin).
//
// # Errors
//
// Every Repository method reports failures as errors that match one of
// ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalidArgument,
// ErrTooLarge or ErrClosed under errors.Is, wrapped with the ids concerned
// (SessionError, AgentError, MessageError produce `session "abc": agent
// "x": not found`). Input errors are *FieldError values, made by
// InvalidArgument, which name the rejected field. Backend failures (network,
// disk) are returned wrapped, never swallowed into a zero value.
//
// # Input rules
//
// Every backend validates and normalizes input identically by calling the
// Prepare helpers (PrepareSession, PrepareAgent, PrepareMessage,
// PrepareFeedback, PrepareMetadata, PrepareMetadataKeys,
// PrepareGuardrailEvent, PrepareQuery) before writing:
//
//   - Session ids (ValidateSessionID): 1 to MaxIDBytes (256) bytes of valid
//     UTF-8, no "/", no control characters (including NUL, U+001F, U+0085,
//     U+2028 and U+2029). "." and "@" are allowed, so e-mail addresses work.
//   - Agent ids and top-level metadata keys (ValidateAgentID,
//     ValidateMetadataKey): the session-id rules, and no "." anywhere and no
//     leading "$", because they become document field names.
//   - Message ids (ValidateMessageID): 0 or more.
//   - Values: whatever Normalize accepts; NaN and infinities, invalid UTF-8,
//     unsigned integers above MaxInt64, structs, channels and nesting deeper
//     than 200 levels are rejected with ErrInvalidArgument naming the path
//     ("state.items[3]").
//   - Times: zero means now; stored in UTC at microsecond precision
//     (UTCMicro), as Python writes them.
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
// MarshalStrandsSession, MarshalStrandsAgent and MarshalStrandsMessage write
// session.json, agent.json and message_<N>.json byte for byte as the Strands
// Python SDK's FileSessionManager and S3SessionManager write them
// (json.dump(indent=2, ensure_ascii=False)): two-space indent, no trailing
// newline, only '"', '\\' and characters below U+0020 escaped (never "<",
// "&" or U+2028), Python float formatting (PythonFloat: 1.0, 1e+16,
// 1.5e-05), timestamps as datetime.isoformat() in UTC (FormatPythonTime),
// and []byte values as {"__bytes_encoded__": true, "data": "<base64>"} —
// in agent state too, as later Strands versions write them. The Unmarshal
// functions read those files back, ignoring unknown keys, and reject
// malformed ones with ErrInvalidArgument naming the field.
//
// Key order: record fields, message dicts (role, content, metadata, then
// other keys), conversation-manager state (including Summarizing's
// summary_message first), interrupt state, tool-use and tool-result blocks,
// media blocks and usage metrics are written in the order the SDK writes
// them. Other dicts — agent state, model state, tool input, unknown keys —
// lose their insertion order in Go maps and are written with sorted keys.
// Python reads these files by key, so the result is JSON-equivalent to
// what Strands writes and byte-identical whenever the free-form dicts are
// sorted. Integers beyond int64 are read as floats, and NaN and infinities,
// which Python would write, are refused.
//
// MarshalValueJSON and UnmarshalValueJSON are the compact form of the same
// value encoding, for backends that store values as JSON text.
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
