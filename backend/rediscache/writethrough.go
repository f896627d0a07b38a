package rediscache

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// tail is the end of one agent's message log as ListMessages(Offset, 0)
// returned it: every message from position Offset to the end, so the
// agent held exactly Offset+len(Messages) messages. It is the entry the
// resume of a conversation reads (the window from removed_message_count
// on), and the one an append extends (see appendCarry).
type tail struct {
	Offset   int
	Messages []*session.Message
}

// tailCodec stores a tail. Only non-empty tails are stored: an empty
// ListMessages answer does not say how many messages there are.
var tailCodec = codec[*tail]{kind: KindMessages,
	enc: func(e *encoder, t *tail) error {
		e.varint(int64(t.Offset))
		return encodeList(e, t.Messages, (*encoder).message)
	},
	dec: func(d *decoder) *tail {
		t := &tail{Offset: d.int()}
		t.Messages = decodeList(d, minMessageBytes, (*decoder).messageInto)
		return t
	},
	fillable: func(t *tail) bool { return len(t.Messages) > 0 },
}

// wtSnapshot is what a write read from Redis before it wrote the backend:
// the session's generation token and the entries that carried it, for the
// commit to carry over to the next generation (see commit).
type wtSnapshot struct {
	keys  sessionKeys
	token string
	// bodies maps a field to its entry's body (status byte and record),
	// for the entries filled or carried under token only.
	bodies map[string]string
	// ttls maps a field to its entry's remaining time to live. A carried
	// entry keeps it: it expires when the fill it descends from would
	// have, so that the TTL bound (a change whose invalidation could not
	// land is served stale at most a TTL) holds for carried entries too.
	ttls map[string]time.Duration
	// stamp is this process's clock before the backend write: the
	// UpdatedAt a carried session or agent record gets (see doc.go).
	stamp time.Time
}

// snapshot reads the generation token and the entries at fields in one
// MULTI/EXEC, before a write goes to the backend. It returns nil — the
// write then invalidates as any other — when the session is not cacheable
// here (its invalidation is pending), the breaker is open, Redis fails or
// the session has no generation (so no entry to carry).
func (c *Cache) snapshot(ctx context.Context, sessionID string, fields ...string) *wtSnapshot {
	if driver.ValidateSessionID(sessionID) != nil || !c.cacheable(sessionID) || !c.br.allow() {
		return nil
	}
	stamp := driver.UTCMicro(time.Now())
	keys := keysFor(c.opts.Prefix, sessionID)
	rctx, cancel := c.redisCtx(ctx)
	defer cancel()
	cmds := make([]*redis.StringCmd, len(fields)+1)
	pttls := make([]*redis.DurationCmd, len(fields))
	_, err := c.client.TxPipelined(rctx, func(p redis.Pipeliner) error {
		cmds[0] = p.Get(rctx, keys.gen)
		for i, f := range fields {
			cmds[i+1] = p.Get(rctx, keys.entry(f))
			pttls[i] = p.PTTL(rctx, keys.entry(f))
		}
		return nil
	})
	for _, cmd := range cmds {
		if e := cmd.Err(); e != nil && !errors.Is(e, redis.Nil) {
			err = e
		}
	}
	for _, cmd := range pttls {
		if e := cmd.Err(); e != nil && !errors.Is(e, redis.Nil) {
			err = e
		}
	}
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	if !c.redisDone(ctx, err) {
		return nil
	}
	token, gerr := cmds[0].Result()
	if gerr != nil {
		return nil
	}
	s := &wtSnapshot{keys: keys, token: token, bodies: map[string]string{}, ttls: map[string]time.Duration{}, stamp: stamp}
	for i, f := range fields {
		raw, err := cmds[i+1].Result()
		if err != nil {
			continue
		}
		// At least a few milliseconds left, or the entry is not worth
		// carrying (PTTL is negative for a key without expiry or gone).
		ttl := pttls[i].Val()
		if tok, body, ok := splitEntry(raw); ok && tok == token && ttl >= 5*time.Millisecond {
			s.bodies[f] = body
			s.ttls[f] = ttl
		}
	}
	return s
}

// count returns the agent's message count as the snapshot knows it, and
// the remaining TTL of the entry it comes from: from the count entry, else
// from the tail (which ends at the last message).
func (s *wtSnapshot) count(agentID string) (int, time.Duration, bool) {
	if s == nil {
		return 0, 0, false
	}
	if body, ok := s.bodies[fieldCount(agentID)]; ok {
		if n, err, ok := decodeBody(countCodec, body); ok && err == nil {
			return n, s.ttls[fieldCount(agentID)], true
		}
	}
	if body, ok := s.bodies[fieldTail(agentID)]; ok {
		if t, err, ok := decodeBody(tailCodec, body); ok && err == nil {
			return t.Offset + len(t.Messages), s.ttls[fieldTail(agentID)], true
		}
	}
	return 0, 0, false
}

