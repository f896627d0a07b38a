package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

func TestAPI_MultiAgentState(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const base = "/api/sessions/demo-t-support/multi_agents"
	graph := `{"multi_agent_id":"default_graph","state":{"type":"graph","status":"executing","n":1,"f":1.5,` +
		`"current_task":[{"image":{"source":{"bytes":{"__bytes_encoded__":true,"data":"AAEC"}}}}]}}`

	status, body, _ := f.do(t, request{method: "POST", path: base, body: graph})
	require.Equal(t, 201, status, "%v", body)
	assert.Equal(t, "default_graph", body["multi_agent_id"])
	assert.Equal(t, "executing", body["state"].(map[string]any)["status"])
	assert.NotEmpty(t, body["created_at"])

	stored, err := f.repo.GetMultiAgent(context.Background(), "demo-t-support", "default_graph")
	require.NoError(t, err)
	task := stored.State["current_task"].([]any)[0].(map[string]any)
	assert.Equal(t, []byte{0, 1, 2}, task["image"].(map[string]any)["source"].(map[string]any)["bytes"], "bytes arrive as bytes")
	assert.Equal(t, int64(1), stored.State["n"])
	assert.Equal(t, 1.5, stored.State["f"])

	status, body, _ = f.do(t, request{method: "PUT", path: base + "/default_graph", body: `{"state":{"status":"completed"}}`})
	require.Equal(t, 200, status, "%v", body)
	assert.Equal(t, map[string]any{"status": "completed"}, body["state"])

	status, body, _ = f.do(t, request{method: "GET", path: base})
	require.Equal(t, 200, status)
	list := body["multi_agents"].([]any)
	require.Len(t, list, 1)
	assert.Equal(t, "default_graph", list[0].(map[string]any)["multi_agent_id"])

	pw := f.passwords["demo-t-support"]
	tests := []struct {
		name       string
		req        request
		want       int
		code, text string
	}{
		{"get", request{method: "GET", path: base + "/default_graph"}, 200, "", ""},
		{"get missing", request{method: "GET", path: base + "/nope"}, 404, "not_found", "nope"},
		{"get in a missing session", request{method: "GET", path: "/api/sessions/nope/multi_agents/default_graph"}, 404, "not_found", ""},
		{"update missing is not found", request{method: "PUT", path: base + "/default_swarm", body: `{"state":{}}`}, 404, "not_found", "default_swarm"},
		{"create twice", request{method: "POST", path: base, body: graph}, 409, "already_exists", ""},
		{"dotted id (the SDK allows it) that is missing", request{method: "GET", path: base + "/graph.v2"}, 404, "not_found", "graph.v2"},
		{"id with a control character", request{method: "GET", path: base + "/a%01b"}, 400, "invalid_argument", "multi_agent_id"},
		{"create with a bad id", request{method: "POST", path: base, body: `{"multi_agent_id":"a/b","state":{}}`}, 400, "invalid_argument", "multi_agent_id"},
		{"create without state", request{method: "POST", path: base, body: `{"multi_agent_id":"g"}`}, 400, "invalid_argument", "state"},
		{"state not an object", request{method: "POST", path: base, body: `{"multi_agent_id":"g","state":[1]}`}, 400, "invalid_argument", "state"},
		{"unknown field", request{method: "POST", path: base, body: `{"multi_agent_id":"g","state":{},"x":1}`}, 400, "", ""},
		{"client times", request{method: "POST", path: base, body: `{"multi_agent_id":"g","state":{},"created_at":"2026-01-01T00:00:00Z"}`}, 400, "invalid_argument", "created_at"},
		{"id mismatch", request{method: "PUT", path: base + "/default_graph", body: `{"multi_agent_id":"other","state":{}}`}, 400, "invalid_argument", "multi_agent_id"},
		{"no credentials", request{method: "PUT", path: base + "/default_graph", body: `{"state":{}}`, noAuth: true}, 401, "", ""},
		{"session password reads its session", request{method: "GET", path: base + "/default_graph", noAuth: true,
			header: map[string]string{server.SessionPasswordHeader: pw}}, 200, "", ""},
		{"session password never writes", request{method: "POST", path: base, body: `{"multi_agent_id":"default_swarm","state":{}}`, noAuth: true,
			header: map[string]string{server.SessionPasswordHeader: pw}}, 403, "forbidden", ""},
		{"session password on another session", request{method: "POST", path: "/api/sessions/demo-t-travel/multi_agents", body: `{"multi_agent_id":"g","state":{}}`, noAuth: true,
			header: map[string]string{server.SessionPasswordHeader: pw}}, 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := f.do(t, tt.req)
			assert.Equal(t, tt.want, status, "body: %v", body)
			if tt.code != "" {
				e := body["error"].(map[string]any)
				assert.Equal(t, tt.code, e["code"])
				assert.Contains(t, e["message"], tt.text)
			}
		})
	}
}

func TestAPI_MultiAgentOverARepositoryWithoutIt(t *testing.T) {
	t.Parallel()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	require.NoError(t, repo.CreateSession(context.Background(), &session.Session{ID: "s"}))
	srv, err := server.New(server.Options{Repository: struct{ session.Repository }{repo}, AdminToken: adminToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	f := &fixture{url: ts.URL}
	status, body, _ := f.do(t, request{method: "GET", path: "/api/sessions/s/multi_agents"})
	assert.Equal(t, 501, status)
	assert.Equal(t, "not_implemented", body["error"].(map[string]any)["code"])
}
