package rediscache

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.TimeRestorer = (*Cache)(nil)

// RestoreTimes implements session.TimeRestorer by delegation, and retires
// the session's cached entries like any write, since the session and its
// agents carry the restored times. When the wrapped repository lacks the
// role it fails with an error matching errors.ErrUnsupported and touches
// neither Redis nor the backend.
func (c *Cache) RestoreTimes(ctx context.Context, sessionID string, t session.StoredTimes) error {
	if err := c.check(); err != nil {
		return err
	}
	tr, err := session.TimeRestorerOf(c.inner)
	if err != nil {
		return err
	}
	return c.written(ctx, sessionID, tr.RestoreTimes(ctx, sessionID, t))
}
