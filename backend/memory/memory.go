package memory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Options configures a Repository. The zero value is useful: the real clock,
// random feedback ids and no limits.
type Options struct {
	// Now is the clock used for CreatedAt/UpdatedAt defaults. Default
	// time.Now.
	Now func() time.Time
	// NewID returns a fresh feedback id. Default: 16 random bytes in hex.
	NewID func() string
	// MaxSessions, if > 0, caps how many sessions the repository holds;
	// CreateSession beyond it returns session.ErrTooLarge.
	MaxSessions int
	// MaxSessionBytes, if > 0, caps the size of one session's stored data
	// (the session record, its agents, messages, feedback and guardrail
	// events) as estimated with driver.ValueSize. A write that would push a
	// session past it returns session.ErrTooLarge and writes nothing.
	MaxSessionBytes int
	// MaxSnapshotBytes, if > 0, caps one snapshot (PutSnapshot); default
	// session.DefaultMaxSnapshotBytes.
	MaxSnapshotBytes int64
	// Sweep configures the expiry sweeper (expiry.go), which starts with
	// the first session that carries an expiry.
	Sweep session.SweeperOptions
}

// Repository is an in-memory session.Repository. It is safe for concurrent
// use. Every value going in is validated and normalized with the
// session.Prepare* helpers (which deep-copy it), or was so already
// (AppendPrepared); stored records are immutable (a write replaces the
// record), and every value coming out is a deep copy, except for
// ListMessagesShared, so callers never share memory they may change with
// the store.
type Repository struct {
	opts Options

	mu       sync.RWMutex
	closed   bool
	sessions map[string]*sessionEntry
	messages int // total messages, for Stats

	keys apiKeyTable // API keys, apart from sessions (apikeys.go)

	sweep sweepState // the expiry sweeper (expiry.go)
}

// sessionEntry is everything stored under one session id.
type sessionEntry struct {
	record     *session.Session // includes Metadata
	agents     map[string]*agentEntry
	feedback   []*session.Feedback
	guardrails []*session.SessionGuardrailEvent
	multi      map[string]*session.MultiAgent // orchestrators (multiagent.go); nil until the first
	snaps      map[string]*snapshotEntry      // snapshots by normalized key (snapshots.go); nil until the first
	// size is the estimated stored size in bytes; maintained only when
	// Options.MaxSessionBytes > 0.
	size int
}

// agentEntry is one agent and its dense message log.
type agentEntry struct {
	record   *session.Agent
	messages []*session.Message
}

var (
	_ session.Repository      = (*Repository)(nil)
	_ session.Pinger          = (*Repository)(nil)
	_ session.StatsReporter   = (*Repository)(nil)
	_ session.MessageAppender = (*Repository)(nil)

	_ driver.PreparedAppender    = (*Repository)(nil)
	_ driver.SharedMessageLister = (*Repository)(nil)
)

// New returns an empty Repository configured by opts. Zero or negative
// limits mean no limit.
func New(opts Options) *Repository {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = randomID
	}
	return &Repository{opts: opts, sessions: map[string]*sessionEntry{}}
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error since Go 1.24.
	return hex.EncodeToString(b[:])
}

func (r *Repository) now() time.Time { return driver.UTCMicro(r.opts.Now()) }

// begin checks ctx before a call does any work.
func begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	return nil
}

var errClosed = fmt.Errorf("memory: %w", session.ErrClosed)

// lock takes the write lock and reports ErrClosed after Close. On success
// the caller must Unlock.
func (r *Repository) lock() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errClosed
	}
	return nil
}

// rlock is lock for readers.
func (r *Repository) rlock() error {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return errClosed
	}
	return nil
}

func (r *Repository) limited() bool { return r.opts.MaxSessionBytes > 0 }