// carried is an entry a commit stores under the new generation.
type carried struct {
	field string
	entry string
	ttl   time.Duration
}

// retoken re-labels the entry at field, unchanged, for generation gen.
func (s *wtSnapshot) retoken(field, gen string) (carried, bool) {
	body, ok := s.bodies[field]
	if !ok || len(body) == 0 || body[0] != statusFound {
		return carried{}, false
	}
	b := append(make([]byte, 0, 2+len(gen)+len(body)), formatVersion, byte(len(gen)))
	b = append(append(b, gen...), body...)
	return carried{field: field, entry: string(b), ttl: s.ttls[field]}, true
}

// carry decodes the found record at field, lets change edit it (false:
// do not carry it) and encodes it for generation gen.
func carry[T any](c *Cache, s *wtSnapshot, cd codec[T], field, gen string, change func(T) bool) (carried, bool) {
	body, ok := s.bodies[field]
	if !ok {
		return carried{}, false
	}
	v, err, ok := decodeBody(cd, body)
	if !ok || err != nil || !change(v) {
		return carried{}, false
	}
	b, eerr := encodeEntry(cd, gen, v, nil)
	if eerr != nil || b == nil || len(b) > c.opts.MaxValueBytes {
		return carried{}, false
	}
	return carried{field: field, entry: string(b), ttl: s.ttls[field]}, true
}

// stampSession carries the session record with UpdatedAt moved to the
// snapshot's stamp, as every write under the session moves it.
func (s *wtSnapshot) stampSession(c *Cache, gen string) (carried, bool) {
	return carry(c, s, sessionCodec, fieldSession(), gen, func(v *session.Session) bool {
		if s.stamp.After(v.UpdatedAt) {
			v.UpdatedAt = s.stamp
		}
		return true
	})
}

// appendCarry is what an append of message p at id carries: the session
// (stamped), the agent record unchanged, the tail extended by p when it
// ended exactly at id, and the count when it was id. Entries that do not
// fit the append — another writer's messages are missing from them — are
// not carried, so they die with the old generation.
func (c *Cache) appendCarry(s *wtSnapshot, agentID string, id int, p *session.Message) func(gen string) []carried {
	return func(gen string) []carried {
		var out []carried
		add := func(e carried, ok bool) {
			if ok {
				out = append(out, e)
			}
		}
		add(s.stampSession(c, gen))
		add(s.retoken(fieldAgent(agentID), gen))
		add(carry(c, s, tailCodec, fieldTail(agentID), gen, func(t *tail) bool {
			if t.Offset+len(t.Messages) != id {
				return false
			}
			m := *p
			m.ID = id
			t.Messages = append(t.Messages, &m)
			if over := len(t.Messages) - c.opts.TailMessages; over > 0 {
				t.Messages = t.Messages[over:]
				t.Offset += over
			}
			return true
		}))
		// The count, when the snapshot knew it (from the count or the tail)
		// to be id: the append made it id+1.
		if n, ttl, ok := s.count(agentID); ok && n == id {
			if b, err := encodeEntry(countCodec, gen, id+1, nil); err == nil {
				out = append(out, carried{field: fieldCount(agentID), entry: string(b), ttl: ttl})
			}
		}
		return out
	}
}

// updateAgentCarry is what UpdateAgent carries: the session (stamped), the
// agent record with the three states replaced by p's and UpdatedAt
// stamped, and the agent's tail and count unchanged.
func (c *Cache) updateAgentCarry(s *wtSnapshot, p *session.Agent) func(gen string) []carried {
	return func(gen string) []carried {
		var out []carried
		add := func(e carried, ok bool) {
			if ok {
				out = append(out, e)
			}
		}
		add(s.stampSession(c, gen))
		add(carry(c, s, agentCodec, fieldAgent(p.ID), gen, func(a *session.Agent) bool {
			a.State = driver.CloneMap(p.State)
			a.ConversationManagerState = driver.CloneMap(p.ConversationManagerState)
			a.InternalState = driver.CloneMap(p.InternalState)
			if s.stamp.After(a.UpdatedAt) {
				a.UpdatedAt = s.stamp
			}
			return true
		}))
		add(s.retoken(fieldTail(p.ID), gen))
		add(s.retoken(fieldCount(p.ID), gen))
		return out
	}
}

