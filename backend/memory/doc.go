// Package memory is the in-memory reference implementation of
// session.Repository: the backend the conformance suite is written against,
// and the one to use in tests and single-process tools.
//
// # Semantics
//
// Everything the session contract promises holds here exactly: typed errors,
// dense per-agent message ids with ErrConflict for a gap or a taken id,
// validation through the session.Prepare* helpers so that bad input is
// rejected before anything is written, and deep copies in both directions —
// mutating an argument after a call, or a returned value, never changes the
// store.
//
// # Concurrency
//
// A Repository is safe for concurrent use. One read-write mutex guards the
// whole store; inputs are validated and copied before it is taken, so the
// critical sections are short map and slice operations.
//
// # Limits
//
// Options.MaxSessions caps the number of sessions and Options.MaxSessionBytes
// the estimated size (driver.ValueSize) of one session's data. A write over
// either returns session.ErrTooLarge and writes nothing.
//
// # URLs
//
// Importing the package registers the "memory" scheme with session.Open:
//
//	memory://
//	memory://?max_sessions=10000&max_session_bytes=16777216
//
// Data lives as long as the Repository; Close drops it.
package memory