// fits reports ErrTooLarge when growing e by delta bytes would exceed the
// session budget.
func (r *Repository) fits(sessionID string, e *sessionEntry, delta int) error {
	if !r.limited() || delta <= 0 || e.size+delta <= r.opts.MaxSessionBytes {
		return nil
	}
	return driver.SessionError(sessionID, fmt.Errorf("%w: %d bytes over the %d-byte session limit",
		session.ErrTooLarge, e.size+delta-r.opts.MaxSessionBytes, r.opts.MaxSessionBytes))
}

// grow records a size change already checked with fits.
func (r *Repository) grow(e *sessionEntry, delta int) {
	if r.limited() {
		e.size += delta
	}
}

// session returns the entry for id or ErrNotFound. Callers hold the lock.
func (r *Repository) session(id string) (*sessionEntry, error) {
	e, ok := r.sessions[id]
	if !ok || session.Expired(e.record, r.now()) {
		return nil, driver.SessionError(id, session.ErrNotFound)
	}
	return e, nil
}

// agent returns the entries for (sessionID, agentID) or ErrNotFound.
// Callers hold the lock.
func (r *Repository) agent(sessionID, agentID string) (*sessionEntry, *agentEntry, error) {
	e, err := r.session(sessionID)
	if err != nil {
		return nil, nil, err
	}
	a, ok := e.agents[agentID]
	if !ok {
		return nil, nil, driver.AgentError(sessionID, agentID, session.ErrNotFound)
	}
	return e, a, nil
}

// message returns the entries for one message or ErrNotFound. Callers hold
// the lock.
func (r *Repository) message(sessionID, agentID string, messageID int) (*sessionEntry, *agentEntry, error) {
	e, a, err := r.agent(sessionID, agentID)
	if err != nil {
		return nil, nil, err
	}
	if messageID >= len(a.messages) {
		return nil, nil, driver.MessageError(sessionID, agentID, messageID, session.ErrNotFound)
	}
	return e, a, nil
}

func validateAgentPath(sessionID, agentID string) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	return driver.ValidateAgentID(agentID)
}

func validateMessagePath(sessionID, agentID string, messageID int) error {
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return err
	}
	return driver.ValidateMessageID(messageID)
}

// CreateSession implements session.SessionStore.
func (r *Repository) CreateSession(ctx context.Context, s *session.Session) error {
	if err := begin(ctx); err != nil {
		return err
	}
	rec, err := driver.PrepareSession(s, r.now())
	if err != nil {
		return err
	}
	if rec.Metadata == nil {
		rec.Metadata = map[string]any{}
	}
	e := &sessionEntry{record: rec, agents: map[string]*agentEntry{}}
	if r.limited() {
		if err := r.fits(rec.ID, e, sessionSize(rec)); err != nil {
			return err
		}
		e.size = sessionSize(rec)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	if old, taken := r.sessions[rec.ID]; taken {
		if !session.Expired(old.record, r.now()) {
			return driver.SessionError(rec.ID, session.ErrAlreadyExists)
		}
		r.remove(rec.ID, old) // an expired session's id is free again
	}
	if r.opts.MaxSessions > 0 && len(r.sessions) >= r.opts.MaxSessions {
		return driver.SessionError(rec.ID, fmt.Errorf("%w: the repository holds its maximum of %d sessions",
			session.ErrTooLarge, r.opts.MaxSessions))
	}
	r.sessions[rec.ID] = e
	r.watchExpiry(rec)
	return nil
}

// GetSession implements session.SessionStore.
func (r *Repository) GetSession(ctx context.Context, sessionID string) (*session.Session, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	return e.record.Clone(), nil
}

// DeleteSession implements session.SessionStore.
func (r *Repository) DeleteSession(ctx context.Context, sessionID string) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return err
	}
	r.remove(sessionID, e)
	return nil
}

