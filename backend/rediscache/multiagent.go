package rediscache

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Orchestrator (Graph and Swarm) state goes through the cache like every
// other per-session read, under the same generation-token scheme (see the
// package documentation): GetMultiAgent and ListMultiAgents are served from
// entries of the session, and CreateMultiAgent and UpdateMultiAgent write
// the backend first and then delete the session's generation key, so no
// read that starts after a write returns the state from before it, in this
// process or another. DeleteSession needs nothing more: its DEL retires
// these entries with the session's others. Fields are "o:<id>" (one
// record) and "O" (the listing); both live KindMultiAgent's TTL.
//
// When the wrapped repository does not implement session.MultiAgentStore,
// every method fails with an error matching errors.ErrUnsupported and
// touches neither Redis nor the backend.

var _ session.MultiAgentStore = (*Cache)(nil)

// KindMultiAgent is the kind of GetMultiAgent and ListMultiAgents entries,
// for Options.KindTTL and the URL's "ttl.multi_agent".
const KindMultiAgent Kind = "multi_agent"

func fieldMultiAgent(id string) string { return "o:" + id }
func fieldMultiAgents() string         { return "O" }

// minMultiAgentBytes is the fewest bytes one record encodes to: id, map and
// two times.
const minMultiAgentBytes = 4

var (
	multiAgentCodec = codec[*session.MultiAgent]{kind: KindMultiAgent,
		enc: func(e *encoder, m *session.MultiAgent) error { return e.multiAgent(m) },
		dec: func(d *decoder) *session.MultiAgent {
			m := new(session.MultiAgent)
			d.multiAgentInto(m)
			return m
		}}
	multiAgentsCodec = codec[[]*session.MultiAgent]{kind: KindMultiAgent,
		enc: func(e *encoder, ms []*session.MultiAgent) error { return encodeList(e, ms, (*encoder).multiAgent) },
		dec: func(d *decoder) []*session.MultiAgent {
			return decodeList(d, minMultiAgentBytes, (*decoder).multiAgentInto)
		}}
)

func (e *encoder) multiAgent(m *session.MultiAgent) error {
	e.string(m.ID)
	if err := e.mapValue(m.State); err != nil {
		return err
	}
	e.time(m.CreatedAt)
	e.time(m.UpdatedAt)
	return nil
}

func (d *decoder) multiAgentInto(m *session.MultiAgent) {
	m.ID = d.string()
	m.State = d.mapValue()
	m.CreatedAt = d.time()
	m.UpdatedAt = d.time()
}

// multiAgents returns the wrapped repository's MultiAgentStore after the
// closed check.
func (c *Cache) multiAgents() (session.MultiAgentStore, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return session.MultiAgentsOf(c.inner)
}

// CreateMultiAgent implements session.MultiAgentStore.
func (c *Cache) CreateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	ma, err := c.multiAgents()
	if err != nil {
		return err
	}
	return c.written(ctx, sessionID, ma.CreateMultiAgent(ctx, sessionID, m))
}

// GetMultiAgent implements session.MultiAgentStore, through the cache.
func (c *Cache) GetMultiAgent(ctx context.Context, sessionID, multiAgentID string) (*session.MultiAgent, error) {
	ma, err := c.multiAgents()
	if err != nil {
		return nil, err
	}
	load := func(ctx context.Context) (*session.MultiAgent, error) {
		return ma.GetMultiAgent(ctx, sessionID, multiAgentID)
	}
	if !validPath(sessionID, nil) || driver.ValidateMultiAgentID(multiAgentID) != nil {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldMultiAgent(multiAgentID), multiAgentCodec, load)
}

// UpdateMultiAgent implements session.MultiAgentStore.
func (c *Cache) UpdateMultiAgent(ctx context.Context, sessionID string, m *session.MultiAgent) error {
	ma, err := c.multiAgents()
	if err != nil {
		return err
	}
	return c.written(ctx, sessionID, ma.UpdateMultiAgent(ctx, sessionID, m))
}

// ListMultiAgents implements session.MultiAgentStore, through the cache.
func (c *Cache) ListMultiAgents(ctx context.Context, sessionID string) ([]*session.MultiAgent, error) {
	ma, err := c.multiAgents()
	if err != nil {
		return nil, err
	}
	load := func(ctx context.Context) ([]*session.MultiAgent, error) { return ma.ListMultiAgents(ctx, sessionID) }
	if !validPath(sessionID, nil) {
		return direct(c, ctx, load)
	}
	return read(ctx, c, sessionID, fieldMultiAgents(), multiAgentsCodec, load)
}
