package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var (
	_ session.MessageAppender   = (*Repository)(nil)
	_ driver.PreparedAppender   = (*Repository)(nil)
	_ session.MessageRenumberer = (*Repository)(nil)
)

// nextIDHints remembers, per agent, the message count this process last saw
// (after its own append, a count, a full listing, or a failed append's
// read). AppendMessage uses it as the guess for the next id; the write's
// filter checks the guess against the array itself, so a stale hint costs a
// retry, never a wrong id. One map serves the process, keyed by database,
// collection, session and agent like the write locks, so that repositories
// of one process sharing a collection keep each other's guesses right.
type nextIDHints struct {
	mu sync.Mutex
	m  map[string]int
}

// hints is the process's nextIDHints.
var hints nextIDHints

// maxHints bounds the remembered agents; past it the map starts afresh
// (a forgotten agent costs one read on its next append).
const maxHints = 10000

func (h *nextIDHints) get(key string) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, ok := h.m[key]
	return n, ok
}

func (h *nextIDHints) set(key string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHints {
		h.m = map[string]int{}
	}
	h.m[key] = n
}

// hintKey is the key of an agent of this repository's collection.
func (r *Repository) hintKey(sessionID, agentID string) string {
	return r.lockPrefix + sessionID + "\x00" + agentID
}

// nextHint returns the agent's next-id hint, if the process has one.
func (r *Repository) nextHint(sessionID, agentID string) (int, bool) {
	return hints.get(r.hintKey(sessionID, agentID))
}

// setNextHint records that the agent holds n messages.
func (r *Repository) setNextHint(sessionID, agentID string, n int) {
	hints.set(r.hintKey(sessionID, agentID), n)
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
		return 0, driver.InvalidArgument("message", "is nil")
	}
	in := *m
	in.ID = 0
	p, err := driver.PrepareMessage(&in, r.opts.Now())
	if err != nil {
		return 0, err
	}
	return r.appendPrepared(ctx, sessionID, agentID, p)
}

// AppendPrepared implements driver.PreparedAppender: AppendMessage (same
// writes, same round trips) without the second validation. The prepared
// message is not modified: the id goes on a copy of the struct.
func (r *Repository) AppendPrepared(ctx context.Context, sessionID, agentID string, m *driver.PreparedMessage) (int, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return 0, err
	}
	if m == nil {
		return 0, driver.InvalidArgument("message", "is nil")
	}
	p := *m.Message()
	return r.appendPrepared(ctx, sessionID, agentID, &p)
}

// appendPrepared appends p, prepared and owned by the call, setting p.ID.
func (r *Repository) appendPrepared(ctx context.Context, sessionID, agentID string, p *session.Message) (int, error) {
	for attempt := 0; ; attempt++ {
		var id int
		err := r.write(ctx, sessionID, func(ctx context.Context) error {
			// Guessed inside the write, so that on a server without atomic
			// updates, where writes of a session queue for its lock, the
			// guess is what the previous holder just appended.
			next, known := r.nextHint(sessionID, agentID)
			if !known {
				ids, err := r.layout.messageIDs(ctx, sessionID, agentID)
				if err != nil {
					return err
				}
				next = len(ids)
			}
			p.ID, id = next, next
			return r.layout.createMessage(ctx, sessionID, agentID, p)
		})
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, session.ErrConflict) || errors.Is(err, session.ErrMessageIDs) || attempt+1 >= maxAppendAttempts {
			return 0, err
		}
		if err := ctx.Err(); err != nil {
			return 0, driver.AgentError(sessionID, agentID, err)
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
	return driver.CheckMessageIDs(sessionID, agentID, ids), nil
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
		if driver.CheckMessageIDs(sessionID, agentID, ids) == nil {
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
	l.r.setNextHint(sessionID, agentID, len(ids))
	return changed, nil
}