// ListSessions implements session.SessionStore. It filters in process with
// session.SessionQuery.Matches and sorts with driver.NewestFirst.
func (r *Repository) ListSessions(ctx context.Context, q session.SessionQuery) (session.SessionPage, error) {
	if err := begin(ctx); err != nil {
		return session.SessionPage{}, err
	}
	q, cur, err := driver.PrepareQuery(q)
	if err != nil {
		return session.SessionPage{}, err
	}
	if err := r.rlock(); err != nil {
		return session.SessionPage{}, err
	}
	var hits []*session.Session
	now := r.now()
	for _, e := range r.sessions {
		if q.Matches(e.record) && cur.After(e.record) && !session.Expired(e.record, now) {
			hits = append(hits, e.record)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return driver.NewestFirst(hits[i], hits[j]) })
	var page session.SessionPage
	if len(hits) > q.Limit {
		hits = hits[:q.Limit]
		last := hits[len(hits)-1]
		page.NextCursor = driver.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.Encode()
	}
	page.Sessions = make([]*session.Session, len(hits))
	for i, s := range hits {
		page.Sessions[i] = s.Clone()
	}
	r.mu.RUnlock()
	return page, nil
}

// touch moves the session's UpdatedAt, as every write under it does.
func touch(e *sessionEntry, now time.Time) {
	if now.After(e.record.UpdatedAt) {
		e.record.UpdatedAt = now
	}
}

// CreateAgent implements session.AgentStore.
func (r *Repository) CreateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	now := r.now()
	rec, err := driver.PrepareAgent(a, now)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	size := 0
	if r.limited() {
		size = agentSize(rec)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return err
	}
	if _, taken := e.agents[rec.ID]; taken {
		return driver.AgentError(sessionID, rec.ID, session.ErrAlreadyExists)
	}
	if err := r.fits(sessionID, e, size); err != nil {
		return err
	}
	e.agents[rec.ID] = &agentEntry{record: rec}
	r.grow(e, size)
	touch(e, now)
	return nil
}

// GetAgent implements session.AgentStore.
func (r *Repository) GetAgent(ctx context.Context, sessionID, agentID string) (*session.Agent, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	_, a, err := r.agent(sessionID, agentID)
	if err != nil {
		return nil, err
	}
	return a.record.Clone(), nil
}

// UpdateAgent implements session.AgentStore.
func (r *Repository) UpdateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	now := r.now()
	probe, keep := r.unchangedMaps(sessionID, a)
	in, err := driver.PrepareAgent(probe, now)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	for i, p := range []*map[string]any{&in.State, &in.ConversationManagerState, &in.InternalState} {
		if keep[i] != nil {
			*p = keep[i]
		}
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, ae, err := r.agent(sessionID, in.ID)
	if err != nil {
		return err
	}
	next := *ae.record
	next.State = in.State
	next.ConversationManagerState = in.ConversationManagerState
	next.InternalState = in.InternalState
	next.UpdatedAt = now
	return r.replaceAgent(sessionID, e, ae, &next, now)
}

// unchangedMaps spares UpdateAgent the copy of the maps it repeats: the
// session manager's sync sends all three every time, and usually only the
// state changed. For each of a's state, conversation-manager state and
// internal state that equals (driver.SameValue) the stored map, keep holds
// the stored map, immutable and canonical, to store again, and probe, a
// shallow copy of a given to PrepareAgent, holds nil in its place; a value
// equal to a canonical one is canonical, so skipping its normalization
// skips nothing that could fail. A record replaced meanwhile only costs
// the saving: the kept map still equals what the caller sent.
func (r *Repository) unchangedMaps(sessionID string, a *session.Agent) (probe *session.Agent, keep [3]map[string]any) {
	if a == nil || r.rlock() != nil {
		return a, keep
	}
	var stored *session.Agent
	if _, ae, err := r.agent(sessionID, a.ID); err == nil {
		stored = ae.record
	}
	r.mu.RUnlock()
	if stored == nil {
		return a, keep
	}
	cp := *a
	for i, pair := range [][2]*map[string]any{
		{&cp.State, &stored.State},
		{&cp.ConversationManagerState, &stored.ConversationManagerState},
		{&cp.InternalState, &stored.InternalState},
	} {
		if *pair[0] != nil && driver.SameValue(*pair[0], *pair[1]) {
			keep[i], *pair[0] = *pair[1], nil
		}
	}
	return &cp, keep
}

