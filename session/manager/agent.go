package manager

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Python class names of the Strands conversation managers, written into
// conversation_manager_state["__name__"] so the Strands SDK can resume.
const (
	SlidingWindowConversationManager = "SlidingWindowConversationManager"
	SummarizingConversationManager   = "SummarizingConversationManager"
	NullConversationManager          = "NullConversationManager"
)

// AgentOptions describes the agent Initialize sets up.
type AgentOptions struct {
	// Messages are the agent's constructor messages, stored as ids 0..n-1
	// when the agent is created; ignored on resume (the stored log wins, as
	// in Strands).
	Messages []session.ChatMessage
	// State is the initial user state of a created agent.
	State map[string]any
	// ConversationManager is the Python class name of the conversation
	// manager whose default state a created agent gets; empty means
	// SlidingWindowConversationManager. On resume the stored state is used.
	ConversationManager string
	// Config is the agent configuration: stored on create, and on resume
	// written (one UpdateAgentConfig) only for the non-empty fields that
	// differ from what is stored.
	Config session.AgentConfig
}

// DefaultConversationManagerState returns the state Strands' get_state()
// gives a fresh conversation manager of the named Python class.
func DefaultConversationManagerState(name string) map[string]any {
	if name == "" {
		name = SlidingWindowConversationManager
	}
	return driver.FreshConversationManagerState(name)
}

// DefaultInternalState returns Strands' _internal_state of a fresh agent: an
// inactive interrupt state and an empty model state.
func DefaultInternalState() map[string]any { return driver.FreshInternalState() }

// AgentSession is the handle of one initialized agent: what the agent sees
// (messages, state, conversation-manager and internal state) and the
// operations that persist it. It is safe for concurrent use; its methods
// serialize, so appends from many goroutines get dense, ordered ids.
type AgentSession struct {
	m  *Manager
	id string

	mu       sync.Mutex
	messages []session.ChatMessage
	state    map[string]any
	cmState  map[string]any
	internal map[string]any
	// next is the next message id as known from the store: CountMessages at
	// initialize or the last stored id + 1. Never derived from the window.
	next int
	// latest is the last message this handle stored or loaded (nil when it
	// is not known), latestShown whether it is the last of messages.
	latest      *session.Message
	latestShown bool
	// synced is what the last successful UpdateAgent wrote; nil until the
	// first sync of this manager, which therefore always writes.
	synced *agentSnapshot
	// turnAssistant is the latest assistant message appended since the
	// invocation began, the one that gets the invocation's metrics.
	turnAssistant *session.Message
	// usageBase is the accumulated usage at the start of the invocation.
	usageBase session.Usage
}

// agentSnapshot is what a sync wrote; its maps are shared with the handle
// and, like the handle's, never changed in place.
type agentSnapshot struct {
	state, cmState, internal map[string]any
}

// Initialize sets up agent agentID in the session. On first use it creates
// the agent (and stores opts.Messages); when another writer creates it at
// the same moment (session.ErrAlreadyExists) it resumes that agent instead.
// On resume it restores state, internal state and conversation-manager
// state, loads the stored messages from removed_message_count on, prepends
// the summary message of a SummarizingConversationManager, and repairs
// broken toolUse/toolResult pairs in memory only (see RepairToolUse).
// Initializing the same id twice on one Manager is ErrAgentInitialized.
//
// When the state carries pinned_head_count (later Strands), resume shows
// the pinned head (messages 0..pinned-1), then the summary message if any,
// then the messages from pinned+removed_message_count on, as Strands
// restores them.
//
// Round trips: resume costs GetAgent plus one ListMessagePages when the
// repository implements session.MessagePagesReader (backend/mongo does:
// two round trips in all, pinned head or not); otherwise GetAgent +
// ListMessages (plus a second ListMessages for a pinned head, plus
// CountMessages when the window after it is empty). A new agent of a new
// session costs CreateAgent plus one CreateMessage per constructor message.
func (m *Manager) Initialize(ctx context.Context, agentID string, opts AgentOptions) (*AgentSession, error) {
	if err := driver.ValidateAgentID(agentID); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrManagerClosed
	}
	if _, dup := m.agents[agentID]; dup {
		m.mu.Unlock()
		return nil, driver.AgentError(m.sessionID, agentID, ErrAgentInitialized)
	}
	m.agents[agentID] = nil // reserve the id while we initialize
	skipRead := m.isNew
	m.mu.Unlock()

	a, err := m.initialize(ctx, agentID, opts, skipRead)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		delete(m.agents, agentID)
		return nil, fmt.Errorf("initialize agent: %w", err)
	}
	m.agents[agentID] = a
	m.isNew = false
	return a, nil
}

