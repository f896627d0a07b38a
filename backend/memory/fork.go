package memory

import (
	"context"
	"fmt"
	"maps"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.Forker = (*Repository)(nil)

// ForkSession implements session.Forker. The copy is made under the write
// lock, so it is one state of the source and the new session appears
// whole or not at all. Snapshot entries are shared with the source: they
// are never modified once stored (a write replaces the entry).
func (r *Repository) ForkSession(ctx context.Context, req session.ForkRequest) (*session.Session, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	req, err := driver.PrepareFork(req)
	if err != nil {
		return nil, driver.ForkError(req, err)
	}
	if err := r.lock(); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	src, err := r.session(req.SourceID)
	if err != nil {
		return nil, driver.ForkError(req, err)
	}
	if old, taken := r.sessions[req.ID]; taken {
		if !session.Expired(old.record, r.now()) {
			return nil, driver.ForkError(req, driver.SessionError(req.ID, session.ErrAlreadyExists))
		}
		r.remove(req.ID, old) // an expired session's id is free again, as for CreateSession
	}
	if r.opts.MaxSessions > 0 && len(r.sessions) >= r.opts.MaxSessions {
		return nil, driver.ForkError(req, driver.SessionError(req.ID, fmt.Errorf("%w: the repository holds its maximum of %d sessions",
			session.ErrTooLarge, r.opts.MaxSessions)))
	}
	now := r.now()
	rec := src.record.Clone()
	rec.ID = req.ID
	rec.ViewerPasswordHash = req.ViewerPasswordHash
	rec.CreatedAt, rec.UpdatedAt = now, now
	e := &sessionEntry{record: rec, agents: map[string]*agentEntry{}}
	copied := 0
	if req.AgentID == "" {
		for id, a := range src.agents {
			e.agents[id] = cloneAgentEntry(a, len(a.messages), false)
			copied += len(a.messages)
		}
		if src.multi != nil {
			e.multi = make(map[string]*session.MultiAgent, len(src.multi))
			for id, m := range src.multi {
				e.multi[id] = m.Clone()
			}
		}
		if src.snaps != nil {
			e.snaps = maps.Clone(src.snaps)
		}
	} else {
		a, ok := src.agents[req.AgentID]
		if !ok {
			return nil, driver.ForkError(req, driver.AgentError(req.SourceID, req.AgentID, session.ErrNotFound))
		}
		n, truncated, err := driver.ForkCut(req, len(a.messages))
		if err != nil {
			return nil, driver.ForkError(req, err)
		}
		e.agents[req.AgentID] = cloneAgentEntry(a, n, truncated)
		copied = n
	}
	rec.ForkedFrom = driver.NewForkOrigin(req, copied, now)
	if r.limited() {
		e.size = forkSize(e)
		if err := r.fits(req.ID, &sessionEntry{}, e.size); err != nil {
			return nil, driver.ForkError(req, err)
		}
	}
	r.sessions[req.ID] = e
	r.messages += copiedMessages(e)
	return rec.Clone(), nil
}

// cloneAgentEntry deep-copies a and its first n messages; truncated resets
// the state that describes the conversation after them.
func cloneAgentEntry(a *agentEntry, n int, truncated bool) *agentEntry {
	out := &agentEntry{record: a.record.Clone(), messages: make([]*session.Message, n)}
	for i, m := range a.messages[:n] {
		out.messages[i] = m.Clone()
	}
	if truncated {
		out.record = driver.ForkCutAgent(a.record)
	}
	return out
}

func copiedMessages(e *sessionEntry) int {
	n := 0
	for _, a := range e.agents {
		n += len(a.messages)
	}
	return n
}

// forkSize is the size estimate of a new fork, as the writes that would
// have built it add up.
func forkSize(e *sessionEntry) int {
	n := sessionSize(e.record)
	for _, a := range e.agents {
		n += agentSize(a.record)
		for _, m := range a.messages {
			n += messageSize(m)
		}
	}
	for _, m := range e.multi {
		n += multiAgentSize(m)
	}
	for _, s := range e.snaps {
		n += snapshotSize(s)
	}
	return n
}