// replaceAgent swaps the agent record after a size check. Callers hold the
// write lock.
func (r *Repository) replaceAgent(sessionID string, e *sessionEntry, ae *agentEntry, next *session.Agent, now time.Time) error {
	delta := 0
	if r.limited() {
		delta = agentSize(next) - agentSize(ae.record)
	}
	if err := r.fits(sessionID, e, delta); err != nil {
		return err
	}
	ae.record = next
	r.grow(e, delta)
	touch(e, now)
	return nil
}

// UpdateAgentConfig implements session.AgentStore.
func (r *Repository) UpdateAgentConfig(ctx context.Context, sessionID, agentID string, patch session.AgentConfigPatch) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return err
	}
	if patch.Model == nil && patch.SystemPrompt == nil && patch.PromptMetadata == nil {
		return driver.AgentError(sessionID, agentID, driver.InvalidArgument("config patch", "is empty"))
	}
	if err := driver.ValidatePromptMetadata(patch.PromptMetadata); err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	// PrepareAgent validates the strings and deep-copies the prompt
	// metadata; the agent around them is a carrier.
	carrier := session.Agent{ID: agentID}
	if patch.Model != nil {
		carrier.Config.Model = *patch.Model
	}
	if patch.SystemPrompt != nil {
		carrier.Config.SystemPrompt = *patch.SystemPrompt
	}
	carrier.Config.PromptMetadata = patch.PromptMetadata
	now := r.now()
	in, err := driver.PrepareAgent(&carrier, now)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, ae, err := r.agent(sessionID, agentID)
	if err != nil {
		return err
	}
	next := *ae.record
	if patch.Model != nil {
		next.Config.Model = in.Config.Model
	}
	if patch.SystemPrompt != nil {
		next.Config.SystemPrompt = in.Config.SystemPrompt
	}
	if patch.PromptMetadata != nil {
		next.Config.PromptMetadata = in.Config.PromptMetadata
	}
	next.UpdatedAt = now
	return r.replaceAgent(sessionID, e, ae, &next, now)
}

// ListAgents implements session.AgentStore.
func (r *Repository) ListAgents(ctx context.Context, sessionID string) ([]*session.Agent, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	out := make([]*session.Agent, 0, len(e.agents))
	for _, a := range e.agents {
		out = append(out, a.record.Clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// CreateMessage implements session.MessageStore.
func (r *Repository) CreateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return err
	}
	now := r.now()
	rec, err := driver.PrepareMessage(m, now)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	size := 0
	if r.limited() {
		size = messageSize(rec)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, a, err := r.agent(sessionID, agentID)
	if err != nil {
		return err
	}
	if rec.ID != len(a.messages) {
		return driver.MessageError(sessionID, agentID, rec.ID,
			fmt.Errorf("%w: the agent holds %d messages, so the next id is %d", session.ErrConflict, len(a.messages), len(a.messages)))
	}
	if err := r.fits(sessionID, e, size); err != nil {
		return err
	}
	a.messages = append(a.messages, rec)
	r.messages++
	r.grow(e, size)
	touch(e, now)
	return nil
}

// AppendMessage implements session.MessageAppender: the id is the agent's
// message count, read and used under the same write lock as the append, so
// concurrent appenders never collide.
func (r *Repository) AppendMessage(ctx context.Context, sessionID, agentID string, m *session.Message) (int, error) {
	if err := begin(ctx); err != nil {
		return 0, err
	}
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return 0, err
	}
	rec, err := driver.PrepareMessage(withoutID(m), r.now())
	if err != nil {
		return 0, driver.AgentError(sessionID, agentID, err)
	}
	return r.appendRecord(sessionID, agentID, rec)
}

// AppendPrepared implements driver.PreparedAppender: AppendMessage without
// the second validation and copy. The stored record is a copy of the
// prepared struct (it gets the id) sharing the prepared, immutable contents.
func (r *Repository) AppendPrepared(ctx context.Context, sessionID, agentID string, m *driver.PreparedMessage) (int, error) {
	if err := begin(ctx); err != nil {
		return 0, err
	}
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return 0, err
	}
	if m == nil {
		return 0, driver.AgentError(sessionID, agentID, driver.InvalidArgument("message", "is nil"))
	}
	rec := *m.Message()
	return r.appendRecord(sessionID, agentID, &rec)
}

