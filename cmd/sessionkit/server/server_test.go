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
	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

const adminToken = "test-admin-token-0123456789"

// fixture is a running test server over a memory repository filled by the
// demo (run id "t": sessions demo-t-support, demo-t-travel, demo-t-billing).
type fixture struct {
	url       string
	repo      *memory.Repository
	srv       *server.Server
	passwords map[string]string
}

func newFixture(t testing.TB, tweak func(*server.Options)) *fixture {
	t.Helper()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	res, err := demo.Run(context.Background(), repo, demo.Options{RunID: "t"})
	require.NoError(t, err)
	opts := server.Options{
		Repository: repo,
		AdminToken: adminToken,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		LoginRate:  server.Rate{PerSecond: 0.001, Burst: 1000},
		TargetRate: server.Rate{PerSecond: 0.001, Burst: 1000},
		SearchRate: server.Rate{PerSecond: 0.001, Burst: 1000},
	}
	if tweak != nil {
		tweak(&opts)
	}
	srv, err := server.New(opts)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{url: ts.URL, repo: repo, srv: srv, passwords: res.ViewerPasswords}
}

// request describes one call.
type request struct {
	method, path, body string
	contentType        string // default application/json when body is set
	header             map[string]string
	noAuth             bool
}

func (f *fixture) do(t *testing.T, r request) (int, map[string]any, http.Header) {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, f.url+r.path, body)
	require.NoError(t, err)
	if r.body != "" {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if !r.noAuth {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out), "body %s", raw)
	}
	return resp.StatusCode, out, resp.Header
}

