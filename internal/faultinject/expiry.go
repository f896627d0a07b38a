package faultinject

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.ExpiryStore = (*Repository)(nil)

// SetSessionExpiry implements session.ExpiryStore by delegation; it fails
// with errors.ErrUnsupported when the wrapped repository lacks it.
func (r *Repository) SetSessionExpiry(ctx context.Context, sessionID string, expiresAt time.Time) error {
	if err := r.before(ctx, "SetSessionExpiry"); err != nil {
		return err
	}
	e, err := session.ExpiryOf(r.inner)
	if err != nil {
		return err
	}
	return r.afterWrite("SetSessionExpiry", e.SetSessionExpiry(ctx, sessionID, expiresAt))
}

// SweepExpired implements session.ExpiryStore by delegation; it fails with
// errors.ErrUnsupported when the wrapped repository lacks it.
func (r *Repository) SweepExpired(ctx context.Context, limit int) (int, error) {
	if err := r.before(ctx, "SweepExpired"); err != nil {
		return 0, err
	}
	e, err := session.ExpiryOf(r.inner)
	if err != nil {
		return 0, err
	}
	n, err := e.SweepExpired(ctx, limit)
	return n, r.afterWrite("SweepExpired", err)
}

var _ session.IdleDeleter = (*Repository)(nil)

// DeleteSessionIfIdle implements session.IdleDeleter by delegation; it
// fails with errors.ErrUnsupported when the wrapped repository lacks it.
func (r *Repository) DeleteSessionIfIdle(ctx context.Context, sessionID string, before time.Time) (bool, error) {
	if err := r.before(ctx, "DeleteSessionIfIdle"); err != nil {
		return false, err
	}
	d, ok := r.inner.(session.IdleDeleter)
	if !ok {
		return false, fmt.Errorf("%T cannot delete conditionally: %w", r.inner, errors.ErrUnsupported)
	}
	deleted, err := d.DeleteSessionIfIdle(ctx, sessionID, before)
	return deleted, r.afterWrite("DeleteSessionIfIdle", err)
}