// appendRecord stores rec, prepared and owned by the repository from now
// on, as the agent's next message and returns its id.
func (r *Repository) appendRecord(sessionID, agentID string, rec *session.Message) (int, error) {
	size := 0
	if r.limited() {
		size = messageSize(rec)
	}
	if err := r.lock(); err != nil {
		return 0, err
	}
	defer r.mu.Unlock()
	e, a, err := r.agent(sessionID, agentID)
	if err != nil {
		return 0, err
	}
	if err := r.fits(sessionID, e, size); err != nil {
		return 0, err
	}
	rec.ID = len(a.messages)
	a.messages = append(a.messages, rec)
	r.messages++
	r.grow(e, size)
	touch(e, r.now())
	return rec.ID, nil
}

// withoutID returns a shallow copy of m with ID 0, so that an append ignores
// whatever id the caller left in it (nil stays nil, for PrepareMessage to
// report).
func withoutID(m *session.Message) *session.Message {
	if m == nil {
		return nil
	}
	c := *m
	c.ID = 0
	return &c
}

// GetMessage implements session.MessageStore.
func (r *Repository) GetMessage(ctx context.Context, sessionID, agentID string, messageID int) (*session.Message, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := validateMessagePath(sessionID, agentID, messageID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	_, a, err := r.message(sessionID, agentID, messageID)
	if err != nil {
		return nil, err
	}
	return a.messages[messageID].Clone(), nil
}

// UpdateMessage implements session.MessageStore.
func (r *Repository) UpdateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return err
	}
	now := r.now()
	in, err := driver.PrepareMessage(m, now)
	if err != nil {
		return driver.AgentError(sessionID, agentID, err)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, a, err := r.message(sessionID, agentID, in.ID)
	if err != nil {
		return err
	}
	old := a.messages[in.ID]
	next := *old
	next.Message = in.Message
	next.RedactMessage = in.RedactMessage
	if in.EventLoopMetrics != nil {
		next.EventLoopMetrics = in.EventLoopMetrics
	}
	if in.GuardrailEvent != nil {
		next.GuardrailEvent = in.GuardrailEvent
	}
	next.UpdatedAt = now
	delta := 0
	if r.limited() {
		delta = messageSize(&next) - messageSize(old)
	}
	if err := r.fits(sessionID, e, delta); err != nil {
		return err
	}
	a.messages[in.ID] = &next
	r.grow(e, delta)
	touch(e, now)
	return nil
}

// ListMessages implements session.MessageStore.
func (r *Repository) ListMessages(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error) {
	return r.listMessages(ctx, sessionID, agentID, offset, limit, true)
}

// ListMessagesShared implements driver.SharedMessageLister: ListMessages
// without the copy. Stored messages are never changed in place (an update
// replaces the record), so the values returned stay as they are for as
// long as the caller keeps them.
func (r *Repository) ListMessagesShared(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error) {
	return r.listMessages(ctx, sessionID, agentID, offset, limit, false)
}

