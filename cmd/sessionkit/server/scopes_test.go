package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session/driver"
)

// A session's viewer password reads that session and nothing more: every
// write answers 403 and changes nothing.
func TestAPI_ViewerPasswordIsReadOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	const s = "/api/sessions/demo-t-support"
	viewer := map[string]string{server.SessionPasswordHeader: f.passwords["demo-t-support"]}
	before, err := f.repo.GetAgent(ctx, "demo-t-support", "support-agent")
	require.NoError(t, err)
	tests := []struct {
		method, path, body string
		want               int
	}{
		{"GET", s, "", 200},
		{"GET", s + "/timeline", "", 200},
		{"GET", s + "/metadata", "", 200},
		{"GET", s + "/feedback", "", 200},
		{"GET", s + "/agents", "", 200},
		{"GET", s + "/agents/support-agent", "", 200},
		{"GET", s + "/agents/support-agent/messages", "", 200},
		{"PATCH", s + "/metadata", `{"metadata":{"status":"hacked"}}`, 403},
		{"DELETE", s + "/metadata?key=status", "", 403},
		{"PUT", s + "/agents/support-agent", `{"state":{}}`, 403},
		{"POST", s + "/agents/support-agent/messages", `{"message":{"role":"assistant","content":[{"text":"forged"}]}}`, 403},
		{"POST", s + "/agents", `{"agent_id":"intruder"}`, 403},
		{"POST", s + "/feedback", `{"rating":"down"}`, 403},
		{"DELETE", s, "", 403},
		{"GET", "/api/sessions", "", 403},
		{"POST", "/api/sessions", `{"session_id":"new"}`, 403},
		{"GET", "/api/keys", "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			status, body, _ := f.do(t, request{method: tt.method, path: tt.path, body: tt.body, noAuth: true, header: viewer})
			assert.Equal(t, tt.want, status, "body %v", body)
		})
	}
	t.Cleanup(func() {
		md, err := f.repo.GetMetadata(ctx, "demo-t-support")
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"status": "resolved", "priority": "high"}, md)
		after, err := f.repo.GetAgent(ctx, "demo-t-support", "support-agent")
		require.NoError(t, err)
		assert.Equal(t, before.State, after.State)
		n, err := f.repo.CountMessages(ctx, "demo-t-support", "support-agent")
		require.NoError(t, err)
		assert.Equal(t, 10, n)
		agents, err := f.repo.ListAgents(ctx, "demo-t-support")
		require.NoError(t, err)
		assert.Len(t, agents, 1)
		fb, err := f.repo.ListFeedback(ctx, "demo-t-support")
		require.NoError(t, err)
		assert.Len(t, fb, 2)
	})
}