func (m *Manager) initialize(ctx context.Context, agentID string, opts AgentOptions, skipRead bool) (*AgentSession, error) {
	a := &AgentSession{m: m, id: agentID}
	if !skipRead {
		stored, err := m.repo.GetAgent(ctx, m.sessionID, agentID)
		if err == nil {
			return a, a.resume(ctx, stored, opts.Config)
		}
		if !errors.Is(err, session.ErrNotFound) {
			return nil, err
		}
	}
	initial := make([]*session.Message, len(opts.Messages))
	for i, c := range opts.Messages {
		// Validate every constructor message before writing anything.
		msg, err := driver.PrepareMessage(&session.Message{ID: i, Message: c}, m.now())
		if err != nil {
			return nil, fmt.Errorf("initial message %d: %w", i, err)
		}
		initial[i] = msg
	}
	now := m.now()
	created := &session.Agent{
		ID:                       agentID,
		State:                    driver.CloneMap(opts.State),
		ConversationManagerState: DefaultConversationManagerState(opts.ConversationManager),
		InternalState:            DefaultInternalState(),
		Config:                   opts.Config,
		CreatedAt:                now,
		UpdatedAt:                now,
	}
	if created.State == nil {
		created.State = map[string]any{}
	}
	prepared, err := driver.PrepareAgent(created, now)
	if err != nil {
		return nil, err
	}
	err = m.repo.CreateAgent(ctx, m.sessionID, prepared)
	if errors.Is(err, session.ErrAlreadyExists) {
		// Another writer created it first: resume what it stored.
		stored, err := m.repo.GetAgent(ctx, m.sessionID, agentID)
		if err != nil {
			return nil, err
		}
		return a, a.resume(ctx, stored, opts.Config)
	}
	if err != nil {
		return nil, err
	}
	a.state, a.cmState, a.internal = prepared.State, prepared.ConversationManagerState, prepared.InternalState
	for _, msg := range initial {
		if _, err := a.appendLocked(ctx, msg.Message); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// resume restores a from the stored agent.
func (a *AgentSession) resume(ctx context.Context, stored *session.Agent, cfg session.AgentConfig) error {
	m := a.m
	a.state = orEmpty(stored.State)
	a.cmState = stored.ConversationManagerState
	if a.cmState == nil {
		a.cmState = DefaultConversationManagerState("")
	}
	a.internal = stored.InternalState
	if a.internal == nil {
		a.internal = DefaultInternalState()
	}
	removed, err := stateCount(a.cmState, "removed_message_count")
	if err != nil {
		return driver.AgentError(m.sessionID, a.id, err)
	}
	pinned, err := stateCount(a.cmState, "pinned_head_count")
	if err != nil {
		return driver.AgentError(m.sessionID, a.id, err)
	}
	if patch, changed := configPatch(stored.Config, cfg); changed {
		if err := m.repo.UpdateAgentConfig(ctx, m.sessionID, a.id, patch); err != nil {
			return err
		}
	}
	// A pinned head (later Strands conversation managers) stays in view:
	// the first pinned messages, then the window after the removed ones,
	// which starts at pinned+removed. Without a pin the head page is not read.
	head, stored2, next, err := a.readWindow(ctx, pinned, removed)
	if err != nil {
		return err
	}
	a.next = next
	if n := len(stored2); n > 0 {
		a.latest, a.latestShown = stored2[n-1], true
	}
	// Room for the summary message and one message the repair may insert,
	// so that neither grows the slice.
	msgs := make([]session.ChatMessage, 0, len(head)+len(stored2)+2)
	for _, sm := range head {
		msgs = append(msgs, sm.Effective())
	}
	if summary, ok := a.cmState["summary_message"].(map[string]any); ok {
		c, err := session.ChatMessageFromMap(summary)
		if err != nil {
			return driver.AgentError(m.sessionID, a.id, fmt.Errorf("summary_message: %w", err))
		}
		msgs = append(msgs, c)
	}
	for _, sm := range stored2 {
		msgs = append(msgs, sm.Effective())
	}
	repaired := repairToolUse(msgs)
	if len(repaired) == 0 || len(stored2) == 0 || !sameMessage(repaired[len(repaired)-1], stored2[len(stored2)-1].Effective()) {
		a.latestShown = false
	}
	a.messages = repaired
	return nil
}

// listShared returns the repository's ListMessagesShared when it has one,
// else its ListMessages. Resume only reads what it lists and copies what
// it hands out (Messages), so it need not pay for a copy of its own: the
// handle's records and window may share the store's immutable values, and
// nothing in this package changes a message in place.
func listShared(repo session.Repository) func(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error) {
	if sl, ok := repo.(driver.SharedMessageLister); ok {
		return sl.ListMessagesShared
	}
	return repo.ListMessages
}

func sameMessage(x, y session.ChatMessage) bool { return reflect.DeepEqual(x, y) }

// stateCount reads the count key of conversation-manager state:
// removed_message_count (how many messages after the pinned head the
// conversation manager no longer shows) or pinned_head_count (how many
// first messages it always shows). Absent or null is 0.
func stateCount(cm map[string]any, key string) (int, error) {
	v, ok := cm[key]
	if !ok || v == nil {
		return 0, nil
	}
	switch n := v.(type) {
	case int64:
		if n >= 0 && n <= math.MaxInt32 {
			return int(n), nil
		}
	case float64:
		if n >= 0 && n <= math.MaxInt32 && n == math.Trunc(n) {
			return int(n), nil
		}
	}
	return 0, driver.InvalidArgument("conversation_manager_state."+key, "%v is not a count", v)
}

// configPatch returns the patch that brings stored to want, considering only
// the fields want sets.
func configPatch(stored, want session.AgentConfig) (session.AgentConfigPatch, bool) {
	var p session.AgentConfigPatch
	changed := false
	if want.Model != "" && want.Model != stored.Model {
		p.Model, changed = &want.Model, true
	}
	if want.SystemPrompt != "" && want.SystemPrompt != stored.SystemPrompt {
		p.SystemPrompt, changed = &want.SystemPrompt, true
	}
	if want.PromptMetadata != nil && !reflect.DeepEqual(want.PromptMetadata, stored.PromptMetadata) {
		pm := *want.PromptMetadata
		p.PromptMetadata, changed = &pm, true
	}
	return p, changed
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// ID returns the agent id.
func (a *AgentSession) ID() string { return a.id }

// Messages returns a copy of what the agent sees: the window loaded at
// initialize (summary first, redactions applied, tool pairs repaired) plus
// what this handle appended since.
func (a *AgentSession) Messages() []session.ChatMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	// One deep copy, the caller's: ChatMessage.Clone's, except that the
	// content slices of all messages share one allocation (each capped at
	// its length, so that appending to one never writes into the next).
	n := 0
	for _, c := range a.messages {
		n += len(c.Content)
	}
	blocks := make([]session.ContentBlock, n)
	out := make([]session.ChatMessage, len(a.messages))
	for i, c := range a.messages {
		out[i] = session.ChatMessage{Role: c.Role, Metadata: driver.CloneMap(c.Metadata), Extra: driver.CloneMap(c.Extra)}
		if c.Content == nil {
			continue
		}
		k := len(c.Content)
		out[i].Content = blocks[:k:k]
		blocks = blocks[k:]
		for j, b := range c.Content {
			out[i].Content[j] = b.Clone()
		}
	}
	return out
}

// NextMessageID returns the id the next append will try first.
func (a *AgentSession) NextMessageID() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.next
}

// State returns a copy of the agent's user state.
func (a *AgentSession) State() map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return driver.CloneMap(a.state)
}