func TestAPI_BadRequestsGet4xxNeverA500(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *server.Options) { o.MaxBodyBytes = 4096 })
	long := strings.Repeat("x", 300)
	big := `{"metadata":{"k":"` + strings.Repeat("y", 5000) + `"}}`
	const s = "/api/sessions/demo-t-support"
	tests := []struct {
		name string
		req  request
		want int
		code string
	}{
		{"session id with encoded slash", request{method: "GET", path: "/api/sessions/a%2Fb"}, 400, "invalid_argument"},
		{"session id with NUL", request{method: "GET", path: "/api/sessions/a%00b"}, 400, "invalid_argument"},
		{"session id with control char", request{method: "GET", path: "/api/sessions/a%0Ab"}, 400, "invalid_argument"},
		{"dot-dot segment", request{method: "GET", path: "/api/sessions/%2E%2E"}, 400, "invalid_argument"},
		{"dot-dot traversal", request{method: "GET", path: "/api/sessions/../sessions"}, 400, "invalid_argument"},
		{"overlong session id", request{method: "GET", path: "/api/sessions/" + long}, 400, "invalid_argument"},
		{"invalid UTF-8 id", request{method: "GET", path: "/api/sessions/%FF%FE"}, 400, "invalid_argument"},
		{"$where session id is just unknown", request{method: "GET", path: "/api/sessions/$where"}, 404, "not_found"},
		{"$where agent id", request{method: "GET", path: s + "/agents/$where"}, 400, "invalid_argument"},
		{"dotted agent id", request{method: "GET", path: s + "/agents/a.b/messages"}, 400, "invalid_argument"},
		{"unknown agent", request{method: "GET", path: s + "/agents/nobody/messages"}, 404, "not_found"},
		{"unknown session timeline", request{method: "GET", path: "/api/sessions/nope/timeline"}, 404, "not_found"},
		{"bad created_from", request{method: "GET", path: "/api/sessions?created_from=notadate"}, 400, "invalid_argument"},
		{"empty range", request{method: "GET", path: "/api/sessions?created_from=2026-02-01&created_to=2026-01-01"}, 400, "invalid_argument"},
		{"negative limit", request{method: "GET", path: "/api/sessions?limit=-1"}, 400, "invalid_argument"},
		{"zero limit", request{method: "GET", path: "/api/sessions?limit=0"}, 400, "invalid_argument"},
		{"huge limit", request{method: "GET", path: "/api/sessions?limit=100000"}, 400, "invalid_argument"},
		{"non-numeric limit", request{method: "GET", path: "/api/sessions?limit=ten"}, 400, "invalid_argument"},
		{"garbage cursor", request{method: "GET", path: "/api/sessions?cursor=garbage"}, 400, "invalid_argument"},
		{"base64 non-cursor", request{method: "GET", path: "/api/sessions?cursor=e30"}, 400, "invalid_argument"},
		{"metadata filter $gt", request{method: "GET", path: "/api/sessions?metadata.$gt=1"}, 400, "invalid_argument"},
		{"metadata filter dotted", request{method: "GET", path: "/api/sessions?metadata.a.b=1"}, 400, "invalid_argument"},
		{"metadata JSON filter $gt", request{method: "GET", path: `/api/sessions?metadata=%7B%22%24gt%22%3A1%7D`}, 400, "invalid_argument"},
		{"metadata JSON filter not object", request{method: "GET", path: `/api/sessions?metadata=%5B1%5D`}, 400, "invalid_argument"},
		{"unknown search parameter", request{method: "GET", path: "/api/sessions?where=1"}, 400, "invalid_argument"},
		{"repeated parameter", request{method: "GET", path: "/api/sessions?limit=1&limit=2"}, 400, "invalid_argument"},
		{"id prefix with NUL", request{method: "GET", path: "/api/sessions?id_prefix=a%00"}, 400, "invalid_argument"},
		{"oversized body", request{method: "PATCH", path: s + "/metadata", body: big}, 413, "too_large"},
		{"wrong content type", request{method: "PATCH", path: s + "/metadata", body: `{"metadata":{"a":1}}`, contentType: "text/plain"}, 415, "unsupported_media_type"},
		{"missing content type", request{method: "POST", path: s + "/feedback", body: `{"rating":"up"}`, contentType: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"malformed JSON", request{method: "PATCH", path: s + "/metadata", body: `{"metadata":`}, 400, "invalid_argument"},
		{"trailing JSON", request{method: "PATCH", path: s + "/metadata", body: `{"metadata":{"a":1}} {}`}, 400, "invalid_argument"},
		{"unknown field", request{method: "PATCH", path: s + "/metadata", body: `{"metadata":{"a":1},"extra":1}`}, 400, "invalid_argument"},
		{"metadata not an object", request{method: "PATCH", path: s + "/metadata", body: `{"metadata":[1]}`}, 400, "invalid_argument"},
		{"empty metadata update", request{method: "PATCH", path: s + "/metadata", body: `{"metadata":{}}`}, 400, "invalid_argument"},
		{"metadata key $set", request{method: "PATCH", path: s + "/metadata", body: `{"metadata":{"$set":1}}`}, 400, "invalid_argument"},
		{"metadata key dotted", request{method: "PATCH", path: s + "/metadata", body: `{"metadata":{"a.b":1}}`}, 400, "invalid_argument"},
		{"metadata delete without keys", request{method: "DELETE", path: s + "/metadata"}, 400, "invalid_argument"},
		{"metadata delete bad key", request{method: "DELETE", path: s + "/metadata?key=$x"}, 400, "invalid_argument"},
		{"metadata delete unknown param", request{method: "DELETE", path: s + "/metadata?keys=a"}, 400, "invalid_argument"},
		{"bad rating", request{method: "POST", path: s + "/feedback", body: `{"rating":"meh"}`}, 400, "invalid_argument"},
		{"feedback message without agent", request{method: "POST", path: s + "/feedback", body: `{"rating":"up","message_id":1}`}, 400, "invalid_argument"},
		{"feedback on missing message", request{method: "POST", path: s + "/feedback", body: `{"rating":"up","agent_id":"support-agent","message_id":999}`}, 404, "not_found"},
		{"feedback negative message", request{method: "POST", path: s + "/feedback", body: `{"rating":"up","agent_id":"support-agent","message_id":-1}`}, 400, "invalid_argument"},
		{"feedback extra shadows a field", request{method: "POST", path: s + "/feedback", body: `{"rating":"up","extra":{"rating":"x"}}`}, 400, "invalid_argument"},
		{"message bad role", request{method: "POST", path: s + "/agents/support-agent/messages", body: `{"message":{"role":"system","content":[]}}`}, 400, "invalid_argument"},
		{"message missing", request{method: "POST", path: s + "/agents/support-agent/messages", body: `{}`}, 400, "invalid_argument"},
		{"message id taken", request{method: "POST", path: s + "/agents/support-agent/messages", body: `{"message_id":0,"message":{"role":"user","content":[]}}`}, 409, "conflict"},
		{"message id gap", request{method: "POST", path: s + "/agents/support-agent/messages", body: `{"message_id":999,"message":{"role":"user","content":[]}}`}, 409, "conflict"},
		{"bytes marker with bad data", request{method: "POST", path: s + "/agents/support-agent/messages", body: `{"message":{"role":"user","content":[{"x":{"__bytes_encoded__":true,"data":"!!"}}]}}`}, 400, "invalid_argument"},
		{"messages negative last", request{method: "GET", path: s + "/agents/support-agent/messages?last=-1"}, 400, "invalid_argument"},
		{"messages huge last", request{method: "GET", path: s + "/agents/support-agent/messages?last=100000"}, 400, "invalid_argument"},
		{"messages last with offset", request{method: "GET", path: s + "/agents/support-agent/messages?last=1&offset=1"}, 400, "invalid_argument"},
		{"create existing session", request{method: "POST", path: "/api/sessions", body: `{"session_id":"demo-t-support"}`}, 409, "already_exists"},
		{"create session bad id", request{method: "POST", path: "/api/sessions", body: `{"session_id":"a/b"}`}, 400, "invalid_argument"},
		{"create session empty id", request{method: "POST", path: "/api/sessions", body: `{"session_id":""}`}, 400, "invalid_argument"},
		{"create existing agent", request{method: "POST", path: s + "/agents", body: `{"agent_id":"support-agent"}`}, 409, "already_exists"},
		{"create agent $id", request{method: "POST", path: s + "/agents", body: `{"agent_id":"$x"}`}, 400, "invalid_argument"},
		{"update agent id mismatch", request{method: "PUT", path: s + "/agents/support-agent", body: `{"agent_id":"other"}`}, 400, "invalid_argument"},
		{"update agent config", request{method: "PUT", path: s + "/agents/support-agent", body: `{"config":{"model":"x"}}`}, 400, "invalid_argument"},
		{"temperature out of range", request{method: "POST", path: s + "/agents", body: `{"agent_id":"hot","config":{"prompt_metadata":{"temperature":3}}}`}, 400, "invalid_argument"},
		{"delete unknown session", request{method: "DELETE", path: "/api/sessions/nope"}, 404, "not_found"},
		{"unknown api route", request{method: "GET", path: "/api/nothing"}, 404, "not_found"},
		{"wrong method", request{method: "PUT", path: "/api/sessions"}, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body, _ := f.do(t, tt.req)
			assert.Equal(t, tt.want, status, "body: %v", body)
			if tt.code != "" {
				require.NotNil(t, body)
				assert.Equal(t, tt.code, body["error"].(map[string]any)["code"], "body: %v", body)
			}
		})
	}
	// Nothing was written by any of the bad requests.
	md, err := f.repo.GetMetadata(context.Background(), "demo-t-support")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"status": "resolved", "priority": "high"}, md)
	n, err := f.repo.CountMessages(context.Background(), "demo-t-support", "support-agent")
	require.NoError(t, err)
	assert.Equal(t, 10, n)
	fb, err := f.repo.ListFeedback(context.Background(), "demo-t-support")
	require.NoError(t, err)
	assert.Len(t, fb, 2)
}