func (r *Repository) listMessages(ctx context.Context, sessionID, agentID string, offset, limit int, clone bool) ([]*session.Message, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, driver.AgentError(sessionID, agentID, driver.InvalidArgument("offset", "%d is negative", offset))
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	_, a, err := r.agent(sessionID, agentID)
	if err != nil {
		return nil, err
	}
	if offset >= len(a.messages) {
		return []*session.Message{}, nil
	}
	msgs := a.messages[offset:]
	if limit > 0 && limit < len(msgs) {
		msgs = msgs[:limit]
	}
	out := make([]*session.Message, len(msgs))
	if !clone {
		copy(out, msgs)
		return out, nil
	}
	for i, m := range msgs {
		out[i] = m.Clone()
	}
	return out, nil
}

// CountMessages implements session.MessageStore.
func (r *Repository) CountMessages(ctx context.Context, sessionID, agentID string) (int, error) {
	if err := begin(ctx); err != nil {
		return 0, err
	}
	if err := validateAgentPath(sessionID, agentID); err != nil {
		return 0, err
	}
	if err := r.rlock(); err != nil {
		return 0, err
	}
	defer r.mu.RUnlock()
	_, a, err := r.agent(sessionID, agentID)
	if err != nil {
		return 0, err
	}
	return len(a.messages), nil
}

// UpdateMetadata implements session.MetadataStore.
func (r *Repository) UpdateMetadata(ctx context.Context, sessionID string, metadata map[string]any) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	in, err := driver.PrepareMetadata(metadata)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return err
	}
	next := *e.record
	next.Metadata = make(map[string]any, len(e.record.Metadata)+len(in))
	for k, v := range e.record.Metadata {
		next.Metadata[k] = v // stored values are never mutated, so sharing is safe
	}
	for k, v := range in {
		next.Metadata[k] = v
	}
	return r.replaceSession(sessionID, e, &next)
}

// replaceSession swaps the session record after a size check. Callers hold
// the write lock.
func (r *Repository) replaceSession(sessionID string, e *sessionEntry, next *session.Session) error {
	delta := 0
	if r.limited() {
		delta = sessionSize(next) - sessionSize(e.record)
	}
	if err := r.fits(sessionID, e, delta); err != nil {
		return err
	}
	e.record = next
	r.grow(e, delta)
	touch(e, r.now())
	return nil
}

// GetMetadata implements session.MetadataStore.
func (r *Repository) GetMetadata(ctx context.Context, sessionID string) (map[string]any, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	return driver.CloneMap(e.record.Metadata), nil
}

// DeleteMetadata implements session.MetadataStore.
func (r *Repository) DeleteMetadata(ctx context.Context, sessionID string, keys []string) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	keys, err := driver.PrepareMetadataKeys(keys)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return err
	}
	next := *e.record
	next.Metadata = make(map[string]any, len(e.record.Metadata))
	for k, v := range e.record.Metadata {
		next.Metadata[k] = v
	}
	for _, k := range keys {
		delete(next.Metadata, k)
	}
	return r.replaceSession(sessionID, e, &next)
}

// AddFeedback implements session.FeedbackStore. A caller-chosen ID that is
// already used in the session is ErrAlreadyExists.
func (r *Repository) AddFeedback(ctx context.Context, sessionID string, f *session.Feedback) (*session.Feedback, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	now := r.now()
	rec, err := driver.PrepareFeedback(f, now, r.opts.NewID)
	if err != nil {
		return nil, driver.SessionError(sessionID, err)
	}
	size := 0
	if r.limited() {
		size = feedbackSize(rec)
	}
	if err := r.lock(); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	if rec.AgentID != "" {
		a, ok := e.agents[rec.AgentID]
		if !ok {
			return nil, driver.AgentError(sessionID, rec.AgentID, fmt.Errorf("feedback target: %w", session.ErrNotFound))
		}
		if rec.MessageID != nil && *rec.MessageID >= len(a.messages) {
			return nil, driver.MessageError(sessionID, rec.AgentID, *rec.MessageID, fmt.Errorf("feedback target: %w", session.ErrNotFound))
		}
	}
	for _, old := range e.feedback {
		if old.ID == rec.ID {
			return nil, driver.SessionError(sessionID, fmt.Errorf("feedback %q: %w", rec.ID, session.ErrAlreadyExists))
		}
	}
	if err := r.fits(sessionID, e, size); err != nil {
		return nil, err
	}
	e.feedback = append(e.feedback, rec)
	r.grow(e, size)
	touch(e, now)
	return rec.Clone(), nil
}

