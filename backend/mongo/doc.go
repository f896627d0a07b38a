// Package mongo is sessionkit's MongoDB backend (go.mongodb.org/mongo-driver/v2).
// It stores sessions exactly as the Python "MongoDB Session Manager" does, so
// the two can share a collection: documents the original wrote are read,
// resumed and appended to here, and what this package writes is readable by
// the original. Importing it registers the "mongodb" and "mongodb+srv" URL
// schemes with session.Open.
//
// # Document layout
//
// One document per session: _id = session_id, session_id, session_type,
// application_name, session_viewer_password (new documents hold the salted
// hash from driver.HashViewerPassword, never the plaintext; old plaintext
// values still verify), BSON-date created_at/updated_at,
// agents.<agent_id>.{agent_data, messages, created_at, updated_at}, message
// elements {message, message_id, redact_message, created_at, updated_at,
// event_loop_metrics?, guardrail_event?}, metadata (Options.MetadataFields
// pre-filled with ""), feedbacks and guardrail_events. Binary content is BSON
// binary (subtype 0). This package adds, where the original's reader ignores
// them: schema_version (root, for later migrations), doc_size (root, an upper
// bound of the document's size), agent_ids (root, the ids of the agents this
// package created, for ListAgents), agents.<id>.message_count (the message
// count as this package last wrote it), multi_agents.<id>.{state,
// created_at, updated_at} (Graph and Swarm state, session.MultiAgentStore;
// one conditional update per write, one projected find per read),
// forked_from {session_id, agent_id, message_id, at} (root, a fork's
// lineage, session.Forker; see fork.go), snapshot_epoch (root, set by a
// session's first snapshot: which holder of the id snapshots belong to; see
// snapshots.go) and
// feedback_id/agent_id/message_id on feedback entries. Nothing is ever added inside agent_data or a message
// element, where the original breaks on unknown keys. Documents without the
// added fields are repaired lazily by the first write that needs them.
//
// # Sharing a collection with the Python original
//
// Python agents may keep running on the original while sessionkit serves
// the API, the viewer and Go agents on the same documents: the original
// updates them with its own $push/$set documents and maintains none of the
// added fields. So correctness never depends on them; each is a hint,
// verified or healed as follows.
//
//   - message_count is never trusted. The dense-id rule is stated on the
//     messages array itself: CreateMessage's (and AppendMessage's) filter
//     requires the array to hold exactly id elements ($size) and no element
//     to hold id already ($nor), and its update sets message_count to id+1,
//     healing a count the original's $push left stale. CountMessages counts
//     the array ($size in an aggregate, or a projection of the ids on
//     FerretDB). ListMessages slices the array by position, and GetMessage,
//     UpdateMessage and RecordGuardrailEvent address the element at the
//     id's position guarded by its message_id, falling back to the first
//     element holding the id (the original's own rule) when that guard
//     fails — one extra read, only on an agent with non-dense ids.
//   - doc_size, the size bound of the 16 MiB guard, is a lower bound after
//     a foreign write. The guard keeps 256 KiB of headroom under the server's
//     hard limit, and the server refuses a write past 16 MiB in any case; a
//     write that fails the guard re-measures the document exactly.
//   - agent_ids only narrows what ListAgents transfers; an agent the
//     original added is still listed.
//
// What the original writes is kept: sessionkit never replaces agent_data
// (its model, system_prompt and prompt_metadata survive), nor a message
// element (its event_loop_metrics and guardrail_event survive), nor
// metadata, feedbacks or guardrail_events. What sessionkit cannot prevent
// is the original racing itself — two of its processes on one agent, or one
// appending from a stale in-memory id — which leaves duplicate or missing
// ids. Such an agent is read in full without error and no later sessionkit
// write makes it worse: an append goes to the next position, and one whose
// id is already taken fails with *session.MessageIDReport
// (session.ErrMessageIDs) writing nothing. CheckMessages reports the
// condition, and RenumberMessages (`sessionkit check --repair`) renumbers
// the agent in array order.
//
// Free-form maps (content blocks, state, metadata values, traces) may hold
// keys with "." or a leading "$" (tool inputs, JSON schemas). FerretDB
// rejects them as field names, so such keys — and only those — are stored
// escaped: U+FFF0 followed by the key with "%", "." and "$" percent-encoded.
// Reads reverse it. Values read back are canonical (see driver.Normalize):
// int32/int64 → int64, double → float64, binary → []byte, null → nil,
// decimal128 → string, and a BSON date inside free-form data → its RFC 3339
// UTC string with milliseconds. Times are kept at millisecond precision.
//
// # Round trips
//
// Every write is one conditional update whose filter carries its
// preconditions, so it is atomic on MongoDB and costs one round trip:
// CreateMessage filters on the array's length and ids (see above) and
// $push-es the element while setting message_count and growing doc_size;
// AppendMessage is the same update with the id guessed from what this
// process last saw of the agent (one round trip when it wrote or read the
// agent last, two on its first append, a retry when another writer
// appended first; MongoDB's pipeline updates could compute the id on the
// server, but mongo-java-server and FerretDB have none); UpdateAgent
// $set-s agent_data.state, .conversation_manager_state, ._internal_state
// and the timestamps (never agent_data as a whole, which lost the
// configuration in the original); GetAgent projects the agent without its
// messages; ListMessages uses a $slice projection; CountMessages is one
// aggregate. Only a write whose filter fails reads again, to tell
// ErrNotFound from ErrConflict, ErrTooLarge or ErrMessageIDs.
//
// ListAgents never transfers message arrays. Where the server has
// aggregation ($objectToArray, $map: MongoDB, mongo-java-server) it is one
// aggregate mapping each agent to its agent_data and timestamps. FerretDB
// v1 has neither, so there it reads the root agent_ids list and then the
// session with an exclusion projection of agents.<id>.messages for those
// ids: two round trips, but bytes in proportion to the agents instead of
// their histories (measured: about 1 KB for two agents holding 60 KB of
// messages, where one unprojected read would move all 60 KB). The answer
// never depends on agent_ids being complete: an agent the Python original
// added is still listed, only with its messages transferred.
//
// Measured per operation (tests in internal/mongotest): one round trip for
// every operation on MongoDB-compatible servers; on FerretDB UpdateAgent,
// UpdateAgentConfig, UpdateMessage with metrics, and UpdateMetadata with
// document values add one read (see Capabilities.ExactDocumentSet), and
// ListAgents takes two. A four-message Strands tool turn through
// session/manager costs 6 round trips on mongo-java-server and 8 on FerretDB.
//
// # Servers and capabilities
//
// The server is probed once per client with buildInfo. MongoDB, Atlas and
// mongo-java-server get the fast paths ($slice projections, aggregation).
// FerretDB v1 (buildInfo.ferretdbVersion) lacks them, loses concurrent
// updates to one document, and skips a $set of a document that differs
// only in field names; there the package slices messages in Go, counts
// them from a projection of their ids, reads before document-valued
// $set-s, and serializes writes per session inside the
// process, holding a session's lock until the server has answered even when
// the caller's context ends first (the caller gets its context's error at
// once; the write finishes within Options.OperationTimeout and Close waits
// for it). Two processes must not share one FerretDB. Options.Capabilities
// forces a capability set.
//
// # The 16 MiB wall
//
// doc_size is an upper bound of the document's BSON size, grown by every
// write in the same update. A write's filter requires doc_size + growth <=
// Options.MaxDocumentBytes (default 16 MiB minus 256 KiB); when it fails the
// document is measured exactly once and the bound corrected, and only a
// write that still does not fit returns session.ErrTooLarge, naming the
// session, with nothing written. Sessions seen past Options.WarnDocumentBytes
// are reported by Stats ("mongo_sessions_over_warning") and
// SessionsOverWarning. The layout sits behind an internal interface so that
// a second layout (messages in their own collection) can be added without
// touching callers.
//
// # Indexes
//
// Created once per process, collection and client (not per repository):
// created_at, updated_at, session_id and application_name as in the original
// (listing by age and by application); (application_name, created_at -1) for
// ListSessions filtered by application, newest first; metadata.<field> for
// each configured metadata field, for lookups by those fields; expires_at
// for the expiry sweeper, a TTL index where the server has them (see
// expiry.go and TTLGrace). _id serves every per-session operation.
//
// # Production
//
// Sharding: shard the collection on {_id: "hashed"}. Every operation but
// ListSessions targets one _id, so writes spread evenly over shards; listing
// is a scatter-gather, acceptable for admin use.
//
// Read preference and write concern: keep the default primary reads for the
// session path (an agent resumes from what it just wrote); use
// secondaryPreferred only for analytics listings. Use w: "majority" (Atlas'
// default) so an acknowledged message survives a failover; retryWrites stays
// on (each write is a single-document update and safe to retry, the
// dense-id filter turning a replayed CreateMessage into ErrConflict at
// worst).
//
// Connection budget per instance (PoolOptions; the server's limit divided
// by the number of instances is the ceiling):
//
//	workload                         maxPoolSize  minPoolSize  maxIdleTime
//	Lambda / serverless function      10           2            60 s
//	small service (< 100 req/s)       20           5            30 s
//	default (the original's)          100          10           30 s
//	high concurrency (> 1k req/s)     200          20           45 s
//
// Driver v2 has no waitQueueTimeoutMS and no socketTimeoutMS: the
// operation's context (or PoolOptions.Timeout / Options.OperationTimeout,
// 30 s by default, when it has no deadline) bounds the wait for a pooled
// connection and the whole operation.
//
// Lambda: create the factory once per container (InitDefaultFactory in
// init or the first invocation), never per invocation; use maxPoolSize 10,
// minPoolSize 0–2 and a serverSelectionTimeout shorter than the function's
// timeout; a repository per invocation from DefaultFactory is free.
//
// # Clients and factories
//
// Open takes a reference on a process-wide shared client (one per
// connection string and PoolOptions); Close gives it back, and the client is
// disconnected only when its last holder closes — closing one user never
// breaks another (the original's B12). New borrows a caller-owned client and
// never disconnects it. A Factory creates repositories per request with
// per-call database, collection and metadata-field overrides; Stats reports
// the driver's live pool and command statistics, never a credential.
package mongo
