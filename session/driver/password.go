package driver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// viewerHashPrefix marks a hashed viewer password; anything else stored in
// the field is a plaintext password written by the Python original.
const viewerHashPrefix = "sha256$"

// NewViewerPassword returns a fresh random session-viewer password: 24
// random bytes as 32 characters of base64url, as the Python original makes.
func NewViewerPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashViewerPassword returns the salted SHA-256 hash of a viewer password in
// the form "sha256$<salt>$<digest>". The passwords are 192-bit random tokens,
// so a fast salted hash is enough; what matters is that the database never
// holds a usable password.
func HashViewerPassword(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	return viewerHashPrefix + base64.RawURLEncoding.EncodeToString(salt) + "$" + viewerDigest(salt, password)
}

// VerifyViewerPassword reports whether password matches stored, which is
// either a HashViewerPassword hash or, for documents written by the Python
// original, the plaintext password. Comparisons take constant time. An empty
// stored value or password never matches.
func VerifyViewerPassword(stored, password string) bool {
	if stored == "" || password == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(stored, viewerHashPrefix); ok {
		saltText, digest, ok := strings.Cut(rest, "$")
		if !ok {
			return false
		}
		salt, err := base64.RawURLEncoding.DecodeString(saltText)
		if err != nil {
			return false
		}
		return subtle.ConstantTimeCompare([]byte(viewerDigest(salt, password)), []byte(digest)) == 1
	}
	a := sha256.Sum256([]byte(stored))
	b := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func viewerDigest(salt []byte, password string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(password))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// NewID returns a random 128-bit identifier as 32 lowercase hex characters,
// used for feedback ids.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	const hex = "0123456789abcdef"
	out := make([]byte, 32)
	for i, c := range b {
		out[2*i] = hex[c>>4]
		out[2*i+1] = hex[c&0x0f]
	}
	return string(out)
}