// updateMessageCarry is what UpdateMessage carries: the session (stamped),
// the agent record and count unchanged, and the tail with message p.ID
// replaced as the backend replaces it (Message and RedactMessage always,
// EventLoopMetrics when set, CreatedAt kept, UpdatedAt stamped) when the
// tail holds it, or unchanged when it does not.
func (c *Cache) updateMessageCarry(s *wtSnapshot, agentID string, p *session.Message) func(gen string) []carried {
	return func(gen string) []carried {
		var out []carried
		add := func(e carried, ok bool) {
			if ok {
				out = append(out, e)
			}
		}
		add(s.stampSession(c, gen))
		add(s.retoken(fieldAgent(agentID), gen))
		add(s.retoken(fieldCount(agentID), gen))
		add(carry(c, s, tailCodec, fieldTail(agentID), gen, func(t *tail) bool {
			i := p.ID - t.Offset
			if i < 0 || i >= len(t.Messages) {
				return true // not in the tail: the tail is unchanged
			}
			next := *t.Messages[i]
			next.Message = p.Message
			next.RedactMessage = p.RedactMessage
			if p.EventLoopMetrics != nil {
				next.EventLoopMetrics = p.EventLoopMetrics
			}
			if s.stamp.After(next.UpdatedAt) {
				next.UpdatedAt = s.stamp
			}
			t.Messages[i] = &next
			return true
		}))
		return out
	}
}

// commitScript replaces the session's generation after a write. KEYS[1] is
// the generation key, KEYS[2..] the entries to carry; ARGV[1] is the token
// the writer saw before writing the backend, ARGV[2] the new token, ARGV[3]
// the generation's PX, then a value and a PX per entry. The generation is
// deleted first, so that whatever follows fails (out of memory) leaves the
// session invalidated, never half-carried: entries written under the new
// token are unusable until the token itself is set, last. When the
// generation is no longer the token the writer saw, another write (or an
// eviction) came in between and nothing is carried: the DEL alone is the
// invalidation. Every key shares the session's hash tag.
var commitScript = redis.NewScript(`
local g = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
if g ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2*i], 'PX', ARGV[2*i+1])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// commit runs after a write reached the backend. With a snapshot it
// carries what build returns (the entries the write did not make wrong,
// updated to what the backend now holds) to a new generation in one atomic
// script, which also retires the old generation; without one, or when the
// script fails, it is invalidate: the plain DEL with its budget, retries
// and pending set.
func (c *Cache) commit(ctx context.Context, sessionID string, s *wtSnapshot, build func(gen string) []carried) {
	if s == nil {
		c.invalidate(ctx, sessionID)
		return
	}
	gen := newToken()
	entries := build(gen)
	if len(entries) == 0 {
		c.invalidate(ctx, sessionID)
		return
	}
	keys := make([]string, 0, 1+len(entries))
	args := make([]any, 0, 3+2*len(entries))
	keys = append(keys, s.keys.gen)
	genTTL := c.opts.maxTTL()
	args = append(args, s.token, gen, 0)
	for _, e := range entries {
		keys = append(keys, s.keys.entry(e.field))
		args = append(args, e.entry, e.ttl.Milliseconds())
		genTTL = max(genTTL, e.ttl)
	}
	args[2] = genTTL.Milliseconds()
	seq := c.seq.Load()
	rctx, cancel := context.WithTimeout(ctx, min(c.opts.RedisTimeout, c.opts.InvalidateTimeout))
	n, err := commitScript.Run(rctx, c.client, keys, args...).Int()
	cancel()
	if err != nil {
		// Out of memory, a lost connection, a timeout: whatever the script
		// did, the DEL with its own budget (and pending set) follows.
		c.refreshTopology()
		c.invalidate(ctx, sessionID)
		return
	}
	c.invalidations.Add(1)
	c.br.success()
	if n == 1 {
		c.writeThroughs.Add(1)
	}
	c.clearPending(sessionID, seq)
}

// storable returns the copy of m a write through the cache stores: m
// prepared (validated, normalized, zero times set to now) with its times
// at the wrapped backend's precision (prec, see Cache.TimePrecision), and
// an empty rather than nil tool-usage map in its metrics, so that what the
// backend stores is exactly what the cache carries. ok is
// false when m does not prepare: it then goes to the backend as it is, for
// the backend's own error.
func storable(m *session.Message, id int, now time.Time, prec time.Duration) (*session.Message, bool) {
	if m == nil {
		return nil, false
	}
	in := *m
	in.ID = id
	p, err := driver.PrepareMessage(&in, now)
	if err != nil {
		return nil, false
	}
	p.CreatedAt = p.CreatedAt.Truncate(prec)
	p.UpdatedAt = p.UpdatedAt.Truncate(prec)
	if p.GuardrailEvent != nil {
		p.GuardrailEvent.Timestamp = p.GuardrailEvent.Timestamp.Truncate(prec)
	}
	if p.EventLoopMetrics != nil && p.EventLoopMetrics.ToolUsage == nil {
		// MongoDB reads an absent tool-usage map back as an empty one; the
		// memory and SQLite backends keep what they were given. Sending an
		// empty map makes every backend return what the cache carries.
		p.EventLoopMetrics.ToolUsage = map[string]session.ToolUsage{}
	}
	return p, true
}