// Per-application API keys: the admin creates one (shown once, stored
// hashed), it reads and writes the sessions of its application only, and
// once revoked it opens nothing.
func TestAPI_ApplicationKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	status, body, _ := f.do(t, request{method: "POST", path: "/api/keys", body: `{"application_name":"` + demo.AppSupport + `","description":"support worker"}`})
	require.Equal(t, 201, status, "%v", body)
	key, _ := body["key"].(string)
	keyID, _ := body["key_id"].(string)
	require.NotEmpty(t, key)
	require.NotEmpty(t, keyID)
	assert.Equal(t, demo.AppSupport, body["application_name"])

	stored, err := f.repo.ListAPIKeys(ctx)
	require.NoError(t, err)
	require.Len(t, stored, 1)
	assert.Equal(t, driver.HashAPIKey(key), stored[0].Hash, "stored as its hash")
	status, body, _ = f.do(t, request{method: "GET", path: "/api/keys"})
	require.Equal(t, 200, status)
	assert.NotContains(t, toJSON(t, body), key, "the key is shown once")
	assert.NotContains(t, toJSON(t, body), stored[0].Hash, "its hash is never served")

	app := map[string]string{"Authorization": "Bearer " + key}
	const own, other = "/api/sessions/demo-t-support", "/api/sessions/demo-t-travel"
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"read own session", "GET", own, "", 200},
		{"read own timeline", "GET", own + "/timeline", "", 200},
		{"write own metadata", "PATCH", own + "/metadata", `{"metadata":{"k":"v"}}`, 200},
		{"append to own agent", "POST", own + "/agents/support-agent/messages", `{"message":{"role":"user","content":[{"text":"hi"}]}}`, 201},
		{"create agent in own session", "POST", own + "/agents", `{"agent_id":"helper"}`, 201},
		{"read another application's session", "GET", other, "", 404},
		{"write another application's session", "PATCH", other + "/metadata", `{"metadata":{"k":"v"}}`, 404},
		{"delete another application's session", "DELETE", other, "", 404},
		{"create a session of its application", "POST", "/api/sessions", `{"session_id":"by-key"}`, 201},
		{"create a session of another application", "POST", "/api/sessions", `{"session_id":"by-key-2","application_name":"` + demo.AppTravel + `"}`, 403},
		{"missing session", "GET", "/api/sessions/nope", "", 404},
		{"manage keys", "GET", "/api/keys", "", 403},
		{"make keys", "POST", "/api/keys", `{"application_name":"x"}`, 403},
	}
	for _, tt := range tests {
		status, body, _ := f.do(t, request{method: tt.method, path: tt.path, body: tt.body, noAuth: true, header: app})
		assert.Equal(t, tt.want, status, "%s: %v", tt.name, body)
	}
	// Another application's session and a missing one get the same answer.
	_, foreign, _ := f.do(t, request{method: "GET", path: "/api/sessions/demo-t-travel/timeline", noAuth: true, header: app})
	_, missing, _ := f.do(t, request{method: "GET", path: "/api/sessions/demo-t-travex/timeline", noAuth: true, header: app})
	assert.Equal(t, strings.Replace(toJSON(t, missing), "demo-t-travex", "demo-t-travel", 1), toJSON(t, foreign))
	_, err = f.repo.GetSession(ctx, "demo-t-travel")
	require.NoError(t, err, "the other application's session is untouched")

	created, err := f.repo.GetSession(ctx, "by-key")
	require.NoError(t, err)
	assert.Equal(t, demo.AppSupport, created.ApplicationName, "a key's sessions belong to its application")

	// Search is confined to the key's application.
	status, body, _ = f.do(t, request{method: "GET", path: "/api/sessions", noAuth: true, header: app})
	require.Equal(t, 200, status, "%v", body)
	for _, s := range body["sessions"].([]any) {
		assert.Equal(t, demo.AppSupport, s.(map[string]any)["application_name"])
	}
	status, _, _ = f.do(t, request{method: "GET", path: "/api/sessions?application_name=" + demo.AppTravel, noAuth: true, header: app})
	assert.Equal(t, 403, status)

	// Login tells the viewer what the key is.
	status, body, _ = f.do(t, request{method: "POST", path: "/api/login", noAuth: true, body: `{"api_key":"` + key + `"}`})
	require.Equal(t, 200, status, "%v", body)
	assert.Equal(t, "application", body["role"])

	// Revoked, it opens nothing.
	status, _, _ = f.do(t, request{method: "DELETE", path: "/api/keys/" + keyID})
	require.Equal(t, 204, status)
	status, _, _ = f.do(t, request{method: "GET", path: own, noAuth: true, header: app})
	assert.Equal(t, 401, status)
	status, _, _ = f.do(t, request{method: "DELETE", path: "/api/keys/" + keyID})
	assert.Equal(t, 404, status)
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestAPI_KeyRequestsValidated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for name, body := range map[string]string{
		"no application": `{}`,
		"unknown field":  `{"application_name":"a","scope":"all"}`,
		"bad UTF-8":      "{\"application_name\":\"\xff\"}",
	} {
		status, out, _ := f.do(t, request{method: "POST", path: "/api/keys", body: body})
		assert.Equal(t, 400, status, "%s: %v", name, out)
	}
	status, _, _ := f.do(t, request{method: "DELETE", path: "/api/keys/a%2Fb"})
	assert.Equal(t, 400, status)
}

// An API key appears in the response that creates it and nowhere else: not
// in logs (even at debug level), not in key lists, not in any other answer.
func TestSecurity_APIKeyNeverLogged(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	f := newFixture(t, func(o *server.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	status, body, _ := f.do(t, request{method: "POST", path: "/api/keys", body: `{"application_name":"` + demo.AppSupport + `"}`})
	require.Equal(t, 201, status)
	key := body["key"].(string)
	app := map[string]string{"Authorization": "Bearer " + key}
	wrong := map[string]string{"Authorization": "Bearer " + key + "x"}
	var seen strings.Builder
	for _, r := range []request{
		{method: "GET", path: "/api/sessions/demo-t-support", noAuth: true, header: app},
		{method: "GET", path: "/api/sessions/demo-t-support", noAuth: true, header: wrong},
		{method: "GET", path: "/api/keys"},
		{method: "POST", path: "/api/login", noAuth: true, body: `{"api_key":"` + key + `x"}`},
	} {
		_, b, _ := f.do(t, r)
		seen.WriteString(toJSON(t, b))
	}
	require.NotEmpty(t, logs.String())
	for _, secret := range []string{key, key[4:], driver.HashAPIKey(key)} {
		assert.NotContains(t, logs.String(), secret)
		assert.NotContains(t, seen.String(), secret)
	}
}
