package session

import (
	"context"
	"time"
)

// APIKey is a per-application API key as a store keeps it: the key itself
// is shown once, when it is made, and only its SHA-256 is stored. A key
// reads and writes the sessions of one application; it is what an agent
// process holds instead of the service's admin token.
type APIKey struct {
	// ID names the key in lists and revocations; it is not secret.
	ID string
	// ApplicationName is the application whose sessions the key opens.
	ApplicationName string
	// Hash is driver.HashAPIKey of the key: 64 lowercase hex digits.
	Hash string
	// Description is free text for the operator ("billing worker").
	Description string
	// CreatedAt is when the key was made (UTC).
	CreatedAt time.Time
}

// APIKeyStore is implemented by repositories (and decorators, by
// delegation) that store API keys next to the sessions, so that every
// server instance over one store sees the same keys. Keys never live inside
// session records.
type APIKeyStore interface {
	// CreateAPIKey stores k (see driver.PrepareAPIKey). Contract:
	// ErrAlreadyExists if its ID or Hash is taken.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash returns the key whose Hash is hash. Contract:
	// ErrNotFound if there is none.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	// ListAPIKeys returns every key, oldest first (by CreatedAt, then ID).
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	// DeleteAPIKey revokes the key with id. Contract: ErrNotFound if there
	// is none.
	DeleteAPIKey(ctx context.Context, id string) error
}

// MaxAPIKeyDescription bounds APIKey.Description, in bytes.
const MaxAPIKeyDescription = 1024
