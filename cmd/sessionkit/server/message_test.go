package server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

// TestAPI_OneMessage covers GET and PUT of one message by id, which Strands'
// read_message and update_message (a guardrail redaction) need.
func TestAPI_OneMessage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const base = "/api/sessions/demo-t-support/agents/support-agent/messages"
	ctx := context.Background()
	before, err := f.repo.GetMessage(ctx, "demo-t-support", "support-agent", 0)
	require.NoError(t, err)

	status, body, _ := f.do(t, request{method: "GET", path: base + "/0"})
	require.Equal(t, 200, status, "%v", body)
	assert.EqualValues(t, 0, body["message_id"])
	assert.Equal(t, "user", body["message"].(map[string]any)["role"])

	redact := `{"message":{"role":"user","content":[{"text":"secret"}]},"redact_message":{"role":"user","content":[{"text":"[redacted]"}]}}`
	status, body, _ = f.do(t, request{method: "PUT", path: base + "/0", body: redact})
	require.Equal(t, 200, status, "%v", body)
	assert.Equal(t, "[redacted]", body["redact_message"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"])
	after, err := f.repo.GetMessage(ctx, "demo-t-support", "support-agent", 0)
	require.NoError(t, err)
	require.NotNil(t, after.RedactMessage)
	assert.Equal(t, before.CreatedAt, after.CreatedAt, "an update keeps the creation time")

	status, body, _ = f.do(t, request{method: "PUT", path: base + "/0", body: `{"message_id":0,"message":{"role":"user","content":[{"text":"secret"}]}}`})
	require.Equal(t, 200, status, "%v", body)
	assert.NotContains(t, body, "redact_message", "an absent redact_message clears it")

	pw := f.passwords["demo-t-support"]
	tests := []struct {
		name       string
		req        request
		want       int
		code, text string
	}{
		{"missing message", request{method: "GET", path: base + "/100000"}, 404, "not_found", ""},
		{"missing agent", request{method: "GET", path: "/api/sessions/demo-t-support/agents/nope/messages/0"}, 404, "not_found", ""},
		{"missing session", request{method: "GET", path: "/api/sessions/nope/agents/support-agent/messages/0"}, 404, "not_found", ""},
		{"id not a number", request{method: "GET", path: base + "/x"}, 400, "invalid_argument", "message_id"},
		{"negative id", request{method: "GET", path: base + "/-1"}, 400, "invalid_argument", "message_id"},
		{"update missing", request{method: "PUT", path: base + "/100000", body: redact}, 404, "not_found", ""},
		{"update without message", request{method: "PUT", path: base + "/0", body: `{}`}, 400, "invalid_argument", ""},
		{"id mismatch", request{method: "PUT", path: base + "/0", body: `{"message_id":1,"message":{"role":"user","content":[]}}`}, 400, "invalid_argument", "message_id"},
		{"unknown field", request{method: "PUT", path: base + "/0", body: `{"message":{"role":"user","content":[]},"x":1}`}, 400, "", ""},
		{"no credentials", request{method: "PUT", path: base + "/0", body: redact, noAuth: true}, 401, "", ""},
		{"session password reads", request{method: "GET", path: base + "/0", noAuth: true,
			header: map[string]string{server.SessionPasswordHeader: pw}}, 200, "", ""},
		{"session password never writes", request{method: "PUT", path: base + "/0", body: redact, noAuth: true,
			header: map[string]string{server.SessionPasswordHeader: pw}}, 403, "forbidden", ""},
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
