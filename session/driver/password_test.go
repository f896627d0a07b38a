package driver_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessionkit/sessionkit/session/driver"
)

func TestVerifyViewerPassword(t *testing.T) {
	t.Parallel()
	pw := driver.NewViewerPassword()
	hash := driver.HashViewerPassword(pw)
	tests := []struct {
		name     string
		stored   string
		password string
		want     bool
	}{
		{"hash matches", hash, pw, true},
		{"hash, wrong password", hash, pw + "x", false},
		{"hash, empty password", hash, "", false},
		{"legacy plaintext matches", "s3cret-plain", "s3cret-plain", true},
		{"legacy plaintext, wrong password", "s3cret-plain", "s3cret-plaiN", false},
		{"empty stored never matches", "", "", false},
		{"empty stored, any password", "", "x", false},
		{"malformed hash without digest", "sha256$abc", "abc", false},
		{"malformed hash salt", "sha256$!!!$digest", "x", false},
		{"the hash itself is not the password", hash, hash, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, driver.VerifyViewerPassword(tt.stored, tt.password))
		})
	}
}

func TestHashViewerPassword_SaltedAndOpaque(t *testing.T) {
	t.Parallel()
	// A password long enough that random base64 cannot contain it by chance.
	const pw = "correct-horse-battery-staple"
	h1, h2 := driver.HashViewerPassword(pw), driver.HashViewerPassword(pw)
	assert.NotEqual(t, h1, h2, "salted")
	assert.True(t, strings.HasPrefix(h1, "sha256$"))
	assert.NotContains(t, h1, pw)
	assert.True(t, driver.VerifyViewerPassword(h1, pw))
	assert.True(t, driver.VerifyViewerPassword(h2, pw))
}

func TestNewViewerPasswordAndNewID(t *testing.T) {
	t.Parallel()
	pw := driver.NewViewerPassword()
	assert.Regexp(t, regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`), pw)
	assert.NotEqual(t, pw, driver.NewViewerPassword())
	id := driver.NewID()
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{32}$`), id)
	assert.NotEqual(t, id, driver.NewID())
	assert.NoError(t, driver.ValidateAgentID(id), "usable wherever an id is")
}
