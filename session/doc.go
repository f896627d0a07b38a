// Package session is sessionkit's storage contract for AI-agent
// conversations: the types (Session, Agent, Message, Feedback, guardrail
// events), the Repository interface every backend implements, the typed
// errors they report, the input rules they enforce, the Strands-compatible
// JSON codec, and the URL registry that picks a backend by configuration.
//
// # Backends
//
// Backends live in their own packages and register a URL scheme when
// imported: backend/memory ("memory://"), backend/sqlite ("sqlite://"),
// backend/mongo ("mongodb://", "mongodb+srv://"). backend/rediscache wraps
// any of them with a Redis read-through cache ("?cache=redis://..."). The
// conformance package holds the test suite they all pass.
//
// # Errors
//
// Every Repository method reports failures as errors that match one of
// ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalidArgument, ErrTooLarge
// or ErrClosed under errors.Is, wrapped with the ids concerned.
//
// # Message ids
//
// Message ids are dense per agent: 0, 1, 2, ... CreateMessage of id N
// succeeds only when the agent holds exactly N messages, so concurrent
// writers can never duplicate an id or lose a message: the loser gets
// ErrConflict, re-reads CountMessages and retries.
package session
