package rediscache

import (
	"context"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Codecs of the cached kinds.
var (
	sessionCodec = codec[*session.Session]{kind: KindSession,
		enc:    func(e *encoder, s *session.Session) error { return e.session(s) },
		dec:    func(d *decoder) *session.Session { return d.session() },
		expiry: func(s *session.Session) time.Time { return s.ExpiresAt }}
	agentCodec = codec[*session.Agent]{kind: KindAgent,
		enc: func(e *encoder, a *session.Agent) error { return e.agent(a) },
		dec: func(d *decoder) *session.Agent { return d.agent() }}
	agentsCodec = codec[[]*session.Agent]{kind: KindAgents,
		enc: func(e *encoder, as []*session.Agent) error { return encodeList(e, as, (*encoder).agent) },
		dec: func(d *decoder) []*session.Agent { return decodeList(d, minAgentBytes, (*decoder).agentInto) }}
	messageCodec = codec[*session.Message]{kind: KindMessage,
		enc: func(e *encoder, m *session.Message) error { return e.message(m) },
		dec: func(d *decoder) *session.Message { return d.message() }}
	messagesCodec = codec[[]*session.Message]{kind: KindMessages,
		enc: func(e *encoder, ms []*session.Message) error { return encodeList(e, ms, (*encoder).message) },
		dec: func(d *decoder) []*session.Message { return decodeList(d, minMessageBytes, (*decoder).messageInto) }}
	countCodec = codec[int]{kind: KindCount,
		enc: func(e *encoder, n int) error { e.varint(int64(n)); return nil },
		dec: func(d *decoder) int { return d.int() }}
	metadataCodec = codec[map[string]any]{kind: KindMetadata,
		enc: func(e *encoder, m map[string]any) error { return e.mapValue(m) },
		dec: func(d *decoder) map[string]any { return d.mapValue() }}
	feedbackCodec = codec[[]*session.Feedback]{kind: KindFeedback,
		enc: func(e *encoder, fs []*session.Feedback) error { return encodeList(e, fs, (*encoder).feedback) },
		dec: func(d *decoder) []*session.Feedback { return decodeList(d, minFeedbackBytes, (*decoder).feedbackInto) }}
	guardrailsCodec = codec[[]*session.SessionGuardrailEvent]{kind: KindGuardrails,
		enc: func(e *encoder, evs []*session.SessionGuardrailEvent) error {
			return encodeList(e, evs, func(e *encoder, ev *session.SessionGuardrailEvent) error { e.sessionGuardrail(ev); return nil })
		},
		dec: func(d *decoder) []*session.SessionGuardrailEvent {
			return decodeList(d, minSessionGuardrailBytes, (*decoder).sessionGuardrailInto)
		}}
)

// validPath reports whether the ids can name cache keys. Reads with bad
// input go straight to the backend, which rejects them with its typed error
// and without touching Redis.
func validPath(sessionID string, agentID *string) bool {
	if driver.ValidateSessionID(sessionID) != nil {
		return false
	}
	return agentID == nil || driver.ValidateAgentID(*agentID) == nil
}

// CreateSession implements session.SessionStore.
func (c *Cache) CreateSession(ctx context.Context, s *session.Session) error {
	if err := c.check(); err != nil {
		return err
	}
	err := c.inner.CreateSession(ctx, s)
	if s == nil {
		return err
	}
	if err == nil {
		c.recordExpiry(ctx, s.ID, s.ExpiresAt)
	}
	return c.written(ctx, s.ID, err)
}

// GetSession implements session.SessionStore, through the cache.
func (c *Cache) GetSession(ctx context.Context, sessionID string) (*session.Session, error) {
	load := func(ctx context.Context) (*session.Session, error) { return c.inner.GetSession(ctx, sessionID) }
	if !validPath(sessionID, nil) {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldSession(), sessionCodec, load)
}

// DeleteSession implements session.SessionStore.
func (c *Cache) DeleteSession(ctx context.Context, sessionID string) error {
	if err := c.check(); err != nil {
		return err
	}
	return c.written(ctx, sessionID, c.inner.DeleteSession(ctx, sessionID))
}

// ListSessions implements session.SessionStore. Listings span sessions and
// are not cached.
func (c *Cache) ListSessions(ctx context.Context, q session.SessionQuery) (session.SessionPage, error) {
	if err := c.check(); err != nil {
		return session.SessionPage{}, err
	}
	return c.inner.ListSessions(ctx, q)
}

// CreateAgent implements session.AgentStore.
func (c *Cache) CreateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	if err := c.check(); err != nil {
		return err
	}
	return c.written(ctx, sessionID, c.inner.CreateAgent(ctx, sessionID, a))
}

