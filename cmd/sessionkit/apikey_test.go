package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session/driver"
)

// "sessionkit apikey" creates (showing the key once), lists and revokes
// keys in the store itself, where every server over it finds them.
func TestAPIKey_CreateListRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	code, out, errw := runCLI(t, ctx, "", "apikey", "create", "--data-dir", dir, "--application", "support", "--description", "worker")
	require.Equal(t, 0, code, errw)
	var created struct {
		KeyID           string `json:"key_id"`
		ApplicationName string `json:"application_name"`
		Key             string `json:"key"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	assert.True(t, driver.LooksLikeAPIKey(created.Key))
	assert.Equal(t, "support", created.ApplicationName)

	code, out, errw = runCLI(t, ctx, "", "apikey", "list", "--data-dir", dir)
	require.Equal(t, 0, code, errw)
	assert.Contains(t, out, created.KeyID)
	assert.NotContains(t, out, created.Key, "listed without the key")
	assert.NotContains(t, out, driver.HashAPIKey(created.Key), "and without its hash")

	code, _, errw = runCLI(t, ctx, "", "apikey", "revoke", "--data-dir", dir, created.KeyID)
	require.Equal(t, 0, code, errw)
	code, out, _ = runCLI(t, ctx, "", "apikey", "list", "--data-dir", dir)
	require.Equal(t, 0, code)
	assert.NotContains(t, out, created.KeyID)
	code, _, _ = runCLI(t, ctx, "", "apikey", "revoke", "--data-dir", dir, created.KeyID)
	assert.Equal(t, 1, code, "revoking twice: not found")

	for _, args := range [][]string{
		{"apikey"}, {"apikey", "create", "--backend", "memory"}, {"apikey", "revoke", "--backend", "memory"},
		{"apikey", "list", "--backend", "memory", "extra"}, {"apikey", "rotate", "--backend", "memory"},
		{"serve", "--backend", "memory", "--trusted-proxies", "10.0.0.0/8,not-a-network"},
	} {
		code, _, errw := runCLI(t, ctx, "", args...)
		assert.Equal(t, 2, code, "%q: %s", args, errw)
	}
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	got, err := parsePrefixes(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,10.1.2.3/16,")
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("10.1.0.0/16"),
	}, got)
	got, err = parsePrefixes("")
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = parsePrefixes("10.0.0.0/33")
	assert.Error(t, err)
}