// SetState sets one key of the agent's user state, in memory; Sync
// persists it. Errors: session.ErrInvalidArgument for a value that cannot
// be stored.
func (a *AgentSession) SetState(key string, value any) error {
	v, err := driver.Normalize("state."+key, value)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := driver.CloneMap(a.state)
	st[key] = v
	a.state = st
	return nil
}

// DeleteState removes one key of the agent's user state, in memory.
func (a *AgentSession) DeleteState(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := driver.CloneMap(a.state)
	delete(st, key)
	a.state = st
}

// ConversationManagerState returns a copy of the conversation manager's
// state.
func (a *AgentSession) ConversationManagerState() map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return driver.CloneMap(a.cmState)
}

// SetConversationManagerState replaces the conversation manager's state in
// memory; Sync persists it.
func (a *AgentSession) SetConversationManagerState(st map[string]any) error {
	n, err := driver.NormalizeMap("conversation_manager_state", st)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cmState = orEmpty(n)
	return nil
}

// InternalState returns a copy of Strands' _internal_state.
func (a *AgentSession) InternalState() map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return driver.CloneMap(a.internal)
}

// SetInternalState replaces Strands' _internal_state in memory.
func (a *AgentSession) SetInternalState(st map[string]any) error {
	n, err := driver.NormalizeMap("_internal_state", st)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.internal = orEmpty(n)
	return nil
}