// GetAgent implements session.AgentStore, through the cache.
func (c *Cache) GetAgent(ctx context.Context, sessionID, agentID string) (*session.Agent, error) {
	load := func(ctx context.Context) (*session.Agent, error) { return c.inner.GetAgent(ctx, sessionID, agentID) }
	if !validPath(sessionID, &agentID) {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldAgent(agentID), agentCodec, load)
}

// UpdateAgent implements session.AgentStore. It carries the session, the
// agent (with the new states) and the agent's tail and count to the next
// generation when they were cached (see the package documentation).
func (c *Cache) UpdateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	if err := c.check(); err != nil {
		return err
	}
	var snap *wtSnapshot
	p, perr := driver.PrepareAgent(a, time.Now())
	if perr == nil && p.State != nil && p.ConversationManagerState != nil && p.InternalState != nil {
		snap = c.snapshot(ctx, sessionID, fieldSession(), fieldAgent(p.ID), fieldTail(p.ID), fieldCount(p.ID))
	}
	err := c.inner.UpdateAgent(ctx, sessionID, a)
	if err != nil || snap == nil {
		return c.written(ctx, sessionID, err)
	}
	c.commit(ctx, sessionID, snap, c.updateAgentCarry(snap, p))
	return nil
}

// UpdateAgentConfig implements session.AgentStore.
func (c *Cache) UpdateAgentConfig(ctx context.Context, sessionID, agentID string, patch session.AgentConfigPatch) error {
	if err := c.check(); err != nil {
		return err
	}
	return c.written(ctx, sessionID, c.inner.UpdateAgentConfig(ctx, sessionID, agentID, patch))
}

// ListAgents implements session.AgentStore, through the cache.
func (c *Cache) ListAgents(ctx context.Context, sessionID string) ([]*session.Agent, error) {
	load := func(ctx context.Context) ([]*session.Agent, error) { return c.inner.ListAgents(ctx, sessionID) }
	if !validPath(sessionID, nil) {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldAgents(), agentsCodec, load)
}

// CreateMessage implements session.MessageStore. The message is stored
// with its times at the backend's precision (see storable), and carried into
// the agent's cached tail and count (see the package documentation).
func (c *Cache) CreateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	if err := c.check(); err != nil {
		return err
	}
	if m == nil || !validPath(sessionID, &agentID) {
		return c.written(ctx, sessionID, c.inner.CreateMessage(ctx, sessionID, agentID, m))
	}
	p, ok := storable(m, m.ID, time.Now(), c.TimePrecision())
	if !ok {
		return c.written(ctx, sessionID, c.inner.CreateMessage(ctx, sessionID, agentID, m))
	}
	snap := c.snapshot(ctx, sessionID, fieldSession(), fieldAgent(agentID), fieldTail(agentID), fieldCount(agentID))
	err := c.inner.CreateMessage(ctx, sessionID, agentID, p)
	if err != nil || snap == nil {
		return c.written(ctx, sessionID, err)
	}
	c.commit(ctx, sessionID, snap, c.appendCarry(snap, agentID, p.ID, p))
	return nil
}

// AppendMessage implements session.MessageAppender, and carries the
// message into the cache as CreateMessage does. The cache implements it
// whatever it wraps: when the wrapped repository is a
// session.MessageAppender the call is delegated (one atomic append in the
// store); otherwise it is emulated with CountMessages and CreateMessage at
// that id, retried after a short random pause on ErrConflict (another
// writer took the id) until it succeeds or ctx ends. The first count is
// read through the cache (after this process's own appends it is a hit, so
// the append costs the backend one write); every retry's comes from the
// wrapped repository. A count from the cache can only be too low when
// another writer's append has not reached Redis yet, and then the create
// fails with ErrConflict and is retried, never misplaced. The emulation
// keeps the contract — never ErrConflict because another writer appended
// first — for as long as ctx lets it retry; when ctx ends first it returns
// ctx's error wrapping the last conflict.
func (c *Cache) AppendMessage(ctx context.Context, sessionID, agentID string, m *session.Message) (int, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	p, ok := storable(m, 0, time.Now(), c.TimePrecision())
	if !ok || !validPath(sessionID, &agentID) {
		id, err := c.appendTo(ctx, sessionID, agentID, m, nil)
		return id, c.written(ctx, sessionID, err)
	}
	snap := c.snapshot(ctx, sessionID, fieldSession(), fieldAgent(agentID), fieldTail(agentID), fieldCount(agentID))
	id, err := c.appendTo(ctx, sessionID, agentID, p, snap)
	if err != nil || snap == nil {
		return id, c.written(ctx, sessionID, err)
	}
	c.commit(ctx, sessionID, snap, c.appendCarry(snap, agentID, id, p))
	return id, nil
}

