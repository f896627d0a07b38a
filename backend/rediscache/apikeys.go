package rediscache

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.APIKeyStore = (*Cache)(nil)

// apiKeys returns the wrapped repository's key store. Keys are never
// cached: a revocation must hold at once on every instance, and a lookup is
// one indexed read of the backend.
func (c *Cache) apiKeys() (session.APIKeyStore, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	ks, ok := c.inner.(session.APIKeyStore)
	if !ok {
		return nil, fmt.Errorf("rediscache: %T stores no API keys: %w", c.inner, errors.ErrUnsupported)
	}
	return ks, nil
}

// CreateAPIKey implements session.APIKeyStore by delegation.
func (c *Cache) CreateAPIKey(ctx context.Context, k *session.APIKey) error {
	ks, err := c.apiKeys()
	if err != nil {
		return err
	}
	return ks.CreateAPIKey(ctx, k)
}

// APIKeyByHash implements session.APIKeyStore by delegation.
func (c *Cache) APIKeyByHash(ctx context.Context, hash string) (*session.APIKey, error) {
	ks, err := c.apiKeys()
	if err != nil {
		return nil, err
	}
	return ks.APIKeyByHash(ctx, hash)
}

// ListAPIKeys implements session.APIKeyStore by delegation.
func (c *Cache) ListAPIKeys(ctx context.Context) ([]*session.APIKey, error) {
	ks, err := c.apiKeys()
	if err != nil {
		return nil, err
	}
	return ks.ListAPIKeys(ctx)
}

// DeleteAPIKey implements session.APIKeyStore by delegation.
func (c *Cache) DeleteAPIKey(ctx context.Context, id string) error {
	ks, err := c.apiKeys()
	if err != nil {
		return err
	}
	return ks.DeleteAPIKey(ctx, id)
}
