package faultinject

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.APIKeyStore = (*Repository)(nil)

// apiKeys returns the wrapped repository's key store.
func (r *Repository) apiKeys() (session.APIKeyStore, error) {
	ks, ok := r.inner.(session.APIKeyStore)
	if !ok {
		return nil, fmt.Errorf("faultinject: %T stores no API keys: %w", r.inner, errors.ErrUnsupported)
	}
	return ks, nil
}

// CreateAPIKey implements session.APIKeyStore by delegation, with the
// configured faults.
func (r *Repository) CreateAPIKey(ctx context.Context, k *session.APIKey) error {
	ks, err := r.apiKeys()
	if err != nil {
		return err
	}
	if err := r.before(ctx, "CreateAPIKey"); err != nil {
		return err
	}
	return r.afterWrite("CreateAPIKey", ks.CreateAPIKey(ctx, k))
}

// APIKeyByHash implements session.APIKeyStore by delegation, with the
// configured faults.
func (r *Repository) APIKeyByHash(ctx context.Context, hash string) (*session.APIKey, error) {
	ks, err := r.apiKeys()
	if err != nil {
		return nil, err
	}
	if err := r.before(ctx, "APIKeyByHash"); err != nil {
		return nil, err
	}
	return ks.APIKeyByHash(ctx, hash)
}

// ListAPIKeys implements session.APIKeyStore by delegation, with the
// configured faults.
func (r *Repository) ListAPIKeys(ctx context.Context) ([]*session.APIKey, error) {
	ks, err := r.apiKeys()
	if err != nil {
		return nil, err
	}
	if err := r.before(ctx, "ListAPIKeys"); err != nil {
		return nil, err
	}
	return ks.ListAPIKeys(ctx)
}

// DeleteAPIKey implements session.APIKeyStore by delegation, with the
// configured faults.
func (r *Repository) DeleteAPIKey(ctx context.Context, id string) error {
	ks, err := r.apiKeys()
	if err != nil {
		return err
	}
	if err := r.before(ctx, "DeleteAPIKey"); err != nil {
		return err
	}
	return r.afterWrite("DeleteAPIKey", ks.DeleteAPIKey(ctx, id))
}
