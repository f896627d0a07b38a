package faultinject

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.Forker = (*Repository)(nil)

// ForkSession implements session.Forker by delegation; it fails with
// errors.ErrUnsupported when the wrapped repository lacks it.
func (r *Repository) ForkSession(ctx context.Context, req session.ForkRequest) (*session.Session, error) {
	if err := r.before(ctx, "ForkSession"); err != nil {
		return nil, err
	}
	f, err := session.ForkerOf(r.inner)
	if err != nil {
		return nil, err
	}
	s, err := f.ForkSession(ctx, req)
	return s, r.afterWrite("ForkSession", err)
}
