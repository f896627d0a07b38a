package driver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
)

// apiKeyPrefix starts every API key, so that a leaked one is recognizable
// (secret scanners, logs) and cannot be mistaken for a viewer password.
const apiKeyPrefix = "skk_"

// NewAPIKey makes a key for application: it returns the key, to be shown
// once, and the record to store (with a random ID and CreatedAt now). The
// key carries 256 random bits, so a plain SHA-256 is a sufficient hash:
// nothing short of the key itself matches it.
func NewAPIKey(application, description string, now time.Time) (string, *session.APIKey, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key := apiKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	k, err := PrepareAPIKey(&session.APIKey{
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

// PrepareAPIKey validates k for CreateAPIKey and returns a copy with a zero
// CreatedAt set to now.
func PrepareAPIKey(k *session.APIKey, now time.Time) (*session.APIKey, error) {
	if k == nil {
		return nil, InvalidArgument("api key", "is nil")
	}
	if err := ValidateAPIKeyID(k.ID); err != nil {
		return nil, err
	}
	switch {
	case k.ApplicationName == "":
		return nil, InvalidArgument("application_name", "is required: a key opens the sessions of one application")
	case len(k.ApplicationName) > session.MaxIDBytes || !utf8.ValidString(k.ApplicationName):
		return nil, InvalidArgument("application_name", "must be valid UTF-8 of at most %d bytes", session.MaxIDBytes)
	case !validHash(k.Hash):
		return nil, InvalidArgument("api key hash", "must be 64 lowercase hex digits (HashAPIKey)")
	case len(k.Description) > session.MaxAPIKeyDescription || !utf8.ValidString(k.Description):
		return nil, InvalidArgument("description", "must be valid UTF-8 of at most %d bytes", session.MaxAPIKeyDescription)
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