// AppendPrepared implements driver.PreparedAppender: the session manager's
// validate-once append, carried into the cache as AppendMessage carries
// its message. When the wrapped repository is a driver.PreparedAppender
// the message goes to it without another validation: as it is when its
// times are already at the backend's precision (TimePrecision), else as a
// copy with the times cut, prepared again once (the cache must carry what
// the backend keeps). Otherwise, and for a message whose guardrail event
// or metrics the cache would have to adjust, it is AppendMessage.
func (c *Cache) AppendPrepared(ctx context.Context, sessionID, agentID string, pm *driver.PreparedMessage) (int, error) {
	pa, ok := c.inner.(driver.PreparedAppender)
	if !ok || pm == nil {
		var m *session.Message
		if pm != nil {
			m = pm.Message()
		}
		return c.AppendMessage(ctx, sessionID, agentID, m)
	}
	m := pm.Message()
	if m.GuardrailEvent != nil || m.EventLoopMetrics != nil || !validPath(sessionID, &agentID) {
		return c.AppendMessage(ctx, sessionID, agentID, m)
	}
	if err := c.check(); err != nil {
		return 0, err
	}
	prec := c.TimePrecision()
	carried := *m // shares the immutable contents; the carry only encodes them
	carried.ID = 0
	carried.CreatedAt = m.CreatedAt.Truncate(prec)
	carried.UpdatedAt = m.UpdatedAt.Truncate(prec)
	send := pm
	if !carried.CreatedAt.Equal(m.CreatedAt) || !carried.UpdatedAt.Equal(m.UpdatedAt) {
		p, err := driver.NewPreparedMessage(&carried, time.Now())
		if err != nil {
			return c.AppendMessage(ctx, sessionID, agentID, m)
		}
		send = p
	}
	snap := c.snapshot(ctx, sessionID, fieldSession(), fieldAgent(agentID), fieldTail(agentID), fieldCount(agentID))
	id, err := pa.AppendPrepared(ctx, sessionID, agentID, send)
	if err != nil || snap == nil {
		return id, c.written(ctx, sessionID, err)
	}
	c.commit(ctx, sessionID, snap, c.appendCarry(snap, agentID, id, &carried))
	return id, nil
}

// appendTo appends m in the wrapped repository: delegated or emulated (see
// AppendMessage). An emulated append's first id is the count the snapshot
// read from Redis when it has one (no extra call), else CountMessages
// through the cache.
func (c *Cache) appendTo(ctx context.Context, sessionID, agentID string, m *session.Message, snap *wtSnapshot) (int, error) {
	if a, ok := c.inner.(session.MessageAppender); ok {
		return a.AppendMessage(ctx, sessionID, agentID, m)
	}
	first := true
	count := func(ctx context.Context) (int, error) {
		if first && validPath(sessionID, &agentID) {
			first = false
			if n, _, ok := snap.count(agentID); ok {
				return n, nil
			}
			return c.CountMessages(ctx, sessionID, agentID)
		}
		return c.inner.CountMessages(ctx, sessionID, agentID)
	}
	return driver.AppendByCreate(ctx, c.inner, count, sessionID, agentID, m)
}

// GetMessage implements session.MessageStore, through the cache.
func (c *Cache) GetMessage(ctx context.Context, sessionID, agentID string, messageID int) (*session.Message, error) {
	load := func(ctx context.Context) (*session.Message, error) {
		return c.inner.GetMessage(ctx, sessionID, agentID, messageID)
	}
	if !validPath(sessionID, &agentID) || messageID < 0 {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldMessage(agentID, messageID), messageCodec, load)
}

// UpdateMessage implements session.MessageStore. It carries the agent's
// tail with the message replaced (metrics stored at the end of an
// invocation, a redaction), the session stamped and the agent and count
// unchanged (see the package documentation). An update that sets a
// guardrail event only invalidates.
func (c *Cache) UpdateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	if err := c.check(); err != nil {
		return err
	}
	var snap *wtSnapshot
	send := m
	if m != nil && m.GuardrailEvent == nil && validPath(sessionID, &agentID) {
		if p, ok := storable(m, m.ID, time.Now(), c.TimePrecision()); ok {
			send = p
			snap = c.snapshot(ctx, sessionID, fieldSession(), fieldAgent(agentID), fieldTail(agentID), fieldCount(agentID))
		}
	}
	err := c.inner.UpdateMessage(ctx, sessionID, agentID, send)
	if err != nil || snap == nil {
		return c.written(ctx, sessionID, err)
	}
	c.commit(ctx, sessionID, snap, c.updateMessageCarry(snap, agentID, send))
	return nil
}

