package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrSchemaTooNew reports a database file whose schema version is newer
// than this package knows: it was written by a newer sessionkit. Open
// refuses it rather than risk corrupting it.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this version supports")

// ErrNotSessionkit reports a database file that belongs to another
// application (its PRAGMA application_id is not sessionkit's).
var ErrNotSessionkit = errors.New("sqlite: database file does not belong to sessionkit")

// applicationID marks sessionkit files in the SQLite header ("SKIT").
const applicationID = 0x534b4954

// SchemaVersion returns the schema version this package writes, stored in
// the file's PRAGMA user_version.
func SchemaVersion() int { return len(migrations) }

// migrations[i] upgrades a database from version i to i+1. Entries are
// append-only: a released migration never changes, a new schema change is
// a new entry.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE sessions (
	id                   TEXT    NOT NULL PRIMARY KEY,
	type                 TEXT    NOT NULL,
	application_name     TEXT    NOT NULL,
	viewer_password_hash TEXT    NOT NULL,
	created_at           INTEGER NOT NULL, -- Unix microseconds, UTC
	updated_at           INTEGER NOT NULL,
	size_bytes           INTEGER NOT NULL DEFAULT 0 CHECK (size_bytes >= 0)
) WITHOUT ROWID;
CREATE INDEX sessions_newest_first ON sessions (created_at DESC, id DESC);
CREATE INDEX sessions_by_application ON sessions (application_name, created_at DESC, id DESC);

CREATE TABLE session_metadata (
	session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	key        TEXT    NOT NULL,
	value      TEXT    NOT NULL, -- session.MarshalValueJSON
	size_bytes INTEGER NOT NULL,
	PRIMARY KEY (session_id, key)
) WITHOUT ROWID;

CREATE TABLE agents (
	session_id                 TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	id                         TEXT    NOT NULL,
	state                      TEXT, -- JSON, NULL for a nil map
	conversation_manager_state TEXT,
	internal_state             TEXT,
	config                     TEXT    NOT NULL,
	message_count              INTEGER NOT NULL DEFAULT 0 CHECK (message_count >= 0),
	size_bytes                 INTEGER NOT NULL,
	created_at                 INTEGER NOT NULL,
	updated_at                 INTEGER NOT NULL,
	PRIMARY KEY (session_id, id)
) WITHOUT ROWID;

CREATE TABLE messages (
	session_id         TEXT    NOT NULL,
	agent_id           TEXT    NOT NULL,
	message_id         INTEGER NOT NULL CHECK (message_id >= 0),
	message            TEXT    NOT NULL,
	redact_message     TEXT,
	event_loop_metrics TEXT,
	guardrail_event    TEXT,
	size_bytes         INTEGER NOT NULL,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	PRIMARY KEY (session_id, agent_id, message_id),
	FOREIGN KEY (session_id, agent_id) REFERENCES agents (session_id, id) ON DELETE CASCADE
);

-- Dense ids are a property of the schema, not only of the Go code: a row
-- is accepted only with the id equal to the agent's message count, and the
-- count moves with the insert in the same statement.
CREATE TRIGGER messages_dense_ids BEFORE INSERT ON messages
WHEN NEW.message_id IS NOT (SELECT message_count FROM agents WHERE session_id = NEW.session_id AND id = NEW.agent_id)
BEGIN
	SELECT RAISE(ABORT, 'sessionkit: message id is not the next dense id');
END;
CREATE TRIGGER messages_count AFTER INSERT ON messages
BEGIN
	UPDATE agents SET message_count = message_count + 1
	WHERE session_id = NEW.session_id AND id = NEW.agent_id;
END;

CREATE TABLE feedback (
	seq         INTEGER PRIMARY KEY,
	session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	feedback_id TEXT    NOT NULL,
	rating      TEXT    NOT NULL,
	comment     TEXT    NOT NULL,
	agent_id    TEXT    NOT NULL,
	message_id  INTEGER,
	extra       TEXT,
	size_bytes  INTEGER NOT NULL,
	created_at  INTEGER NOT NULL
);
CREATE INDEX feedback_by_session ON feedback (session_id, seq);

CREATE TABLE guardrail_events (
	seq                INTEGER PRIMARY KEY,
	session_id         TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	agent_id           TEXT    NOT NULL,
	message_id         INTEGER NOT NULL,
	action             TEXT    NOT NULL,
	timestamp          INTEGER NOT NULL,
	stop_reason        TEXT    NOT NULL,
	policies_triggered TEXT,
	size_bytes         INTEGER NOT NULL
);
CREATE INDEX guardrail_events_by_session ON guardrail_events (session_id, seq);
`,
	apiKeysSchema, // 2: per-application API keys (apikeys.go)
	// 3: Graph and Swarm orchestrator state (multiagent.go).
	`
CREATE TABLE multi_agents (
	session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	id         TEXT    NOT NULL,
	state      TEXT    NOT NULL, -- session.MarshalValueJSON of an object
	size_bytes INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (session_id, id)
) WITHOUT ROWID;
`,
	snapshotsSchema, // 4: snapshot store (snapshots.go)
	expirySchema,    // 5: session expiry (expiry.go)
	forkSchema,      // 6: fork lineage (fork.go)
}

// migrate brings db up to len(steps) in one IMMEDIATE transaction, so that
// processes opening the same file at once apply each step exactly once. A
// file at a higher version fails with ErrSchemaTooNew and is not modified.
func migrate(ctx context.Context, db *sql.DB, steps []string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	var appID, version int
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("read application_id: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read user_version: %w", err)
	}
	if appID != 0 && appID != applicationID {
		return fmt.Errorf("%w: application_id is %#x", ErrNotSessionkit, appID)
	}
	if appID == 0 && version == 0 {
		var objects int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
			return fmt.Errorf("inspect schema: %w", err)
		}
		if objects > 0 {
			return fmt.Errorf("%w: it holds %d tables or indexes but no sessionkit schema version", ErrNotSessionkit, objects)
		}
	}
	if version > len(steps) {
		return fmt.Errorf("%w: file is at schema version %d, this version of sessionkit knows up to %d; upgrade sessionkit",
			ErrSchemaTooNew, version, len(steps))
	}
	if version == len(steps) {
		return nil
	}
	for v := version; v < len(steps); v++ {
		if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no bound parameters; both values are integers we own.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(steps))); err != nil {
		return fmt.Errorf("set user_version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return fmt.Errorf("set application_id: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration to version %d: %w", len(steps), err)
	}
	return nil
}
