package openapitest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

const (
	serverDir  = "../../cmd/sessionkit/server"
	adminToken = "openapi-test-admin-token-0123"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join(serverDir, "openapi.json"))
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "the document is valid OpenAPI")
	return doc
}

// routePattern matches the route registrations in the server's sources.
var routePattern = regexp.MustCompile(`m\.Handle(?:Func)?\("(GET|POST|PUT|PATCH|DELETE) (/[^"]*)"`)

// TestEveryRouteIsDescribed compares the routes the server registers with
// the document's operations, both ways.
func TestEveryRouteIsDescribed(t *testing.T) {
	t.Parallel()
	doc := load(t)
	files, err := filepath.Glob(filepath.Join(serverDir, "*.go"))
	require.NoError(t, err)
	var registered []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
			if m[2] == "/{$}" || m[2] == "/static/" { // the viewer's page and assets
				continue
			}
			// A Go wildcard {key...} is an OpenAPI {key}.
			registered = append(registered, m[1]+" "+strings.ReplaceAll(m[2], "...}", "}"))
		}
	}
	var described []string
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, method+" "+p)
		}
	}
	sort.Strings(registered)
	sort.Strings(described)
	require.NotEmpty(t, registered)
	assert.Equal(t, registered, described)
}

// step is one real request of the table, in order (later steps use what
// earlier ones created).
type step struct {
	method, path, body string
	header             map[string]string
	status             int
	// badInput: the request is meant to break the document's rules (the
	// server must refuse it too); only the response is validated.
	badInput bool
}

// TestRequestsAndResponsesConform runs a table of real requests through the
// server and validates every request and every response against the document.
func TestRequestsAndResponsesConform(t *testing.T) {
	t.Parallel()
	doc := load(t)
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	srv, err := server.New(server.Options{Repository: repo, AdminToken: adminToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	doc.Servers = openapi3.Servers{{URL: ts.URL}}
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)

	const s = "/api/sessions/oa-1"
	msg := `{"role":"user","content":[{"text":"hi"}]}`
	var password, keyID string
	steps := []step{
		{method: "GET", path: "/healthz", status: 200},
		{method: "GET", path: "/api/openapi.json", status: 200},
		{method: "POST", path: "/api/login", body: `{"admin_token":"` + adminToken + `"}`, status: 200},
		{method: "POST", path: "/api/sessions", body: `{"session_id":"oa-1","application_name":"oa","metadata":{"tier":"gold"},"viewer_password":true}`, status: 201},
		{method: "POST", path: "/api/sessions", body: `{"session_id":"oa-1"}`, status: 409},
		{method: "POST", path: "/api/sessions", body: `{"session_id":"oa-2","x":1}`, status: 400, badInput: true},
		{method: "GET", path: "/api/sessions?application=oa&limit=10", status: 200},
		{method: "GET", path: "/api/sessions?limit=0", status: 400, badInput: true},
		{method: "GET", path: "/api/stats?application=oa&from=2026-01-01&to=2026-01-31", status: 200},
		{method: "GET", path: "/api/stats", status: 200},
		{method: "GET", path: "/api/stats?from=yesterday", status: 400, badInput: true},
		{method: "GET", path: s, status: 200},
		{method: "GET", path: "/api/sessions/nope", status: 404},
		{method: "POST", path: s + "/agents", body: `{"agent_id":"a","state":{"k":1},"conversation_manager_state":{"removed_message_count":0}}`, status: 201},
		{method: "GET", path: s + "/agents", status: 200},
		{method: "GET", path: s + "/agents/a", status: 200},
		{method: "PUT", path: s + "/agents/a", body: `{"state":{"k":2}}`, status: 200},
		{method: "POST", path: s + "/agents/a/messages", body: `{"message_id":0,"message":` + msg + `}`, status: 201},
		{method: "POST", path: s + "/agents/a/messages", body: `{"message_id":0,"message":` + msg + `}`, status: 409},
		{method: "POST", path: s + "/agents/a/messages", body: `{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"calc","input":{"x":1}}}]}}`, status: 201},
		{method: "POST", path: s + "/agents/a/messages", body: `{"message":{"role":"robot","content":[]}}`, status: 400, badInput: true},
		{method: "GET", path: s + "/agents/a/messages?last=10", status: 200},
		{method: "GET", path: s + "/agents/a/messages?offset=1&limit=5", status: 200},
		{method: "GET", path: s + "/agents/a/messages/1", status: 200},
		{method: "PUT", path: s + "/agents/a/messages/0", body: `{"message":` + msg + `,"redact_message":{"role":"user","content":[{"text":"[redacted]"}]}}`, status: 200},
		{method: "GET", path: s + "/agents/a/messages/9", status: 404},
		{method: "GET", path: s + "/metadata", status: 200},
		{method: "PATCH", path: s + "/metadata", body: `{"metadata":{"plan":"pro"}}`, status: 200},
		{method: "DELETE", path: s + "/metadata?key=plan", status: 200},
		{method: "POST", path: s + "/feedback", body: `{"rating":"up","comment":"thanks","agent_id":"a","message_id":1}`, status: 201},
		{method: "GET", path: s + "/feedback", status: 200},
		{method: "POST", path: s + "/multi_agents", body: `{"multi_agent_id":"default_graph","state":{"type":"graph","status":"executing"}}`, status: 201},
		{method: "GET", path: s + "/multi_agents", status: 200},
		{method: "GET", path: s + "/multi_agents/default_graph", status: 200},
		{method: "PUT", path: s + "/multi_agents/default_graph", body: `{"state":{"type":"graph","status":"completed"}}`, status: 200},
		{method: "GET", path: s + "/timeline", status: 200},
		{method: "POST", path: "/api/keys", body: `{"application_name":"oa","description":"test"}`, status: 201},
		{method: "GET", path: "/api/keys", status: 200},
		{method: "DELETE", path: "/api/keys/{key}", status: 204},
		{method: "GET", path: s, header: map[string]string{"X-Session-Password": "{password}"}, status: 200},
		{method: "PUT", path: s + "/agents/a", body: `{"state":{}}`, header: map[string]string{"X-Session-Password": "{password}"}, status: 403},
		{method: "DELETE", path: s, status: 204},
	}
	for _, st := range steps {
		path := strings.ReplaceAll(st.path, "{key}", keyID)
		req, err := http.NewRequest(st.method, ts.URL+path, strings.NewReader(st.body))
		require.NoError(t, err)
		if st.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if st.header == nil {
			req.Header.Set("Authorization", "Bearer "+adminToken)
		}
		for k, v := range st.header {
			req.Header.Set(k, strings.ReplaceAll(v, "{password}", password))
		}
		name := st.method + " " + path
		route, params, err := router.FindRoute(req)
		require.NoError(t, err, "%s: no route in the document", name)
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if err := openapi3filter.ValidateRequest(context.Background(), in); st.badInput {
			assert.Error(t, err, "%s: the document should refuse this request too", name)
		} else {
			assert.NoError(t, err, "%s: request", name)
		}
		// ValidateRequest consumed the body; send a fresh one.
		req.Body = io.NopCloser(strings.NewReader(st.body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, st.status, resp.StatusCode, "%s: %s", name, raw)
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(raw)
		assert.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), "%s: response %s", name, raw)

		var body map[string]any
		if json.Unmarshal(raw, &body) == nil {
			if p, ok := body["viewer_password"].(string); ok {
				password = p
			}
			if k, ok := body["key_id"].(string); ok && st.method == "POST" {
				keyID = k
			}
		}
	}
}