// ListMessages implements session.MessageStore, through the cache. A read
// of everything from an offset on (limit <= 0: how a conversation is
// resumed) is served from the agent's tail entry when the tail starts at
// or before offset, and fills the tail otherwise; appends extend the tail
// (see the package documentation). Other pages have one entry per
// (agent, offset, limit) that every write retires.
func (c *Cache) ListMessages(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error) {
	load := func(ctx context.Context) ([]*session.Message, error) {
		return c.inner.ListMessages(ctx, sessionID, agentID, offset, limit)
	}
	if !validPath(sessionID, &agentID) || offset < 0 {
		return direct(c, ctx, load)
	}
	if limit > 0 {
		return read(ctx, c, sessionID, fieldMessages(agentID, offset, limit), messagesCodec, load)
	}
	cd := tailCodec
	cd.usable = func(t *tail) bool { return t.Offset <= offset }
	cd.flight = strconv.Itoa(offset)
	t, err := read(ctx, c, sessionID, fieldTail(agentID), cd, func(ctx context.Context) (*tail, error) {
		ms, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return &tail{Offset: offset, Messages: ms}, nil
	})
	if err != nil {
		return nil, err
	}
	return t.Messages[min(offset-t.Offset, len(t.Messages)):], nil
}

// CountMessages implements session.MessageStore, through the cache.
func (c *Cache) CountMessages(ctx context.Context, sessionID, agentID string) (int, error) {
	load := func(ctx context.Context) (int, error) { return c.inner.CountMessages(ctx, sessionID, agentID) }
	if !validPath(sessionID, &agentID) {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldCount(agentID), countCodec, load)
}

// UpdateMetadata implements session.MetadataStore.
func (c *Cache) UpdateMetadata(ctx context.Context, sessionID string, metadata map[string]any) error {
	if err := c.check(); err != nil {
		return err
	}
	return c.written(ctx, sessionID, c.inner.UpdateMetadata(ctx, sessionID, metadata))
}

// GetMetadata implements session.MetadataStore, through the cache.
func (c *Cache) GetMetadata(ctx context.Context, sessionID string) (map[string]any, error) {
	load := func(ctx context.Context) (map[string]any, error) { return c.inner.GetMetadata(ctx, sessionID) }
	if !validPath(sessionID, nil) {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldMetadata(), metadataCodec, load)
}

// DeleteMetadata implements session.MetadataStore.
func (c *Cache) DeleteMetadata(ctx context.Context, sessionID string, keys []string) error {
	if err := c.check(); err != nil {
		return err
	}
	return c.written(ctx, sessionID, c.inner.DeleteMetadata(ctx, sessionID, keys))
}

// AddFeedback implements session.FeedbackStore.
func (c *Cache) AddFeedback(ctx context.Context, sessionID string, f *session.Feedback) (*session.Feedback, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	out, err := c.inner.AddFeedback(ctx, sessionID, f)
	return out, c.written(ctx, sessionID, err)
}

// ListFeedback implements session.FeedbackStore, through the cache.
func (c *Cache) ListFeedback(ctx context.Context, sessionID string) ([]*session.Feedback, error) {
	load := func(ctx context.Context) ([]*session.Feedback, error) { return c.inner.ListFeedback(ctx, sessionID) }
	if !validPath(sessionID, nil) {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldFeedback(), feedbackCodec, load)
}

// RecordGuardrailEvent implements session.GuardrailStore.
func (c *Cache) RecordGuardrailEvent(ctx context.Context, sessionID, agentID string, messageID int, ev *session.GuardrailEvent) error {
	if err := c.check(); err != nil {
		return err
	}
	return c.written(ctx, sessionID, c.inner.RecordGuardrailEvent(ctx, sessionID, agentID, messageID, ev))
}

// ListGuardrailEvents implements session.GuardrailStore, through the cache.
func (c *Cache) ListGuardrailEvents(ctx context.Context, sessionID string) ([]*session.SessionGuardrailEvent, error) {
	load := func(ctx context.Context) ([]*session.SessionGuardrailEvent, error) {
		return c.inner.ListGuardrailEvents(ctx, sessionID)
	}
	if !validPath(sessionID, nil) {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldGuardrails(), guardrailsCodec, load)
}

// direct reads the backend without the cache.
func direct[T any](c *Cache, ctx context.Context, load func(context.Context) (T, error)) (T, error) {
	if err := c.check(); err != nil {
		var zero T
		return zero, err
	}
	return load(ctx)
}
