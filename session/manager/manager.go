package manager

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Errors the manager reports on top of the repository's.
var (
	// ErrAgentInitialized reports a second Initialize of an agent id on one
	// Manager: like Strands, an agent id must be unique within a session
	// manager, so that two in-process handles never race on one log.
	ErrAgentInitialized = errors.New("agent id already initialized on this manager")
	// ErrManagerClosed reports a call on a Manager after Close.
	ErrManagerClosed = errors.New("session manager closed")
)

// Defaults used by New for zero Options fields.
const (
	DefaultMaxAppendRetries = 8
	DefaultRetryBackoff     = time.Millisecond
	maxRetryBackoff         = 50 * time.Millisecond
)

// Options configures a Manager. The zero value is useful: every field has a
// documented default.
type Options struct {
	// ApplicationName tags a session this manager creates. An existing
	// session keeps its stored name.
	ApplicationName string
	// MetadataFields are metadata keys pre-filled with "" on a session this
	// manager creates (the Python original's metadata_fields).
	MetadataFields []string
	// Hooks are middleware run, in order, around metadata, feedback, append
	// and redact operations.
	Hooks []Hook
	// MaxAppendRetries bounds how many times an append re-reads the message
	// count and retries after losing a race (session.ErrConflict) before
	// returning the error. Zero means DefaultMaxAppendRetries; negative
	// means no retry. It applies only to repositories that are not a
	// session.MessageAppender: those assign the id themselves and never
	// lose a race.
	MaxAppendRetries int
	// RetryBackoff is the base of the jittered exponential pause between
	// append retries (capped at 50ms). Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// Now is the clock; nil means time.Now. Tests fix it.
	Now func() time.Time
	// CloseRepository makes Close close the repository too. Leave it false
	// when the repository is shared with other managers.
	CloseRepository bool
	// Retention, when set, is the application's default retention: a
	// session this manager creates expires that long after its creation
	// (session.ExpiryStore). Zero means no expiry; negative is
	// session.ErrInvalidArgument naming "retention".
	Retention time.Duration
}

// Manager is the session manager for one session over any
// session.Repository: the Go equivalent of Strands'
// RepositorySessionManager plus the Python original's MongoDBSessionManager
// extras (metadata, feedback, agent configuration, guardrail audit,
// event-loop metrics). It is safe for concurrent use. It starts no
// goroutines.
type Manager struct {
	repo      session.Repository
	sessionID string
	opts      Options
	run       Next

	mu             sync.Mutex
	sess           *session.Session
	isNew          bool // created here and no agent initialized yet: skip the agent read
	created        bool
	viewerPassword string
	agents         map[string]*AgentSession
	closed         bool
}

// New returns the manager of session sessionID, creating the session when it
// does not exist: one GetSession, plus one CreateSession for a new session.
// When two managers start the same new session at once, the one whose
// create loses (session.ErrAlreadyExists) reads the winner's session instead.
// A session this manager creates gets a fresh viewer password; only its hash
// is stored and TakeViewerPassword hands the plaintext to the creator.
func New(ctx context.Context, repo session.Repository, sessionID string, opts Options) (*Manager, error) {
	m, err := newManager(repo, sessionID, opts)
	if err != nil {
		return nil, err
	}
	opts = m.opts
	if opts.Retention < 0 {
		return nil, driver.InvalidArgument("retention", "must be positive, got %s", opts.Retention)
	}
	s, err := repo.GetSession(ctx, sessionID)
	switch {
	case err == nil:
		m.sess = s
		return m, nil
	case !errors.Is(err, session.ErrNotFound):
		return nil, fmt.Errorf("session manager: %w", err)
	}
	password := driver.NewViewerPassword()
	now := driver.UTCMicro(opts.Now())
	md := map[string]any{}
	for _, k := range opts.MetadataFields {
		md[k] = ""
	}
	fresh := &session.Session{
		ID:                 sessionID,
		Type:               session.TypeAgent,
		ApplicationName:    opts.ApplicationName,
		Metadata:           md,
		ViewerPasswordHash: driver.HashViewerPassword(password),
		CreatedAt:          now,
		UpdatedAt:          now,
	}
	if opts.Retention > 0 {
		if fresh.ExpiresAt, err = session.ExpiryAfter(now, opts.Retention); err != nil {
			return nil, err
		}
	}
	err = repo.CreateSession(ctx, fresh)
	switch {
	case err == nil:
		m.sess, m.isNew, m.created, m.viewerPassword = fresh, true, true, password
		return m, nil
	case !errors.Is(err, session.ErrAlreadyExists):
		return nil, fmt.Errorf("session manager: %w", err)
	}
	// Someone else created it between our read and our create: use theirs.
	if m.sess, err = repo.GetSession(ctx, sessionID); err != nil {
		return nil, fmt.Errorf("session manager: %w", err)
	}
	return m, nil
}

