package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// DefaultFileName is the database file Open uses inside its directory when
// Options.FileName is empty.
const DefaultFileName = "sessionkit.db"

// Defaults applied by Open to zero Options fields.
const (
	DefaultMaxReadConns   = 4
	DefaultBusyTimeout    = 5 * time.Second
	DefaultMaxBusyRetries = 3
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// FileName is the database file inside the directory (DefaultFileName
	// when empty). It must be a plain name, not a path.
	FileName string
	// MaxSessionBytes caps the stored size of one session: its metadata,
	// agents, messages, feedback and guardrail events, measured as the bytes
	// of their encoded columns and tracked incrementally on the session row.
	// A write that would grow a session past it fails with
	// session.ErrTooLarge and writes nothing. 0 means unlimited.
	MaxSessionBytes int64
	// MaxSnapshotBytes caps one snapshot (PutSnapshot); 0 means
	// session.DefaultMaxSnapshotBytes. Snapshots also count towards
	// MaxSessionBytes.
	MaxSnapshotBytes int64
	// MaxReadConns bounds the pool of read connections (DefaultMaxReadConns
	// when 0). Writes use one dedicated connection: SQLite admits a single
	// writer per file, so in-process writers queue on it in order instead of
	// spinning on the file lock.
	MaxReadConns int
	// BusyTimeout is how long one statement waits for a lock held by another
	// process before SQLite reports SQLITE_BUSY (DefaultBusyTimeout when 0).
	// The wait also ends when the call's context is done.
	BusyTimeout time.Duration
	// MaxBusyRetries is how many times a transaction that still got
	// SQLITE_BUSY after BusyTimeout is retried from the start
	// (DefaultMaxBusyRetries when 0; negative means no retry).
	MaxBusyRetries int
	// Now is the clock (time.Now when nil). Tests fix it.
	Now func() time.Time
	// NewID makes feedback ids (driver.NewID when nil).
	NewID func() string
	// Sweep configures the expiry sweeper, a goroutine started by Open and
	// stopped by Close that removes expired sessions in bounded batches
	// (Sweep.Interval < 0 disables it; see expiry.go).
	Sweep session.SweeperOptions
}

func (o Options) withDefaults() (Options, error) {
	if o.FileName == "" {
		o.FileName = DefaultFileName
	}
	if o.FileName != filepath.Base(o.FileName) || o.FileName == "." || o.FileName == ".." {
		return o, driver.InvalidArgument("file name", "%q must be a plain file name", o.FileName)
	}
	switch {
	case o.MaxSessionBytes < 0:
		return o, driver.InvalidArgument("max_session_bytes", "%d is negative", o.MaxSessionBytes)
	case o.MaxReadConns < 0:
		return o, driver.InvalidArgument("max_read_conns", "%d is negative", o.MaxReadConns)
	case o.BusyTimeout < 0:
		return o, driver.InvalidArgument("busy_timeout", "%s is negative", o.BusyTimeout)
	}
	if o.MaxReadConns == 0 {
		o.MaxReadConns = DefaultMaxReadConns
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.MaxBusyRetries == 0 {
		o.MaxBusyRetries = DefaultMaxBusyRetries
	} else if o.MaxBusyRetries < 0 {
		o.MaxBusyRetries = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = driver.NewID
	}
	return o, nil
}

// Repository is a session.Repository stored in one SQLite database file. It
// is safe for concurrent use by many goroutines and by many processes that
// open the same file.
type Repository struct {
	path   string
	opts   Options
	writer *sql.DB // one connection; transactions BEGIN IMMEDIATE
	reader *sql.DB // bounded pool; query_only; deferred read transactions

	wstmts, rstmts *stmtCache // hot statements prepared on writer and reader (stmts.go)

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool

	writes      atomic.Int64
	busyRetries atomic.Int64
	conflicts   atomic.Int64

	sweeper *driver.Sweeper // nil when disabled
}

var (
	_ session.Repository      = (*Repository)(nil)
	_ session.Pinger          = (*Repository)(nil)
	_ session.StatsReporter   = (*Repository)(nil)
	_ session.MessageAppender = (*Repository)(nil)

	_ driver.PreparedAppender    = (*Repository)(nil)
	_ driver.AgentMessageUpdater = (*Repository)(nil)
)

// Open opens (creating when missing) the database file opts.FileName in dir,
// creating dir with mode 0700 when it does not exist and the file with mode
// 0600, switches it to WAL mode and applies pending schema migrations. It
// fails with an error matching ErrSchemaTooNew when the file was written by
// a newer version of this package, and leaves such a file untouched.
func Open(ctx context.Context, dir string, opts Options) (*Repository, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, driver.InvalidArgument("dir", "must not be empty")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, opts.FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite: resolve path: %w", err)
	}
	// Create the file ourselves so that it (and the -wal and -shm files
	// SQLite derives from it) is private to the user.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}

	r := &Repository{path: abs, opts: opts}
	busyMs := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	r.writer, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_txlock":       {"immediate"},
		"_busy_timeout": {busyMs},
		"_journal_mode": {"WAL"},
		"_foreign_keys": {"1"},
		"_synchronous":  {"NORMAL"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	r.writer.SetMaxOpenConns(1)
	r.writer.SetMaxIdleConns(1)
	r.writer.SetConnMaxIdleTime(0)
	r.writer.SetConnMaxLifetime(0)

	if err := r.withBusyRetry(ctx, func() error { return migrate(ctx, r.writer, migrations) }); err != nil {
		_ = r.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	r.reader, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {busyMs},
		"_foreign_keys": {"1"},
		"_query_only":   {"1"},
	}))
	if err != nil {
		_ = r.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	r.reader.SetMaxOpenConns(opts.MaxReadConns)
	r.reader.SetMaxIdleConns(opts.MaxReadConns)
	if err := r.reader.PingContext(ctx); err != nil {
		_ = r.reader.Close()
		_ = r.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	if r.wstmts, err = newStmtCache(ctx, r.writer, writerStatements...); err == nil {
		if r.rstmts, err = newStmtCache(ctx, r.reader, readerStatements...); err != nil {
			_ = r.wstmts.close()
		}
	}
	if err != nil {
		_ = r.reader.Close()
		_ = r.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	r.sweeper = driver.StartSweeper(r.SweepExpired, opts.Sweep)
	return r, nil
}

// dsn builds a "file:" URI so that any byte in the path (including "?" and
// "#") reaches SQLite escaped, with the driver parameters as its query.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	return u.String()
}

// Path returns the absolute path of the database file.
func (r *Repository) Path() string { return r.path }

// Close closes the database. Calls after Close return session.ErrClosed;
// Close is idempotent. It stops the expiry sweeper (cancelling a pass in
// progress) and waits for it; database/sql closes idle connections and
// stops its opener goroutines before returning.
func (r *Repository) Close() error {
	r.closeOnce.Do(func() {
		r.sweeper.Close()
		r.closed.Store(true)
		errS := errors.Join(r.rstmts.close(), r.wstmts.close())
		errR := r.reader.Close()
		errW := r.writer.Close()
		if err := errors.Join(errS, errR, errW); err != nil {
			r.closeErr = fmt.Errorf("sqlite: close %s: %w", r.path, err)
		}
	})
	return r.closeErr
}

// Ping checks the database answers a query within ctx.
func (r *Repository) Ping(ctx context.Context) error {
	if r.closed.Load() {
		return fmt.Errorf("sqlite: ping: %w", session.ErrClosed)
	}
	var one int
	if err := r.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return r.dbErr("ping", err)
	}
	return nil
}

