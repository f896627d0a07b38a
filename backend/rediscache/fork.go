package rediscache

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Forks pass through to the wrapped repository. A fork only creates a
// session, and the new id's cached entries can hold an earlier answer
// ("not found", or a deleted session of the same id), so its generation is
// retired after the fork as after CreateSession; the source is only read,
// and its entries stay valid. Lineage is part of the cached session record
// (format version 3), and the forks of a session are listed with
// ListSessions, which is never cached.
//
// When the wrapped repository does not implement session.Forker,
// ForkSession fails with an error matching errors.ErrUnsupported and
// touches neither Redis nor the backend.

var _ session.Forker = (*Cache)(nil)

// ForkSession implements session.Forker.
func (c *Cache) ForkSession(ctx context.Context, req session.ForkRequest) (*session.Session, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	f, err := session.ForkerOf(c.inner)
	if err != nil {
		return nil, err
	}
	s, err := f.ForkSession(ctx, req)
	if req.ID == "" || driver.ValidateSessionID(req.ID) != nil {
		return s, err
	}
	return s, c.written(ctx, req.ID, err)
}

// forkOrigin encodes a session's lineage: a presence byte, then the source
// session, agent, last message id (-1 for none) and time.
func (e *encoder) forkOrigin(o *session.ForkOrigin) {
	if o == nil {
		e.byte(0)
		return
	}
	e.byte(1)
	e.string(o.SessionID)
	e.string(o.AgentID)
	id := int64(-1)
	if o.MessageID != nil {
		id = int64(*o.MessageID)
	}
	e.varint(id)
	e.time(o.At)
}

func (d *decoder) forkOrigin() *session.ForkOrigin {
	if d.byte() == 0 {
		return nil
	}
	o := &session.ForkOrigin{SessionID: d.string(), AgentID: d.string()}
	if id := d.varint(); id >= 0 {
		n := int(id)
		o.MessageID = &n
	}
	o.At = d.time()
	return o
}
