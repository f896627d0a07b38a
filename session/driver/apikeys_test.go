package driver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func TestNewAPIKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC)
	key, k, err := driver.NewAPIKey("support", "worker", now)
	require.NoError(t, err)
	assert.True(t, driver.LooksLikeAPIKey(key))
	assert.Equal(t, driver.HashAPIKey(key), k.Hash)
	assert.NotContains(t, k.Hash, key)
	assert.Equal(t, "support", k.ApplicationName)
	assert.Equal(t, driver.UTCMicro(now), k.CreatedAt)
	key2, k2, err := driver.NewAPIKey("support", "", now)
	require.NoError(t, err)
	assert.NotEqual(t, key, key2)
	assert.NotEqual(t, k.ID, k2.ID)
}

func TestPrepareAPIKey(t *testing.T) {
	t.Parallel()
	good := session.APIKey{ID: "k1", ApplicationName: "app", Hash: driver.HashAPIKey("x")}
	tests := []struct {
		name  string
		edit  func(*session.APIKey)
		field string
	}{
		{"good", func(*session.APIKey) {}, ""},
		{"no id", func(k *session.APIKey) { k.ID = "" }, "key_id"},
		{"id with slash", func(k *session.APIKey) { k.ID = "a/b" }, "key_id"},
		{"no application", func(k *session.APIKey) { k.ApplicationName = "" }, "application_name"},
		{"application not UTF-8", func(k *session.APIKey) { k.ApplicationName = "\xff" }, "application_name"},
		{"hash upper case", func(k *session.APIKey) { k.Hash = strings.ToUpper(k.Hash) }, "api key hash"},
		{"hash short", func(k *session.APIKey) { k.Hash = k.Hash[:10] }, "api key hash"},
		{"plain key as hash", func(k *session.APIKey) { k.Hash = "skk_secret" }, "api key hash"},
		{"long description", func(k *session.APIKey) { k.Description = strings.Repeat("d", 2000) }, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := good
			tt.edit(&k)
			out, err := driver.PrepareAPIKey(&k, time.Now())
			if tt.field == "" {
				require.NoError(t, err)
				assert.False(t, out.CreatedAt.IsZero())
				return
			}
			var fe *session.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
		})
	}
}