// Stats returns counters for /metrics: write transactions committed, busy
// retries, message-id conflicts, the connection pools' state and the
// expiry sweeper's progress.
func (r *Repository) Stats() map[string]float64 {
	w, rd := r.writer.Stats(), r.reader.Stats()
	out := r.sweeper.Stats()
	for k, v := range map[string]float64{
		"sqlite_write_transactions_total":  float64(r.writes.Load()),
		"sqlite_busy_retries_total":        float64(r.busyRetries.Load()),
		"sqlite_message_conflicts_total":   float64(r.conflicts.Load()),
		"sqlite_open_connections":          float64(w.OpenConnections + rd.OpenConnections),
		"sqlite_in_use_connections":        float64(w.InUse + rd.InUse),
		"sqlite_pool_waits_total":          float64(w.WaitCount + rd.WaitCount),
		"sqlite_pool_wait_seconds_total":   (w.WaitDuration + rd.WaitDuration).Seconds(),
		"sqlite_max_read_connections":      float64(rd.MaxOpenConnections),
		"sqlite_max_session_bytes":         float64(r.opts.MaxSessionBytes),
		"sqlite_write_pool_max_open_conns": float64(w.MaxOpenConnections),
	} {
		out[k] = v
	}
	return out
}

// now returns the injected clock's time at the precision stored.
func (r *Repository) now() time.Time { return driver.UTCMicro(r.opts.Now()) }

// write runs fn in a BEGIN IMMEDIATE transaction on the writer connection,
// committing when fn returns nil. A transaction that meets SQLITE_BUSY after
// the busy timeout is retried from the start, at most MaxBusyRetries times.
func (r *Repository) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if r.closed.Load() {
		return fmt.Errorf("sqlite %s: %w", op, session.ErrClosed)
	}
	err := r.withBusyRetry(ctx, func() error {
		tx, err := r.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return r.dbErr(op, err)
	}
	r.writes.Add(1)
	return nil
}

// read runs fn in a deferred read-only transaction, a consistent snapshot
// of the file (WAL readers never block writers nor wait for them).
func (r *Repository) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if r.closed.Load() {
		return fmt.Errorf("sqlite %s: %w", op, session.ErrClosed)
	}
	err := r.withBusyRetry(ctx, func() error {
		tx, err := r.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		return fn(tx)
	})
	if err != nil {
		return r.dbErr(op, err)
	}
	return nil
}

func (r *Repository) withBusyRetry(ctx context.Context, attempt func() error) error {
	backoff := 5 * time.Millisecond
	for i := 0; ; i++ {
		err := attempt()
		if err == nil || !isBusy(err) || i >= r.opts.MaxBusyRetries {
			return err
		}
		r.busyRetries.Add(1)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		backoff *= 4
	}
}

// dbErr wraps err with the operation, turning the errors of a closed pool
// into session.ErrClosed. Errors already of a session kind pass through
// with the operation prefixed.
func (r *Repository) dbErr(op string, err error) error {
	if r.closed.Load() && !isSessionKind(err) {
		return fmt.Errorf("sqlite %s: %w (%v)", op, session.ErrClosed, err)
	}
	return fmt.Errorf("sqlite %s: %w", op, err)
}

func isSessionKind(err error) bool {
	for _, k := range []error{session.ErrNotFound, session.ErrAlreadyExists, session.ErrConflict,
		session.ErrInvalidArgument, session.ErrTooLarge, session.ErrClosed} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

func isBusy(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// isConstraint reports a constraint violation (primary key, trigger RAISE).
func isConstraint(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