// Open returns the manager of the existing session sessionID: one
// GetSession, and session.ErrNotFound when there is none. Unlike New it
// never creates the session, so a caller that must not bring a deleted
// session back (a server's write routes) opens it with Open.
func Open(ctx context.Context, repo session.Repository, sessionID string, opts Options) (*Manager, error) {
	m, err := newManager(repo, sessionID, opts)
	if err != nil {
		return nil, err
	}
	s, err := repo.GetSession(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("session manager: %w", err)
	}
	m.sess = s
	return m, nil
}

// OpenSession returns the manager of session s, which the caller has just
// read from repo (for example to authorize the request), without reading it
// again. It never creates a session: if s has been deleted since, writes
// through the manager fail with session.ErrNotFound.
func OpenSession(repo session.Repository, s *session.Session, opts Options) (*Manager, error) {
	if s == nil {
		return nil, driver.InvalidArgument("session", "is nil")
	}
	m, err := newManager(repo, s.ID, opts)
	if err != nil {
		return nil, err
	}
	m.sess = s.Clone()
	return m, nil
}

// newManager checks repo and opts, fills opts' defaults and returns a
// manager of sessionID with no session read yet.
func newManager(repo session.Repository, sessionID string, opts Options) (*Manager, error) {
	if repo == nil {
		return nil, driver.InvalidArgument("repository", "is nil")
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	for _, k := range opts.MetadataFields {
		if err := driver.ValidateMetadataKey(k); err != nil {
			return nil, fmt.Errorf("metadata fields: %w", err)
		}
	}
	if opts.MaxAppendRetries == 0 {
		opts.MaxAppendRetries = DefaultMaxAppendRetries
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Hooks = append([]Hook(nil), opts.Hooks...)
	m := &Manager{repo: repo, sessionID: sessionID, opts: opts, agents: map[string]*AgentSession{}}
	m.run = chain(opts.Hooks, m.perform)
	return m, nil
}

// SessionID returns the id of the managed session.
func (m *Manager) SessionID() string { return m.sessionID }

// Session returns a copy of the session as read or created by New.
func (m *Manager) Session() *session.Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sess.Clone()
	out.ViewerPasswordHash = ""
	return out
}

// ApplicationName returns the session's stored application name, which is
// set at creation and never changes.
func (m *Manager) ApplicationName() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sess.ApplicationName
}

// Created reports whether this manager created the session.
func (m *Manager) Created() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.created
}

// TakeViewerPassword returns the plaintext session-viewer password of a
// session this manager created, exactly once: later calls, and managers that
// resumed an existing session, get ok == false. Only its hash is stored.
func (m *Manager) TakeViewerPassword() (password string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	password, m.viewerPassword = m.viewerPassword, ""
	return password, password != ""
}

// Close marks the manager closed (later calls return ErrManagerClosed) and,
// with Options.CloseRepository, closes the repository. It is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.viewerPassword = ""
	m.mu.Unlock()
	if m.opts.CloseRepository {
		return m.repo.Close()
	}
	return nil
}

func (m *Manager) checkOpen() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrManagerClosed
	}
	return nil
}

// backoff sleeps before retry attempt n (0-based): a uniformly jittered
// pause in [0, base·2^n), capped, so that racing writers spread out.
func (m *Manager) backoff(ctx context.Context, n int) error {
	d := m.opts.RetryBackoff << min(n, 16)
	if d <= 0 || d > maxRetryBackoff {
		d = maxRetryBackoff
	}
	t := time.NewTimer(rand.N(d) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (m *Manager) now() time.Time { return driver.UTCMicro(m.opts.Now()) }
