package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAPI_OpenAPIDocument: the checked-in document is served, without
// credentials, byte for byte. internal/openapitest validates the API
// against it.
func TestAPI_OpenAPIDocument(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	resp, err := http.Get(f.url + "/api/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	want, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	assert.Equal(t, want, raw)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Contains(t, doc, "paths")
}
