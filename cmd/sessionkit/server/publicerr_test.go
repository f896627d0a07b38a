package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

// API error messages name what is wrong, not which backend said so.
func TestAPIErrors_DoNotNameTheBackend(t *testing.T) {
	t.Parallel()
	sq, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sq.Close() })
	for name, repo := range map[string]session.Repository{"sqlite": sq, "memory": memory.New(memory.Options{})} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, err := server.New(server.Options{Repository: repo, AdminToken: adminToken,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			require.NoError(t, err)
			ts := httptest.NewServer(srv.Handler())
			t.Cleanup(ts.Close)
			call := func(method, path, body string) (int, string) {
				req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+adminToken)
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				var e struct {
					Error struct{ Message string } `json:"error"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&e)
				return resp.StatusCode, e.Error.Message
			}
			code, _ := call(http.MethodPost, "/api/sessions", `{"session_id":"dup"}`)
			require.Equal(t, http.StatusCreated, code)
			for _, c := range []struct {
				method, path, body string
				status             int
			}{
				{http.MethodPost, "/api/sessions", `{"session_id":"dup"}`, http.StatusConflict},
				{http.MethodGet, "/api/sessions/missing", "", http.StatusNotFound},
				{http.MethodPost, "/api/sessions/missing/agents", `{"agent_id":"a"}`, http.StatusNotFound},
			} {
				code, msg := call(c.method, c.path, c.body)
				assert.Equal(t, c.status, code, msg)
				assert.NotEmpty(t, msg)
				for _, internal := range []string{"sqlite", "memory", "mongo"} {
					assert.NotContains(t, msg, internal, "%s %s", c.method, c.path)
				}
			}
		})
	}
}
