package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
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
	// Hash is HashAPIKey of the key: 64 lowercase hex digits.
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
	// CreateAPIKey stores k (see PrepareAPIKey). Contract:
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

// apiKeyPrefix starts every API key, so that a leaked one is recognizable
// (secret scanners, logs) and cannot be mistaken for a viewer password.
const apiKeyPrefix = "skk_"

// NewAPIKey makes a key for application: it returns the key, to be shown
// once, and the record to store (with a random ID and CreatedAt now). The
// key carries 256 random bits, so a plain SHA-256 is a sufficient hash:
// nothing short of the key itself matches it.
func NewAPIKey(application, description string, now time.Time) (string, *APIKey, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key := apiKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	k, err := PrepareAPIKey(&APIKey{
		ID: NewID()[:16], ApplicationName: application, Hash: HashAPIKey(key), Description: description,
	}, now)
	if err != nil {
		return "", nil, err
	}
	return key, k, nil
}

// HashAPIKey returns the stored form of key: its SHA-256 in lowercase hex.
func HashAPIKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// LooksLikeAPIKey reports whether s has the form NewAPIKey makes, so that a
// server can tell an API key from an admin token without a store lookup.
func LooksLikeAPIKey(s string) bool {
	return strings.HasPrefix(s, apiKeyPrefix)
}

// MaxAPIKeyDescription bounds APIKey.Description, in bytes.
const MaxAPIKeyDescription = 1024

// PrepareAPIKey validates k for CreateAPIKey and returns a copy with a zero
// CreatedAt set to now.
func PrepareAPIKey(k *APIKey, now time.Time) (*APIKey, error) {
	if k == nil {
		return nil, InvalidArgument("api key", "is nil")
	}
	if err := ValidateAPIKeyID(k.ID); err != nil {
		return nil, err
	}
	switch {
	case k.ApplicationName == "":
		return nil, InvalidArgument("application_name", "is required: a key opens the sessions of one application")
	case len(k.ApplicationName) > MaxIDBytes || !utf8.ValidString(k.ApplicationName):
		return nil, InvalidArgument("application_name", "must be valid UTF-8 of at most %d bytes", MaxIDBytes)
	case !validHash(k.Hash):
		return nil, InvalidArgument("api key hash", "must be 64 lowercase hex digits (HashAPIKey)")
	case len(k.Description) > MaxAPIKeyDescription || !utf8.ValidString(k.Description):
		return nil, InvalidArgument("description", "must be valid UTF-8 of at most %d bytes", MaxAPIKeyDescription)
	}
	out := *k
	out.CreatedAt = orNow(out.CreatedAt, now)
	return &out, nil
}

// ValidateAPIKeyID reports whether id may name an API key: the agent-id
// rules (it becomes a path segment and a document key).
func ValidateAPIKeyID(id string) error {
	return validateID("key_id", id, true)
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
