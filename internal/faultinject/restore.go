package faultinject

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.TimeRestorer = (*Repository)(nil)

// RestoreTimes implements session.TimeRestorer by delegation; it fails
// with errors.ErrUnsupported when the wrapped repository lacks it.
func (r *Repository) RestoreTimes(ctx context.Context, sid string, t session.StoredTimes) error {
	if err := r.before(ctx, "RestoreTimes"); err != nil {
		return err
	}
	tr, err := session.TimeRestorerOf(r.inner)
	if err != nil {
		return err
	}
	return r.afterWrite("RestoreTimes", tr.RestoreTimes(ctx, sid, t))
}
