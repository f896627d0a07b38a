package mongo

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Orchestrator (Graph and Swarm) state lives in the session document under
// the root field multi_agents, one entry per orchestrator id:
//
//	multi_agents.<id> = {state: {...}, created_at: date, updated_at: date}
//
// where <id> is escaped when it holds "." or "$" (escapeKey), as Strands
// allows them in orchestrator ids.
//
// state is the orchestrator's serialize_state() object, stored like agent
// state (keys escaped, []byte as Binary). The Python original's reader
// reads named root fields (session_id, session_type, the timestamps) and
// projects agents.<id> for agents, so it ignores this field without
// breaking (original.md §2); entries never go under agents, where the
// original would take them for agents without agent_data and raise. The
// field is absent until the first orchestrator is created. DeleteSession
// removes the document and with it every orchestrator.

const (
	fMultiAgents = "multi_agents" // root, added: orchestrator state by id
	fState       = "state"
)

var _ session.MultiAgentStore = (*Repository)(nil)

// multiAgentLayout is the part of a layout that stores orchestrator state.
type multiAgentLayout interface {
	createMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error
	getMultiAgent(ctx context.Context, sessionID, id string) (*session.MultiAgent, error)
	updateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error
	listMultiAgents(ctx context.Context, sessionID string) ([]*session.MultiAgent, error)
}

var _ multiAgentLayout = (*embeddedLayout)(nil)

// multiAgentKey is the field path of an orchestrator's entry. Ids may hold
// "." and "$" (the SDK allows them), so the field name is the id escaped
// like any stored map key (escapeKey); decodeMultiAgents unescapes it.
func multiAgentKey(id string) string { return fMultiAgents + "." + escapeKey(id) }

// multiAgents returns the layout's orchestrator store.
func (r *Repository) multiAgents() (multiAgentLayout, error) {
	l, ok := r.layout.(multiAgentLayout)
	if !ok {
		return nil, fmt.Errorf("mongo: layout %T does not store multi-agent state", r.layout)
	}
	return l, nil
}

// CreateMultiAgent implements session.MultiAgentStore: one conditional
// update that requires the entry to be absent.
func (r *Repository) CreateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	p, err := driver.PrepareMultiAgent(m, r.opts.Now())
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	l, err := r.multiAgents()
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return l.createMultiAgent(ctx, sessionID, p)
	})
}

// GetMultiAgent implements session.MultiAgentStore: one find projecting the
// entry.
func (r *Repository) GetMultiAgent(ctx context.Context, sessionID, multiAgentID string) (*session.MultiAgent, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	if err := driver.ValidateMultiAgentID(multiAgentID); err != nil {
		return nil, err
	}
	l, err := r.multiAgents()
	if err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	out, err := l.getMultiAgent(ctx, sessionID, multiAgentID)
	return out, r.fail(err)
}

// UpdateMultiAgent implements session.MultiAgentStore: one conditional
// update that requires the entry to exist and replaces its state.
func (r *Repository) UpdateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	p, err := driver.PrepareMultiAgent(m, r.opts.Now())
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	l, err := r.multiAgents()
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return l.updateMultiAgent(ctx, sessionID, p)
	})
}

// ListMultiAgents implements session.MultiAgentStore: one find projecting
// multi_agents (not the messages).
func (r *Repository) ListMultiAgents(ctx context.Context, sessionID string) ([]*session.MultiAgent, error) {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	l, err := r.multiAgents()
	if err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	out, err := l.listMultiAgents(ctx, sessionID)
	return out, r.fail(err)
}

func (l *embeddedLayout) createMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	now := bsonTime(l.r.opts.Now())
	entry := bson.D{
		{Key: fState, Value: mapToD(m.State)},
		{Key: fCreatedAt, Value: bsonTime(m.CreatedAt)},
		{Key: fUpdatedAt, Value: bsonTime(m.UpdatedAt)},
	}
	return l.apply(ctx, sessionID, "", write{
		cond: bson.D{{Key: multiAgentKey(m.ID), Value: bson.D{{Key: "$exists", Value: false}}}},
		set:  bson.D{{Key: multiAgentKey(m.ID), Value: entry}, {Key: fUpdatedAt, Value: now}},
		grow: sizeOf(m.ID, entry),
		// The session exists and the size fits, so the entry is there.
		mismatch: func(*docState) error {
			return driver.MultiAgentError(sessionID, m.ID, session.ErrAlreadyExists)
		},
	})
}

func (l *embeddedLayout) updateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	now := bsonTime(l.r.opts.Now())
	k := multiAgentKey(m.ID) + "."
	set := bson.D{
		{Key: k + fState, Value: mapToD(m.State)},
		{Key: k + fUpdatedAt, Value: now},
		{Key: fUpdatedAt, Value: now},
	}
	grow := sizeOf("set", set)
	set, unset, err := l.exactSets(ctx, sessionID, set)
	if err != nil {
		return err
	}
	return l.apply(ctx, sessionID, "", write{
		cond: bson.D{{Key: k + fState, Value: bson.D{{Key: "$exists", Value: true}}}},
		set:  set, unset: unset, grow: grow,
		mismatch: func(*docState) error {
			return driver.MultiAgentError(sessionID, m.ID, session.ErrNotFound)
		},
	})
}

func (l *embeddedLayout) getMultiAgent(ctx context.Context, sessionID, id string) (*session.MultiAgent, error) {
	d, err := l.r.findOne(ctx, sessionID, bson.D{{Key: multiAgentKey(id), Value: 1}, {Key: fDocSize, Value: 1}})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, driver.SessionError(sessionID, session.ErrNotFound)
	}
	l.observe(sessionID, d)
	entry, _ := path(d, fMultiAgents, escapeKey(id))
	m, ok := decodeMultiAgent(id, docOf(entry))
	if !ok {
		return nil, driver.MultiAgentError(sessionID, id, session.ErrNotFound)
	}
	return m, nil
}

func (l *embeddedLayout) listMultiAgents(ctx context.Context, sessionID string) ([]*session.MultiAgent, error) {
	d, err := l.r.findOne(ctx, sessionID, bson.D{{Key: fMultiAgents, Value: 1}, {Key: fDocSize, Value: 1}})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, driver.SessionError(sessionID, session.ErrNotFound)
	}
	l.observe(sessionID, d)
	out := []*session.MultiAgent{}
	for _, e := range docOf(mustField(d, fMultiAgents)) {
		if m, ok := decodeMultiAgent(unescapeKey(e.Key), docOf(e.Value)); ok {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// decodeMultiAgent reads one multi_agents entry; ok is false when it has no
// state object.
func decodeMultiAgent(id string, entry bson.D) (*session.MultiAgent, bool) {
	st, ok := field(entry, fState)
	if !ok {
		return nil, false
	}
	state := fromBSONMap(st)
	if state == nil {
		return nil, false
	}
	created, _ := field(entry, fCreatedAt)
	updated, _ := field(entry, fUpdatedAt)
	return &session.MultiAgent{ID: id, State: state, CreatedAt: timeOf(created), UpdatedAt: timeOf(updated)}, true
}
