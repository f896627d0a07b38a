package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

// A client agent in any language can use the service as its session store:
// create a session, then append messages and read the last ones back.
func Example() {
	repo := memory.New(memory.Options{})
	defer repo.Close()
	srv, err := server.New(server.Options{
		Repository: repo,
		AdminToken: "example-admin-token-0123",
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	call := func(method, path, body string) string {
		req, _ := http.NewRequestWithContext(context.Background(), method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer example-admin-token-0123")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		return resp.Status
	}
	fmt.Println(call("POST", "/api/sessions", `{"session_id":"user-42","application_name":"faq-bot"}`))
	fmt.Println(call("POST", "/api/sessions/user-42/agents", `{"agent_id":"default"}`))
	fmt.Println(call("POST", "/api/sessions/user-42/agents/default/messages", `{"message":{"role":"user","content":[{"text":"hi"}]}}`))
	fmt.Println(call("GET", "/api/sessions/user-42/agents/default/messages?last=10", ""))
	fmt.Println(call("GET", "/api/sessions/user-42/agents/$bad/messages", ""))
	// Output:
	// 201 Created
	// 201 Created
	// 201 Created
	// 200 OK
	// 400 Bad Request
}
