package rediscache

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

// sharedRepo passes the API-key role through, as the repository it stands
// for (a second handle on the same store) has it.

func (s sharedRepo) CreateAPIKey(ctx context.Context, k *session.APIKey) error {
	return s.Repository.(session.APIKeyStore).CreateAPIKey(ctx, k)
}

func (s sharedRepo) APIKeyByHash(ctx context.Context, hash string) (*session.APIKey, error) {
	return s.Repository.(session.APIKeyStore).APIKeyByHash(ctx, hash)
}

func (s sharedRepo) ListAPIKeys(ctx context.Context) ([]*session.APIKey, error) {
	return s.Repository.(session.APIKeyStore).ListAPIKeys(ctx)
}

func (s sharedRepo) DeleteAPIKey(ctx context.Context, id string) error {
	return s.Repository.(session.APIKeyStore).DeleteAPIKey(ctx, id)
}
