package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// Nothing under /api is redirected or rewritten to another route: paths
// with empty segments, doubled or trailing slashes and dot segments (also
// percent-encoded) get a JSON 4xx naming the problem. Go's ServeMux would
// answer them 301/307 to the cleaned path, and a client following that
// (curl -L) would act on another resource: DELETE /api/sessions//metadata
// would delete the session named "metadata".
func TestAPI_NoRedirectsUnderAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	require.NoError(t, f.repo.CreateSession(ctx, &session.Session{ID: "metadata"}))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path string
		want         int
		mention      string // the error message names this
	}{
		{"DELETE", "/api/sessions//metadata?key=x", 400, "empty path segment"},
		{"DELETE", "/api/sessions/%2F/metadata?key=x", 400, "empty path segment"},
		{"GET", "/api//sessions", 400, "empty path segment"},
		{"GET", "/api/sessions//timeline", 400, "empty path segment"},
		{"GET", "/api/sessions/", 400, "trailing slash"},
		{"GET", "/api/sessions/demo-t-support/", 400, "trailing slash"},
		{"GET", "/api/", 400, "trailing slash"},
		{"GET", "/api", 404, "no such route"},
		{"GET", "//api/sessions", 400, "empty path segment"},
		{"GET", "/api/sessions/./demo-t-support", 400, `"."`},
		{"GET", "/api/sessions/demo-t-support/agents/..", 400, `".."`},
		{"DELETE", "/api/sessions/demo-t-support/..", 400, `".."`},
		{"GET", "/api/sessions/%2e%2e/sessions", 400, `".."`},
		{"GET", "/api/sessions/%2E", 400, `"."`},
		{"GET", "/static/../api/sessions", 400, `".."`},
		{"POST", "/api/sessions/metadata/../../sessions", 400, `".."`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, f.url+tt.path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+adminToken)
			resp, err := noFollow.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.StatusCode, "body %s", raw)
			assert.Empty(t, resp.Header.Get("Location"), "never a redirect")
			assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"), "JSON, not %q", resp.Header.Get("Content-Type"))
			var body struct {
				Error struct{ Code, Message string }
			}
			require.NoError(t, json.Unmarshal(raw, &body), "body %s", raw)
			assert.Contains(t, body.Error.Message, tt.mention)
		})
	}
	// A client that follows redirects deletes nothing it did not name.
	req, err := http.NewRequest("DELETE", f.url+"/api/sessions//metadata?key=status", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
	_, err = f.repo.GetSession(ctx, "metadata")
	assert.NoError(t, err, "the session named metadata is still there")
}

// "." and ".." cannot be created as session ids (no URL path can address
// them), through the API or the library; every other id a route can name
// round-trips through its URL.
func TestAPI_DotSessionIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, id := range []string{".", ".."} {
		status, body, _ := f.do(t, request{method: "POST", path: "/api/sessions", body: `{"session_id":"` + id + `"}`})
		assert.Equal(t, 400, status, "%q: %v", id, body)
		assert.ErrorIs(t, f.repo.CreateSession(context.Background(), &session.Session{ID: id}), session.ErrInvalidArgument)
	}
	for _, id := range []string{"...", ".a", "a.", "a b", "a?b#c", "50%", "ü"} {
		status, body, _ := f.do(t, request{method: "POST", path: "/api/sessions", body: `{"session_id":"` + id + `"}`})
		require.Equal(t, 201, status, "%q: %v", id, body)
		status, body, _ = f.do(t, request{method: "GET", path: "/api/sessions/" + url.PathEscape(id)})
		assert.Equal(t, 200, status, "%q: %v", id, body)
		status, _, _ = f.do(t, request{method: "DELETE", path: "/api/sessions/" + url.PathEscape(id)})
		assert.Equal(t, 204, status, "%q", id)
	}
}
