package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/session"
)

var (
	_ session.MessageAppender   = (*Repository)(nil)
	_ session.MessageRenumberer = (*Repository)(nil)
)

// nextIDHints remembers, per agent, the message count this process last saw
// (after its own append, a count, a full listing, or a failed append's
// read). AppendMessage uses it as the guess for the next id; the write's
// filter checks the guess against the array itself, so a stale hint costs a
// retry, never a wrong id.
type nextIDHints struct {
	mu sync.Mutex
	m  map[string]int
}

// maxHints bounds the remembered agents; past it the map starts afresh
// (a forgotten agent costs one read on its next append).
const maxHints = 10000

func hintKey(sessionID, agentID string) string { return sessionID + "\x00" + agentID }

func (h *nextIDHints) get(sessionID, agentID string) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, ok := h.m[hintKey(sessionID, agentID)]
	return n, ok
}

func (h *nextIDHints) set(sessionID, agentID string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHints {
		h.m = map[string]int{}
	}
	h.m[hintKey(sessionID, agentID)] = n
}

// maxAppendAttempts bounds AppendMessage's retries. Every lost attempt means
// another writer appended, so the bound is reached only by starvation under
// extreme contention; the context ends it sooner in practice.
const maxAppendAttempts = 1000

// AppendMessage implements session.MessageAppender. Its write is
// CreateMessage's single conditional update (the array holds exactly id
// elements and none holds id) with id guessed from what this process last
// saw of the agent; a wrong guess fails the filter, whose follow-up read
// yields the true count for the next attempt. So an append costs one round
// trip when this process wrote or read the agent last (an agent runs in one
// process at a time), two on its first append in a process, and it retries
// until it wins when other writers append at the same time. An agent whose
// next id is already held by another message (only a foreign writer leaves
// that) gets a *session.MessageIDReport (session.ErrMessageIDs) and nothing
// is written.
func (r *Repository) AppendMessage(ctx context.Context, sessionID, agentID string, m *session.Message) (int, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return 0, err
	}
	if m == nil {
		return 0, session.InvalidArgument("message", "is nil")
	}
	in := *m
	in.ID = 0
	p, err := session.PrepareMessage(&in, r.opts.Now())
	if err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		next, known := r.hints.get(sessionID, agentID)
		if !known {
			ids, err := r.readMessageIDs(ctx, sessionID, agentID)
			if err != nil {
				return 0, err
			}
			next = len(ids)
		}
		p.ID = next
		err := r.write(ctx, sessionID, func(ctx context.Context) error {
			return r.layout.createMessage(ctx, sessionID, agentID, p)
		})
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, session.ErrConflict) || errors.Is(err, session.ErrMessageIDs) || attempt+1 >= maxAppendAttempts {
			return 0, err
		}
		if err := ctx.Err(); err != nil {
			return 0, session.AgentError(sessionID, agentID, err)
		}
	}
}

// readMessageIDs is a read of the agent's message ids in array order.
func (r *Repository) readMessageIDs(ctx context.Context, sessionID, agentID string) ([]int, error) {
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	ids, err := r.layout.messageIDs(ctx, sessionID, agentID)
	return ids, r.fail(err)
}

// CheckMessages reports whether the agent's stored message ids are 0..n-1
// in array order: nil when they are, else the report (see
// session.ErrMessageIDs). One round trip, transferring the ids only.
func (r *Repository) CheckMessages(ctx context.Context, sessionID, agentID string) (*session.MessageIDReport, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, err
	}
	ids, err := r.readMessageIDs(ctx, sessionID, agentID)
	if err != nil {
		return nil, err
	}
	return session.CheckMessageIDs(sessionID, agentID, ids), nil
}

// RenumberMessages implements session.MessageRenumberer: one read of the
// ids and, if any is off, one update (see renumberMessages); a concurrent
// write to the agent's array makes it read again.
func (r *Repository) RenumberMessages(ctx context.Context, sessionID, agentID string) (int, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		ids, err := r.readMessageIDs(ctx, sessionID, agentID)
		if err != nil {
			return 0, err
		}
		if session.CheckMessageIDs(sessionID, agentID, ids) == nil {
			return 0, nil
		}
		var changed int
		err = r.write(ctx, sessionID, func(ctx context.Context) error {
			var err error
			changed, err = r.layout.renumberMessages(ctx, sessionID, agentID, ids)
			return err
		})
		if err == nil {
			return changed, nil
		}
		if !errors.Is(err, session.ErrConflict) || attempt >= 8 {
			return 0, err
		}
	}
}

// renumberMessages $set-s message_id of exactly the elements whose id in
// ids (as read) is not their position, and the message_count hint, with a
// filter that requires the array length and every rewritten element's old
// id — so it never renumbers something it did not see. It returns how many
// ids it changed; ErrConflict when the agent changed since ids was read.
func (l *embeddedLayout) renumberMessages(ctx context.Context, sessionID, agentID string, ids []int) (int, error) {
	k := agentKey(agentID) + "." + fMessages
	cond := bson.D{agentExists(agentID), {Key: k, Value: bson.D{{Key: "$size", Value: int64(len(ids))}}}}
	set := bson.D{}
	for i, id := range ids {
		if id == i {
			continue
		}
		p := fmt.Sprintf("%s.%d.%s", k, i, fMessageID)
		if id >= 0 { // an element without an integer id is only guarded by the length
			cond = append(cond, bson.E{Key: p, Value: int64(id)})
		}
		set = append(set, bson.E{Key: p, Value: int64(i)})
	}
	changed := len(set)
	set = append(set, bson.E{Key: agentKey(agentID) + "." + fMessageCount, Value: int64(len(ids))})
	if err := l.apply(ctx, sessionID, agentID, write{cond: cond, set: set, grow: sizeOf("set", set)}); err != nil {
		return 0, err
	}
	l.r.hints.set(sessionID, agentID, len(ids))
	return changed, nil
}
