// Package sqlite is sessionkit's embedded default backend: a
// session.Repository in one SQLite database file, pure Go
// (modernc.org/sqlite, no cgo). Importing it registers the "sqlite" URL
// scheme with session.Open:
//
//	sqlite:///var/lib/sessionkit                  absolute directory
//	sqlite://./data?max_session_bytes=16777216    relative directory, options
//
// Only this package imports modernc.org/sqlite: a program that imports just
// another backend does not compile SQLite in.
//
// # File layout
//
// Open(ctx, dir, opts) keeps everything in dir/sessionkit.db (plus SQLite's
// -wal and -shm files), creating dir with mode 0700 and the file with mode
// 0600. Tables:
//
//	sessions          one row per session; size_bytes tracks its stored size
//	session_metadata  one row per (session, key), value in canonical JSON
//	agents            one row per (session, agent); message_count is the
//	                  next message id, so CountMessages reads one row
//	messages          one row per (session, agent, message id)
//	feedback          one row per feedback, in insertion order
//	guardrail_events  the session-level guardrail audit trail
//	multi_agents      one row per (session, orchestrator), the Graph or
//	                  Swarm state in canonical JSON (schema version 2)
//
// Every child table references its parent with ON DELETE CASCADE, so
// DeleteSession is one DELETE. Free-form values (state, content blocks,
// metadata) are encoded with driver.MarshalValueJSON: integers stay
// integers and []byte round-trips. Metadata is a table rather than a JSON
// column so that UpdateMetadata and DeleteMetadata touch only the named
// rows, with no read-modify-write of a document, and metadata filters in
// ListSessions are primary-key lookups. Times are INTEGER Unix
// microseconds, UTC.
//
// # Concurrency model
//
// The file is in WAL mode: readers see a consistent snapshot and never block
// the writer, nor wait for it. Reads run in deferred read-only transactions
// on a bounded pool (Options.MaxReadConns). Writes run in BEGIN IMMEDIATE
// transactions on one dedicated connection: in-process writers queue for it
// in order, and a writer in another process waits for the file lock up to
// Options.BusyTimeout (ending early when ctx is done); a transaction that
// still meets SQLITE_BUSY is retried from the start at most
// Options.MaxBusyRetries times. Every check-then-write (dense message ids,
// existence, size limit) happens inside that one transaction, so it is
// atomic across goroutines and across processes sharing the file.
//
// Message ids are dense by construction twice over: CreateMessage compares
// the id with the agent's message_count inside the transaction, and the
// schema has a trigger that rejects any insert whose id is not the count and
// bumps the count in the same statement. Appending and reading the last page
// are primary-key operations whose cost does not grow with the history.
//
// # Migrations
//
// The schema version lives in PRAGMA user_version and sessionkit's mark in
// PRAGMA application_id. Open applies the pending forward migrations in one
// IMMEDIATE transaction, so processes opening the file together apply each
// exactly once. A file written by a newer version fails with ErrSchemaTooNew
// and is left untouched; a SQLite file of another application fails with
// ErrNotSessionkit.
package sqlite
