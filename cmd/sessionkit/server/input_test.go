package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Input the API used to store as given, or alias to other input, is
// refused with a JSON 400 naming the field, and nothing is written.
func TestAPI_StrictInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const msgs = "/api/sessions/demo-t-support/agents/support-agent/messages"
	msg := func(content string) string { return `{"message":{"role":"assistant","content":` + content + `}}` }
	tests := []struct {
		name, path, body string
		field            string // the error message names it
	}{
		{"invalid UTF-8 in an id", "/api/sessions", "{\"session_id\":\"a\xffb\"}", "UTF-8"},
		{"lone surrogate in an id", "/api/sessions", `{"session_id":"a\ud800b"}`, "surrogate"},
		{"lone low surrogate in text", msgs, msg(`[{"text":"x\udc00"}]`), "surrogate"},
		{"invalid UTF-8 in text", msgs, msg("[{\"text\":\"\xc3\x28\"}]"), "UTF-8"},
		{"text not a string", msgs, msg(`[{"text":5}]`), "message.content[0].text"},
		{"empty block", msgs, msg(`[{}]`), "message.content[0]"},
		{"null block", msgs, msg(`[null]`), "content[0]"},
		{"toolUse without toolUseId", msgs, msg(`[{"toolUse":{"name":"n","input":{}}}]`), "message.content[0].toolUse.toolUseId"},
		{"image bytes not binary", msgs, msg(`[{"image":{"format":"png","source":{"bytes":"not-b64!"}}}]`), "message.content[0].image.source.bytes"},
		{"image bytes bad base64", msgs, msg(`[{"image":{"format":"png","source":{"bytes":{"__bytes_encoded__":true,"data":"not-b64!"}}}}]`), "base64"},
		{"toolResult weird status", msgs, msg(`[{"toolResult":{"toolUseId":"t","status":"weird","content":[]}}]`), "message.content[0].toolResult.status"},
		{"document without name", msgs, msg(`[{"document":{"format":"pdf","source":{"bytes":{"__bytes_encoded__":true,"data":"AA=="}}}}]`), "message.content[0].document.name"},
		{"cachePoint without type", msgs, msg(`[{"cachePoint":{}}]`), "message.content[0].cachePoint.type"},
		{"negative usage metadata", msgs, `{"message":{"role":"assistant","content":[{"text":"x"}],"metadata":{"usage":{"inputTokens":-1}}}}`, "message.metadata.usage.inputTokens"},
		{"negative event-loop tokens", msgs, `{"message":{"role":"assistant","content":[{"text":"x"}]},"event_loop_metrics":{"accumulated_usage":{"inputTokens":-5},"accumulated_metrics":{},"cycle_metrics":{}}}`, "event_loop_metrics.accumulated_usage.inputTokens"},
		{"redact message checked too", msgs, `{"message":{"role":"user","content":[{"text":"x"}]},"redact_message":{"role":"user","content":[{"text":7}]}}`, "redact_message.content[0].text"},
		{"lone surrogate in metadata", "/api/sessions/demo-t-support/metadata", `{"metadata":{"k":"\ud800"}}`, "surrogate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := "POST"
			if strings.HasSuffix(tt.path, "/metadata") {
				method = "PATCH"
			}
			status, body, _ := f.do(t, request{method: method, path: tt.path, body: tt.body})
			require.Equal(t, 400, status, "body %v", body)
			e := body["error"].(map[string]any)
			assert.Equal(t, "invalid_argument", e["code"])
			assert.Contains(t, e["message"], tt.field)
		})
	}
	n, err := f.repo.CountMessages(context.Background(), "demo-t-support", "support-agent")
	require.NoError(t, err)
	assert.Equal(t, 10, n, "no message was stored")
	md, err := f.repo.GetMetadata(context.Background(), "demo-t-support")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"status": "resolved", "priority": "high"}, md)
}

// Content blocks of kinds sessionkit does not know are stored and served
// back exactly, next to well-formed known ones.
func TestAPI_UnknownContentKindsRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const msgs = "/api/sessions/demo-t-support/agents/support-agent/messages"
	content := `[{"futureBlock":{"a":[1,2.5,"x"],"b":null}},` +
		`{"image":{"format":"png","source":{"bytes":{"__bytes_encoded__":true,"data":"iVBORw=="}}}},` +
		`{"reasoningContent":{"reasoningText":{"text":"t","signature":"s"}}},{"cachePoint":{"type":"default"}},` +
		`{"toolUse":{"toolUseId":"t1","name":"n","input":{"q":1}}},` +
		`{"toolResult":{"toolUseId":"t1","status":"success","content":[{"json":{"k":true}},{"text":"ok"}]}}]`
	status, body, _ := f.do(t, request{method: "POST", path: msgs, body: `{"message":{"role":"assistant","content":` + content + `}}`})
	require.Equal(t, 201, status, "%v", body)
	got, err := json.Marshal(body["message"].(map[string]any)["content"])
	require.NoError(t, err)
	assert.JSONEq(t, content, string(got))
}

// Oversize request lines and headers get a JSON 431 from the handler up to
// the server's hard limit, rather than Go's plain-text one.
func TestAPI_OversizeHeadersGetJSON431(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = f.srv.HTTPServer("")
	ts.Start()
	t.Cleanup(ts.Close)
	tests := []struct {
		name   string
		path   string
		header string
	}{
		{"70 KB path", "/api/sessions/" + strings.Repeat("a", 70<<10), ""},
		{"100 KB cursor", "/api/sessions?cursor=" + strings.Repeat("A", 100<<10), ""},
		{"100 KB header", "/api/sessions", strings.Repeat("h", 100<<10)},
		{"70 KB viewer path", "/" + strings.Repeat("v", 70<<10), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest("GET", ts.URL+tt.path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+adminToken)
			if tt.header != "" {
				req.Header.Set("X-Big", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
			assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"), "Content-Type %q, body %.200s", resp.Header.Get("Content-Type"), raw)
			var body struct {
				Error struct{ Code, Message string }
			}
			require.NoError(t, json.Unmarshal(raw, &body), "%.200s", raw)
			assert.Equal(t, "headers_too_large", body.Error.Code)
		})
	}
	// Within the limit, the same server answers normally.
	req, err := http.NewRequest("GET", ts.URL+"/api/sessions/"+strings.Repeat("a", 200), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)
}
