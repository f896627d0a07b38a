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

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

// fuzzHandler is the API over a memory store filled by the demo, with rate
// limits high enough never to mask a response.
func fuzzHandler(f *testing.F) (http.Handler, map[string]string) {
	f.Helper()
	repo := memory.New(memory.Options{})
	f.Cleanup(func() { _ = repo.Close() })
	res, err := demo.Run(context.Background(), repo, demo.Options{RunID: "f"})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := server.New(server.Options{
		Repository: repo, AdminToken: adminToken, MaxBodyBytes: 64 << 10,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		LoginRate: server.Rate{PerSecond: 1e9, Burst: 1 << 30}, SearchRate: server.Rate{PerSecond: 1e9, Burst: 1 << 30},
		TargetRate: server.Rate{PerSecond: 1e9, Burst: 1 << 30}, FailedAuthDelay: -1,
	})
	if err != nil {
		f.Fatal(err)
	}
	return srv.Handler(), res.ViewerPasswords
}

var fuzzMethods = []string{"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"}

// checkResponse asserts what must hold for any request: no 5xx, and an /api
// error answered with a JSON error body carrying a code.
func checkResponse(t *testing.T, method, target string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s %q: status %d, body %s", method, target, rec.Code, rec.Body.String())
	}
	// The API is /api and what is under /api/; "/api0" is any other path
	// (the viewer's plain 404).
	if rec.Code < 400 || method == "HEAD" || (target != "/api" && !strings.HasPrefix(target, "/api/")) {
		return
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %q: status %d with Content-Type %q, body %s", method, target, rec.Code, ct, rec.Body.String())
	}
	var body struct {
		Error struct {
			Code, Message string
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code == "" {
		t.Fatalf("%s %q: status %d, body is not a JSON error (%v): %s", method, target, rec.Code, err, rec.Body.String())
	}
}

// FuzzAPIRequest drives the handler with arbitrary methods, paths, query
// strings, bodies and credentials: never a panic, never a 5xx, always a
// JSON error body for a rejected API request.
func FuzzAPIRequest(f *testing.F) {
	h, passwords := fuzzHandler(f)
	for _, s := range []struct {
		method     uint8
		path, q    string
		body       string
		auth       uint8
		jsonHeader bool
	}{
		{0, "/api/sessions", "limit=2&application_name=support", "", 1, false},
		{0, "/api/sessions", `metadata=%7B%22status%22%3A%7B%22%24ne%22%3Anull%7D%7D`, "", 1, false},
		{0, "/api/sessions", "metadata.$where=1&created_from=2026-01-01", "", 1, false},
		{0, "/api/sessions/demo-f-support/timeline", "", "", 2, false},
		{0, "/api/sessions/%7B%22%24gt%22%3A%22%22%7D", "", "", 1, false},
		{2, "/api/sessions/demo-f-support/metadata", "", `{"metadata":{"status":"open","a.b":1}}`, 1, true},
		{1, "/api/sessions/demo-f-support/feedback", "", `{"rating":"up","comment":"\u0000"}`, 2, true},
		{1, "/api/sessions/demo-f-support/agents/support-agent/messages", "", `{"message":{"role":"user","content":[{"text":"hi"}]}}`, 1, true},
		{1, "/api/sessions", "", `{"session_id":"fz-1","metadata":{"$set":{"x":1}}}`, 1, true},
		{4, "/api/sessions/demo-f-support/metadata", "key=status&key=$x", "", 1, false},
		{1, "/api/login", "", `{"session_id":"demo-f-support","password":"x"}`, 0, true},
		{0, "/api/sessions/demo-f-support/agents/support-agent/messages", "last=3", "", 1, false},
		{3, "/api/sessions/demo-f-support/agents/support-agent", "", `{"state":{"k":{"__bytes_encoded__":true,"data":"AA=="}}}`, 1, true},
	} {
		f.Add(s.method, s.path, s.q, s.body, s.auth, s.jsonHeader)
	}
	f.Fuzz(func(t *testing.T, method uint8, path, query, body string, auth uint8, jsonHeader bool) {
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		target := path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(m, "http://sessionkit.test"+target, strings.NewReader(body))
		if err != nil {
			t.Skip("not a request line a client can send")
		}
		req.RemoteAddr = "192.0.2.1:1234"
		if jsonHeader {
			req.Header.Set("Content-Type", "application/json")
		}
		switch auth % 4 {
		case 1:
			req.Header.Set("Authorization", "Bearer "+adminToken)
		case 2:
			req.Header.Set(server.SessionPasswordHeader, passwords["demo-f-support"])
		case 3:
			req.Header.Set("Authorization", "Bearer "+body)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkResponse(t, m, req.URL.Path, rec)
	})
}

// FuzzSessionSearchQuery fuzzes the session search's query string alone,
// the richest decoder (filters, metadata as dotted keys or a JSON object,
// time ranges, cursors, limits).
func FuzzSessionSearchQuery(f *testing.F) {
	h, _ := fuzzHandler(f)
	for _, q := range []string{
		"", "limit=1", "limit=1&cursor=e30", "id_prefix=demo-", "type=AGENT",
		"metadata.status=open", `metadata=%7B%22priority%22%3A%22high%22%7D`, `metadata=%7B%22%24ne%22%3Anull%7D`,
		"metadata.a%00b=1", "created_from=2026-01-01T00:00:00Z&created_to=2027-01-01",
		"application_name=%FF", "limit=1&limit=1", "cursor=" + strings.Repeat("A", 200),
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		req, err := http.NewRequest("GET", "http://sessionkit.test/api/sessions?"+query, nil)
		if err != nil {
			t.Skip()
		}
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkResponse(t, "GET", "/api/sessions", rec)
		if rec.Code == http.StatusOK {
			var page map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
				t.Fatalf("200 with a body that is not JSON: %v", err)
			}
		}
	})
}