// ListFeedback implements session.FeedbackStore.
func (r *Repository) ListFeedback(ctx context.Context, sessionID string) ([]*session.Feedback, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	out := make([]*session.Feedback, len(e.feedback))
	for i, f := range e.feedback {
		out[i] = f.Clone()
	}
	return out, nil
}

// RecordGuardrailEvent implements session.GuardrailStore.
func (r *Repository) RecordGuardrailEvent(ctx context.Context, sessionID, agentID string, messageID int, ev *session.GuardrailEvent) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := validateMessagePath(sessionID, agentID, messageID); err != nil {
		return err
	}
	now := r.now()
	in, err := driver.PrepareGuardrailEvent(ev, now)
	if err != nil {
		return driver.MessageError(sessionID, agentID, messageID, err)
	}
	// The two levels share PoliciesTriggered: stored values are never
	// mutated, and reads return clones.
	audit := &session.SessionGuardrailEvent{
		AgentID:           agentID,
		MessageID:         messageID,
		Action:            in.Action,
		Timestamp:         in.Timestamp,
		StopReason:        in.StopReason,
		PoliciesTriggered: in.PoliciesTriggered,
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	e, a, err := r.message(sessionID, agentID, messageID)
	if err != nil {
		return err
	}
	old := a.messages[messageID]
	next := *old
	next.GuardrailEvent = in
	next.UpdatedAt = now
	delta := 0
	if r.limited() {
		delta = messageSize(&next) - messageSize(old) + guardrailAuditSize(audit)
	}
	if err := r.fits(sessionID, e, delta); err != nil {
		return err
	}
	a.messages[messageID] = &next
	e.guardrails = append(e.guardrails, audit)
	r.grow(e, delta)
	touch(e, now)
	return nil
}

// ListGuardrailEvents implements session.GuardrailStore.
func (r *Repository) ListGuardrailEvents(ctx context.Context, sessionID string) ([]*session.SessionGuardrailEvent, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	e, err := r.session(sessionID)
	if err != nil {
		return nil, err
	}
	out := make([]*session.SessionGuardrailEvent, len(e.guardrails))
	for i, g := range e.guardrails {
		out[i] = g.Clone()
	}
	return out, nil
}

// Ping implements session.Pinger: nil unless ctx is done or the repository
// is closed.
func (r *Repository) Ping(ctx context.Context) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := r.rlock(); err != nil {
		return err
	}
	r.mu.RUnlock()
	return nil
}

// Stats implements session.StatsReporter with two gauges:
// "memory_sessions" and "memory_messages", the numbers of sessions and of
// messages (over all agents) held (expired sessions not yet swept
// included), and the expiry sweeper's counters once it runs. After Close
// both gauges are 0.
func (r *Repository) Stats() map[string]float64 {
	out := r.sweeperStats()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out["memory_sessions"] = float64(len(r.sessions))
	out["memory_messages"] = float64(r.messages)
	return out
}

// Close drops every stored value. Later calls return session.ErrClosed.
// Close is idempotent and always returns nil.
func (r *Repository) Close() error {
	r.mu.Lock()
	r.closed = true
	r.sessions = map[string]*sessionEntry{}
	r.messages = 0
	sw := r.sweep.sweeper.Load()
	r.mu.Unlock()
	sw.Close() // after closed is set, so that no new sweeper starts
	return nil
}