// RemoveOldest drops the n oldest messages from what the agent sees and adds
// n to removed_message_count, as a sliding-window conversation manager
// does; nothing is deleted from the store, and a later resume loads from the
// new offset. The first pinned_head_count messages, when the state pins
// some, stay: the n removed are the oldest after them. It returns how many
// were removed.
func (a *AgentSession) RemoveOldest(n int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	pinned, _ := stateCount(a.cmState, "pinned_head_count")
	pinned = min(pinned, len(a.messages))
	n = max(0, min(n, len(a.messages)-pinned))
	if n == 0 {
		return 0
	}
	a.messages = append(append([]session.ChatMessage(nil), a.messages[:pinned]...), a.messages[pinned+n:]...)
	removed, _ := stateCount(a.cmState, "removed_message_count")
	cm := driver.CloneMap(a.cmState)
	cm["removed_message_count"] = int64(removed + n)
	a.cmState = cm
	if len(a.messages) == 0 {
		a.latestShown = false
	}
	return n
}

// Append stores msg as the agent's next message and adds it to what the
// agent sees, through the hooks (OpAppend). The id comes from the store.
// When the repository is a session.MessageAppender, one AppendMessage
// stores the message at the end of the log, whatever other writers (other
// processes) appended meanwhile: it never loses a race, so it fails only
// when the store fails or ctx ends. Otherwise the handle keeps the next id
// as last known from the store and writes it in one CreateMessage; when
// another writer took it (session.ErrConflict) it re-reads CountMessages
// and retries, at most Options.MaxAppendRetries times with a jittered
// pause, then returns the error. It returns the stored message.
func (a *AgentSession) Append(ctx context.Context, msg session.ChatMessage) (*session.Message, error) {
	if err := a.m.checkOpen(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appendLocked(ctx, msg)
}

func (a *AgentSession) appendLocked(ctx context.Context, msg session.ChatMessage) (*session.Message, error) {
	m := a.m
	if len(m.opts.Hooks) == 0 {
		// No hook to show an Event to: store directly, sparing the event,
		// its closures and the payload's struct on every append.
		stored, err := a.create(ctx, msg)
		if err != nil {
			return nil, fmt.Errorf("append message: %w", err)
		}
		return stored.Clone(), nil
	}
	ev := m.newEvent(KindMessage, OpAppend)
	ev.AgentID = a.id
	ev.Message = &session.Message{ID: a.next, Message: msg}
	ev.do = func(ctx context.Context, ev *Event) error {
		if ev.Message == nil {
			return driver.InvalidArgument("message", "is nil")
		}
		stored, err := a.create(ctx, ev.Message.Message)
		if err != nil {
			return err
		}
		ev.Message = stored.Clone()
		return nil
	}
	if err := m.run(ctx, ev); err != nil {
		return nil, fmt.Errorf("append message: %w", err)
	}
	return ev.Message, nil
}

// create stores msg as the agent's next message: appended at the end by
// the store when it can, else created at the next id with retries on lost
// races. The caller holds a.mu. The message is validated and normalized
// once, here (driver.NewPreparedMessage); a repository implementing
// driver.PreparedAppender stores that result without a second check, and
// the handle keeps the same immutable contents in its window. The message
// returned is the handle's own record: the caller must not change it.
func (a *AgentSession) create(ctx context.Context, msg session.ChatMessage) (*session.Message, error) {
	m := a.m
	now := m.now()
	p, err := driver.NewPreparedMessage(&session.Message{ID: a.next, Message: msg, CreatedAt: now, UpdatedAt: now}, now)
	if err != nil {
		return nil, err
	}
	stored := *p.Message() // the handle's record: its own struct, the prepared contents
	id, err := a.appendAtEnd(ctx, p)
	if errors.Is(err, errors.ErrUnsupported) {
		id, err = a.createAtNext(ctx, &stored)
	}
	if err != nil {
		return nil, err
	}
	stored.ID = id
	a.next = id + 1
	a.messages = append(a.messages, stored.Message)
	a.latest, a.latestShown = &stored, true
	if stored.Message.Role == session.RoleAssistant {
		a.turnAssistant = &stored
	}
	return &stored, nil
}

// appendAtEnd stores p with one append when the repository assigns ids
// itself: AppendPrepared when it takes prepared messages, else
// AppendMessage (which validates again: a decorator, say). It reports
// errors.ErrUnsupported when the repository cannot append (a decorator over
// a repository without the capability says so the same way), for the
// caller to fall back to createAtNext.
func (a *AgentSession) appendAtEnd(ctx context.Context, p *driver.PreparedMessage) (int, error) {
	if pa, ok := a.m.repo.(driver.PreparedAppender); ok {
		return pa.AppendPrepared(ctx, a.m.sessionID, a.id, p)
	}
	ap, ok := a.m.repo.(session.MessageAppender)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	return ap.AppendMessage(ctx, a.m.sessionID, a.id, p.Message())
}

// createAtNext stores prepared with CreateMessage at the next id as this
// handle knows it, re-reading the count and retrying (bounded by
// Options.MaxAppendRetries) when another writer took it. It returns the id
// stored; prepared.ID is set to each id tried.
func (a *AgentSession) createAtNext(ctx context.Context, prepared *session.Message) (int, error) {
	m := a.m
	for attempt := 0; ; attempt++ {
		prepared.ID = a.next
		err := m.repo.CreateMessage(ctx, m.sessionID, a.id, prepared)
		if err == nil {
			return prepared.ID, nil
		}
		if !errors.Is(err, session.ErrConflict) || attempt >= m.opts.MaxAppendRetries {
			return 0, err
		}
		if err := m.backoff(ctx, attempt); err != nil {
			return 0, driver.MessageError(m.sessionID, a.id, prepared.ID, err)
		}
		if a.next, err = m.repo.CountMessages(ctx, m.sessionID, a.id); err != nil {
			return 0, err
		}
	}
}

// Sync persists the agent's state, conversation-manager state and internal
// state with one UpdateAgent when any of them changed since the last
// successful sync of this handle; the first sync always writes, and a
// failed write is retried by the next sync. The stored configuration is
// never touched. It reports whether it wrote.
func (a *AgentSession) Sync(ctx context.Context) (wrote bool, err error) {
	if err := a.m.checkOpen(); err != nil {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.syncLocked(ctx)
}

func (a *AgentSession) syncLocked(ctx context.Context) (bool, error) {
	snap, agent := a.pendingSync()
	if agent == nil {
		return false, nil
	}
	if err := a.m.repo.UpdateAgent(ctx, a.m.sessionID, agent); err != nil {
		return false, fmt.Errorf("sync agent: %w", err)
	}
	a.synced = snap
	return true, nil
}

// pendingSync returns the snapshot of the agent's state and the UpdateAgent
// argument that writes it, or a nil agent when the last sync wrote the same.
func (a *AgentSession) pendingSync() (*agentSnapshot, *session.Agent) {
	// The three maps are never changed in place (every setter replaces the
	// map, copy on write), so the snapshot shares them instead of copying,
	// and an unchanged state compares equal at the first pointer check.
	snap := &agentSnapshot{state: a.state, cmState: a.cmState, internal: a.internal}
	if a.synced != nil && driver.SameValue(a.synced.state, snap.state) &&
		driver.SameValue(a.synced.cmState, snap.cmState) && driver.SameValue(a.synced.internal, snap.internal) {
		return snap, nil
	}
	return snap, &session.Agent{
		ID:                       a.id,
		State:                    snap.state,
		ConversationManagerState: snap.cmState,
		InternalState:            snap.internal,
	}
}

// BeginInvocation marks the start of an agent invocation. accumulated is
// the agent's accumulated usage now; EndInvocation records the difference
// as the invocation's own usage. Without BeginInvocation the baseline is
// the accumulated usage given to the previous EndInvocation (zero at
// first). It does no I/O.
func (a *AgentSession) BeginInvocation(accumulated session.Usage) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.usageBase, a.turnAssistant = accumulated, nil
}

// EndInvocation closes an invocation, as Strands' AfterInvocationEvent
// does: it syncs the agent (see Sync) and, when metrics shows a model call
// (latency > 0) and the invocation appended an assistant message, stores
// the metrics on that latest assistant message — never on a user or
// toolResult message — with InvocationUsage set to this invocation's usage
// (accumulated now minus accumulated at the start). That is one UpdateAgent
// at most plus one UpdateMessage, or both in one write when the repository
// is a driver.AgentMessageUpdater (SQLite: one transaction).
func (a *AgentSession) EndInvocation(ctx context.Context, metrics *session.EventLoopMetrics) error {
	if err := a.m.checkOpen(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	defer func() {
		if metrics != nil {
			a.usageBase = metrics.AccumulatedUsage
		}
		a.turnAssistant = nil
	}()
	var target *session.Message
	if metrics != nil && metrics.AccumulatedMetrics.LatencyMs > 0 && a.turnAssistant != nil {
		em := *metrics
		delta := subUsage(metrics.AccumulatedUsage, a.usageBase)
		em.InvocationUsage = &delta
		// A copy of the struct only: UpdateMessage copies what it stores
		// and changes nothing it is given.
		t := *a.turnAssistant
		t.EventLoopMetrics = &em
		t.GuardrailEvent = nil // keep the stored one
		t.UpdatedAt = a.m.now()
		target = &t
	}
	// Both writes in one transaction when the repository can: a
	// SQLite turn then costs one write fewer. On failure the writes are
	// tried apart, each reporting its own error as below.
	if u, ok := a.m.repo.(driver.AgentMessageUpdater); ok && target != nil {
		if snap, agent := a.pendingSync(); agent != nil {
			if err := u.UpdateAgentAndMessage(ctx, a.m.sessionID, agent, target); err == nil {
				a.synced = snap
				a.storedMetrics(target)
				return nil
			}
		}
	}
	_, syncErr := a.syncLocked(ctx)
	var metricsErr error
	if target != nil {
		if err := a.m.repo.UpdateMessage(ctx, a.m.sessionID, a.id, target); err != nil {
			metricsErr = fmt.Errorf("store event-loop metrics: %w", err)
		} else {
			a.storedMetrics(target)
		}
	}
	return errors.Join(syncErr, metricsErr)
}

// storedMetrics records that target's metrics were stored on the turn's
// assistant message. Records the handle holds are shared with the store
// (see create): they are replaced, never changed in place.
func (a *AgentSession) storedMetrics(target *session.Message) {
	updated := *a.turnAssistant
	updated.EventLoopMetrics = target.EventLoopMetrics
	if a.latest == a.turnAssistant {
		a.latest = &updated
	}
	a.turnAssistant = &updated
}

func subUsage(x, y session.Usage) session.Usage {
	return session.Usage{
		InputTokens:           x.InputTokens - y.InputTokens,
		OutputTokens:          x.OutputTokens - y.OutputTokens,
		TotalTokens:           x.TotalTokens - y.TotalTokens,
		CacheReadInputTokens:  x.CacheReadInputTokens - y.CacheReadInputTokens,
		CacheWriteInputTokens: x.CacheWriteInputTokens - y.CacheWriteInputTokens,
	}
}
