package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

// rawDo sends body as the raw request body (no Content-Type unless given)
// and returns the status, headers and raw response bytes.
func (f *fixture) rawDo(t *testing.T, method, path string, body io.Reader, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, body)
	require.NoError(t, err)
	if _, ok := header[server.SessionPasswordHeader]; !ok {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, raw
}

func TestAPI_Snapshots(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *server.Options) { o.MaxSnapshotBytes = 1024 })
	const base = "/api/sessions/demo-t-support/snapshots/"
	const latest = "scopes/agent/a1/snapshots/snapshot_latest.json"
	corrupt := []byte{'{', 0, 0xff, '"', '\n'} // stored and returned as bytes, never parsed

	// PUT: any Content-Type, raw bytes, the normalized key back.
	status, hdr, raw := f.rawDo(t, "PUT", base+latest, bytes.NewReader(corrupt), map[string]string{"Content-Type": "text/plain"})
	require.Equal(t, 200, status, "%s", raw)
	assert.Contains(t, hdr.Get("Content-Type"), "application/json")
	assert.Contains(t, string(raw), `"key":"`+latest+`"`)
	assert.Contains(t, string(raw), `"size_bytes":5`)
	assert.Contains(t, string(raw), `"updated_at":"`)

	// GET: the bytes as stored.
	status, hdr, raw = f.rawDo(t, "GET", base+latest, nil, nil)
	require.Equal(t, 200, status)
	assert.Equal(t, corrupt, raw)
	assert.Equal(t, "application/octet-stream", hdr.Get("Content-Type"))
	assert.Equal(t, "5", hdr.Get("Content-Length"))
	stored, err := f.repo.GetSnapshot(context.Background(), "demo-t-support", latest)
	require.NoError(t, err)
	assert.Equal(t, corrupt, stored.Data)

	// A chunked body (no Content-Length) works too.
	status, _, raw = f.rawDo(t, "PUT", base+"scopes/agent/a1/snapshots/immutable_history/snapshot_1.json",
		io.MultiReader(strings.NewReader("chunked "), strings.NewReader("body")), nil)
	require.Equal(t, 200, status, "%s", raw)
	status, _, raw = f.rawDo(t, "GET", base+"scopes/agent/a1/snapshots/immutable_history/snapshot_1.json", nil, nil)
	require.Equal(t, 200, status)
	assert.Equal(t, "chunked body", string(raw))
	for _, k := range []string{"scopes/agent/a2/x", "scopes/multiAgent/g/snapshots/snapshot_latest.json", "é/ü"} {
		status, _, raw = f.rawDo(t, "PUT", base+k, strings.NewReader(k), nil)
		require.Equal(t, 200, status, "%s: %s", k, raw)
	}

	// List: byte order, prefix, paging.
	var keys []string
	cursor := ""
	for range 10 {
		status, body, _ := f.do(t, request{method: "GET", path: base[:len(base)-1] + "?prefix=scopes/agent/&limit=2&cursor=" + cursor})
		require.Equal(t, 200, status, "%v", body)
		page := body["snapshots"].([]any)
		assert.LessOrEqual(t, len(page), 2)
		for _, s := range page {
			m := s.(map[string]any)
			keys = append(keys, m["key"].(string))
			assert.NotEmpty(t, m["updated_at"])
			assert.NotNil(t, m["size_bytes"])
		}
		cursor = body["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	assert.Equal(t, []string{"scopes/agent/a1/snapshots/immutable_history/snapshot_1.json", latest, "scopes/agent/a2/x"}, keys)
	status, body, _ := f.do(t, request{method: "GET", path: base[:len(base)-1]})
	require.Equal(t, 200, status)
	assert.Len(t, body["snapshots"], 5)
	assert.Equal(t, "", body["next_cursor"])
	assert.Equal(t, "é/ü", body["snapshots"].([]any)[4].(map[string]any)["key"], "byte order puts é last")

	// Over the limit: 413, nothing written (with and without Content-Length).
	status, hdr, raw = f.rawDo(t, "PUT", base+latest, bytes.NewReader(make([]byte, 1025)), nil)
	assert.Equal(t, 413, status)
	assert.Contains(t, string(raw), `"code":"too_large"`)
	status, _, raw = f.rawDo(t, "PUT", base+"big", io.MultiReader(bytes.NewReader(make([]byte, 1000)), bytes.NewReader(make([]byte, 100))), nil)
	assert.Equal(t, 413, status, "%s", raw)
	stored, err = f.repo.GetSnapshot(context.Background(), "demo-t-support", latest)
	require.NoError(t, err)
	assert.Equal(t, corrupt, stored.Data, "a rejected PUT changed the snapshot")
	_, err = f.repo.GetSnapshot(context.Background(), "demo-t-support", "big")
	require.ErrorIs(t, err, session.ErrNotFound)
	status, _, _ = f.rawDo(t, "PUT", base+"exact", bytes.NewReader(make([]byte, 1024)), nil)
	assert.Equal(t, 200, status, "a body of exactly the limit")

	// DELETE: 204 whether or not the key existed.
	for range 2 {
		status, _, raw = f.rawDo(t, "DELETE", base+latest, nil, nil)
		assert.Equal(t, 204, status, "%s", raw)
	}
	status, _, raw = f.rawDo(t, "GET", base+latest, nil, nil)
	assert.Equal(t, 404, status)
	assert.Contains(t, string(raw), `"code":"not_found"`)

	pw := f.passwords["demo-t-support"]
	tests := []struct {
		name, method, path string
		body               string
		header             map[string]string
		want               int
		code, field        string
	}{
		{"get in a missing session", "GET", "/api/sessions/nope/snapshots/k", "", nil, 404, "not_found", ""},
		{"put in a missing session", "PUT", "/api/sessions/nope/snapshots/k", "x", nil, 404, "not_found", ""},
		{"delete in a missing session", "DELETE", "/api/sessions/nope/snapshots/k", "", nil, 404, "not_found", ""},
		{"list of a missing session", "GET", "/api/sessions/nope/snapshots", "", nil, 404, "not_found", ""},
		{"empty key", "PUT", base, "x", nil, 400, "invalid_argument", "path"},
		{"backslash key", "PUT", base + "a%5Cb", "x", nil, 400, "invalid_argument", "key"},
		{"control character key", "PUT", base + "a%01b", "x", nil, 400, "invalid_argument", "key"},
		{"dot-dot segment", "PUT", base + "a/../b", "x", nil, 400, "invalid_argument", "path"},
		{"doubled slash", "PUT", base + "a//b", "x", nil, 400, "invalid_argument", "path"},
		{"bad limit", "GET", base[:len(base)-1] + "?limit=x", "", nil, 400, "invalid_argument", "limit"},
		{"limit over the maximum", "GET", base[:len(base)-1] + "?limit=10001", "", nil, 400, "invalid_argument", "limit"},
		{"bad prefix", "GET", base[:len(base)-1] + "?prefix=a%5C", "", nil, 400, "invalid_argument", "prefix"},
		{"session password reads", "GET", base + "scopes/agent/a2/x", "", map[string]string{server.SessionPasswordHeader: pw}, 200, "", ""},
		{"session password lists", "GET", base[:len(base)-1], "", map[string]string{server.SessionPasswordHeader: pw}, 200, "", ""},
		{"session password never writes", "PUT", base + "k", "x", map[string]string{server.SessionPasswordHeader: pw}, 403, "forbidden", ""},
		{"session password never deletes", "DELETE", base + "scopes/agent/a2/x", "", map[string]string{server.SessionPasswordHeader: pw}, 403, "forbidden", ""},
		{"no credentials", "GET", base + "k", "", map[string]string{server.SessionPasswordHeader: ""}, 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			status, _, raw := f.rawDo(t, tt.method, tt.path, body, tt.header)
			assert.Equal(t, tt.want, status, "body: %s", raw)
			if tt.code != "" {
				assert.Contains(t, string(raw), `"code":"`+tt.code+`"`)
			}
			if tt.field != "" {
				assert.Contains(t, string(raw), tt.field)
			}
		})
	}
	_, err = f.repo.GetSnapshot(context.Background(), "demo-t-support", "k")
	require.ErrorIs(t, err, session.ErrNotFound, "a refused write stored something")

	// DeleteSession removes the snapshots.
	require.NoError(t, f.repo.DeleteSession(context.Background(), "demo-t-support"))
	require.NoError(t, f.repo.CreateSession(context.Background(), &session.Session{ID: "demo-t-support", CreatedAt: time.Now()}))
	status, body, _ = f.do(t, request{method: "GET", path: base[:len(base)-1]})
	require.Equal(t, 200, status)
	assert.Empty(t, body["snapshots"])
}