// TestAPI_Auth gives each case its own server and store, so that a case
// that wrongly succeeds (a delete let through) fails alone rather than
// breaking the cases that run after it. The demo's viewer passwords are
// random, so the table uses a placeholder that each case's fixture fills in.
func TestAPI_Auth(t *testing.T) {
	t.Parallel()
	const pw = "{support password}"
	tests := []struct {
		name string
		req  request
		want int
	}{
		{"no credentials", request{method: "GET", path: "/api/sessions", noAuth: true}, 401},
		{"wrong token", request{method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Authorization": "Bearer wrong"}}, 401},
		{"empty bearer", request{method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Authorization": "Bearer "}}, 401},
		{"basic scheme", request{method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Authorization": "Basic " + adminToken}}, 401},
		{"admin token", request{method: "GET", path: "/api/sessions"}, 200},
		{"session password on its session", request{method: "GET", path: "/api/sessions/demo-t-support/timeline", noAuth: true, header: map[string]string{server.SessionPasswordHeader: pw}}, 200},
		{"session password cannot add feedback", request{method: "POST", path: "/api/sessions/demo-t-support/feedback", body: `{"rating":"up"}`, noAuth: true, header: map[string]string{server.SessionPasswordHeader: pw}}, 403},
		{"session password on another session", request{method: "GET", path: "/api/sessions/demo-t-travel", noAuth: true, header: map[string]string{server.SessionPasswordHeader: pw}}, 401},
		{"session password cannot search", request{method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{server.SessionPasswordHeader: pw}}, 403},
		{"session password cannot delete", request{method: "DELETE", path: "/api/sessions/demo-t-support", noAuth: true, header: map[string]string{server.SessionPasswordHeader: pw}}, 403},
		{"wrong session password", request{method: "GET", path: "/api/sessions/demo-t-support", noAuth: true, header: map[string]string{server.SessionPasswordHeader: "nope"}}, 401},
		{"password for unknown session", request{method: "GET", path: "/api/sessions/nope", noAuth: true, header: map[string]string{server.SessionPasswordHeader: pw}}, 401},
		{"login admin", request{method: "POST", path: "/api/login", noAuth: true, body: `{"admin_token":"` + adminToken + `"}`}, 200},
		{"login session", request{method: "POST", path: "/api/login", noAuth: true, body: `{"session_id":"demo-t-support","password":"` + pw + `"}`}, 200},
		{"login wrong password", request{method: "POST", path: "/api/login", noAuth: true, body: `{"session_id":"demo-t-support","password":"x"}`}, 401},
		{"login nothing", request{method: "POST", path: "/api/login", noAuth: true, body: `{}`}, 400},
		{"healthz is open", request{method: "GET", path: "/healthz", noAuth: true}, 200},
		{"viewer page is open", request{method: "GET", path: "/", noAuth: true}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			real := f.passwords["demo-t-support"]
			require.NotEmpty(t, real)
			req := tt.req
			req.body = strings.ReplaceAll(req.body, pw, real)
			req.header = map[string]string{}
			for k, v := range tt.req.header {
				req.header[k] = strings.ReplaceAll(v, pw, real)
			}
			before := supportState(t, f)
			status, body, _ := f.do(t, req)
			assert.Equal(t, tt.want, status, "body: %v", body)
			if tt.want >= 400 {
				assert.Equal(t, before, supportState(t, f), "a refused request changed the session")
			}
		})
	}
}

// supportState is what a refused request must leave as it was: whether
// demo-t-support exists, and its feedback.
func supportState(t *testing.T, f *fixture) []any {
	t.Helper()
	ctx := context.Background()
	_, err := f.repo.GetSession(ctx, "demo-t-support")
	fb, _ := f.repo.ListFeedback(ctx, "demo-t-support")
	return []any{err == nil, len(fb)}
}

func TestAPI_SessionPasswordIsScopedToItsSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	// The travel session's password opens the travel session only: with the
	// support session in the path it is checked against the support
	// session's hash and fails.
	travel := f.passwords["demo-t-travel"]
	status, _, _ := f.do(t, request{method: "GET", path: "/api/sessions/demo-t-travel", noAuth: true, header: map[string]string{server.SessionPasswordHeader: travel}})
	assert.Equal(t, 200, status)
	status, _, _ = f.do(t, request{method: "GET", path: "/api/sessions/demo-t-support", noAuth: true, header: map[string]string{server.SessionPasswordHeader: travel}})
	assert.Equal(t, 401, status)
}

func TestAPI_RateLimits(t *testing.T) {
	t.Parallel()
	t.Run("failed logins", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *server.Options) { o.LoginRate = server.Rate{PerSecond: 0.001, Burst: 3} })
		for range 3 {
			status, _, _ := f.do(t, request{method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Authorization": "Bearer wrong"}})
			require.Equal(t, 401, status)
		}
		status, _, h := f.do(t, request{method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Authorization": "Bearer wrong"}})
		assert.Equal(t, 429, status)
		assert.NotEmpty(t, h.Get("Retry-After"))
		status, _, _ = f.do(t, request{method: "POST", path: "/api/login", noAuth: true, body: `{"admin_token":"` + adminToken + `"}`})
		assert.Equal(t, 200, status, "a right token is never refused because of failures")
	})
	t.Run("search", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *server.Options) { o.SearchRate = server.Rate{PerSecond: 0.001, Burst: 2} })
		for range 2 {
			status, _, _ := f.do(t, request{method: "GET", path: "/api/sessions"})
			require.Equal(t, 200, status)
		}
		status, _, _ := f.do(t, request{method: "GET", path: "/api/sessions"})
		assert.Equal(t, 429, status)
		status, _, _ = f.do(t, request{method: "GET", path: "/api/sessions/demo-t-support"})
		assert.Equal(t, 200, status, "reading one session is not a search")
	})
}

func newHTTPTest(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}
