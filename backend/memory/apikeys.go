package memory

import (
	"context"
	"fmt"
	"sort"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.APIKeyStore = (*Repository)(nil)

// apiKeyTable holds the API keys of a Repository, apart from its sessions.
// It is guarded by Repository.mu.
type apiKeyTable struct {
	byID   map[string]*session.APIKey
	byHash map[string]*session.APIKey
}

// CreateAPIKey implements session.APIKeyStore.
func (r *Repository) CreateAPIKey(ctx context.Context, k *session.APIKey) error {
	if err := begin(ctx); err != nil {
		return err
	}
	in, err := driver.PrepareAPIKey(k, r.now())
	if err != nil {
		return err
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	t := &r.keys
	if t.byID == nil {
		t.byID, t.byHash = map[string]*session.APIKey{}, map[string]*session.APIKey{}
	}
	if t.byID[in.ID] != nil || t.byHash[in.Hash] != nil {
		return fmt.Errorf("memory: api key %q: %w", in.ID, session.ErrAlreadyExists)
	}
	t.byID[in.ID], t.byHash[in.Hash] = in, in
	return nil
}

// APIKeyByHash implements session.APIKeyStore.
func (r *Repository) APIKeyByHash(ctx context.Context, hash string) (*session.APIKey, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	k := r.keys.byHash[hash]
	if k == nil {
		return nil, fmt.Errorf("memory: api key: %w", session.ErrNotFound)
	}
	out := *k
	return &out, nil
}

// ListAPIKeys implements session.APIKeyStore.
func (r *Repository) ListAPIKeys(ctx context.Context) ([]*session.APIKey, error) {
	if err := begin(ctx); err != nil {
		return nil, err
	}
	if err := r.rlock(); err != nil {
		return nil, err
	}
	defer r.mu.RUnlock()
	out := make([]*session.APIKey, 0, len(r.keys.byID))
	for _, k := range r.keys.byID {
		c := *k
		out = append(out, &c)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// DeleteAPIKey implements session.APIKeyStore.
func (r *Repository) DeleteAPIKey(ctx context.Context, id string) error {
	if err := begin(ctx); err != nil {
		return err
	}
	if err := driver.ValidateAPIKeyID(id); err != nil {
		return err
	}
	if err := r.lock(); err != nil {
		return err
	}
	defer r.mu.Unlock()
	k := r.keys.byID[id]
	if k == nil {
		return fmt.Errorf("memory: api key %q: %w", id, session.ErrNotFound)
	}
	delete(r.keys.byID, id)
	delete(r.keys.byHash, k.Hash)
	return nil
}