// The session's timeline (what the viewer shows) lists its snapshot keys,
// in key order, and has no snapshots field when there are none.
func TestAPI_TimelineListsSnapshotKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const tl = "/api/sessions/demo-t-support/timeline"
	status, body, _ := f.do(t, request{method: "GET", path: tl})
	require.Equal(t, 200, status)
	assert.NotContains(t, body, "snapshots")
	for _, k := range []string{"scopes/multiAgent/g/snapshots/snapshot_latest.json", "scopes/agent/a/snapshots/snapshot_latest.json"} {
		_, err := f.repo.PutSnapshot(context.Background(), "demo-t-support", k, []byte("{}"))
		require.NoError(t, err)
	}
	status, body, _ = f.do(t, request{method: "GET", path: tl})
	require.Equal(t, 200, status)
	list := body["snapshots"].([]any)
	require.Len(t, list, 2)
	assert.Equal(t, "scopes/agent/a/snapshots/snapshot_latest.json", list[0].(map[string]any)["key"])
	assert.EqualValues(t, 2, list[0].(map[string]any)["size_bytes"])
	assert.NotContains(t, body, "more_snapshots")
}

// Over a repository without the snapshot role the routes answer 501.
func TestAPI_SnapshotsWithoutTheRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *server.Options) { o.Repository = struct{ session.Repository }{o.Repository} })
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		status, _, raw := f.rawDo(t, m, "/api/sessions/demo-t-support/snapshots/k", strings.NewReader("x"), nil)
		assert.Equal(t, 501, status, "%s: %s", m, raw)
		assert.Contains(t, string(raw), `"code":"not_implemented"`)
	}
	status, _, _ := f.rawDo(t, "GET", "/api/sessions/demo-t-support/snapshots", nil, nil)
	assert.Equal(t, 501, status)
	status, body, _ := f.do(t, request{method: "GET", path: "/api/sessions/demo-t-support/timeline"})
	assert.Equal(t, 200, status, "the timeline works without snapshots")
	assert.NotContains(t, body, "snapshots")
}

// BenchmarkSnapshotPut16MiB measures a 16 MiB PUT through the API into the
// memory backend; B/op shows what one upload holds: the body once (read
// into a buffer of its Content-Length) plus the store's own copy.
func BenchmarkSnapshotPut16MiB(b *testing.B) {
	f := newFixture(b, nil)
	body := make([]byte, 16<<20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("PUT", f.url+"/api/sessions/demo-t-support/snapshots/latest", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("PUT: %v %v", err, resp)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}
