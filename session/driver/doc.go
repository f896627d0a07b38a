// Package driver is for backend authors: the helpers every sessionkit
// backend uses to enforce the session package's contract identically, and
// the fast paths a portable layer (the session manager) uses to avoid doing
// the same work twice. Programs that only store and read conversations use
// package session; this package is to session what gocloud's
// docstore/driver is to docstore.
//
// # Validation happens once, on the way in
//
// Every Repository method validates and normalizes what it is given before
// writing anything, with the Prepare helpers (PrepareSession, PrepareAgent,
// PrepareMessage, PrepareFeedback, PrepareMetadata, PrepareMetadataKeys,
// PrepareGuardrailEvent, PrepareQuery, ...) and the Validate helpers for ids:
// users and the HTTP API call repositories directly with values nobody has
// checked, so a repository never trusts its input. A Prepare helper returns
// a normalized deep copy sharing nothing with the caller.
//
// A portable layer that has already prepared a message — the session
// manager, on every append — does not pay for that twice: it makes a
// PreparedMessage (NewPreparedMessage validates once) and hands it to a
// repository that is a PreparedAppender, which stores it without a second
// check. Only NewPreparedMessage makes a PreparedMessage, so the fast path
// cannot carry unchecked input. The decorators forward it (backend/rediscache
// and internal/faultinject pass a prepared message on to a wrapped
// PreparedAppender); repositories without it get the message through
// MessageAppender and validate it again.
//
// # Stored values are immutable
//
// A repository replaces a stored record instead of changing it in place.
// So what it stored may be shared with the layer that prepared it, and a
// store that keeps values in memory may lend them out without a copy
// (SharedMessageLister) to a caller that only reads them. Every value
// handed to a caller who may change it — everything the Repository methods
// return — is one deep copy made for that caller; the session manager hands
// its own callers one copy (AgentSession.Messages) of what it loaded
// without one.
//
// # Values
//
// Free-form values (state, metadata, content blocks, tool input) are stored
// in the canonical form Normalize produces; CloneMap and CloneValue copy
// them, ValueSize estimates their size for limits, MarshalValueJSON and
// UnmarshalValueJSON are their compact JSON text, for backends that store
// JSON. MarshalStrandsSession, MarshalStrandsAgent, MarshalStrandsMessage
// and MarshalStrandsMultiAgent (with their Unmarshal counterparts) write and
// read the files the Strands Python SDK's FileSessionManager writes, byte
// for byte (Python float and time formatting: PythonFloat,
// FormatPythonTime).
//
// # Errors
//
// InvalidArgument makes the *session.FieldError every input error is;
// SessionError, AgentError, MessageError, MultiAgentError and SnapshotError
// wrap an error with the ids it concerns, keeping its kind for errors.Is.
package driver
