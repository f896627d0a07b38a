package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

// syncBuffer is a log sink safe for the server's concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// No credential — the admin token, a viewer password or its hash, a wrong
// guess, or the password of the cache's connection string — ever appears
// in a log record, a response body, /metrics or /healthz, even when the
// backend is failing.
func TestSecurity_NoCredentialInLogsResponsesMetricsOrHealth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const cachePassword = "cache-secret-pw"
	// The cache's Redis is a dead port, so /healthz reports an error that
	// must not echo the connection string's password.
	repo, err := session.Open(ctx, "memory://?cache="+"redis%3A%2F%2F%3A"+cachePassword+"%40127.0.0.1%3A1%2F0%3Fdial_timeout%3D50ms")
	require.NoError(t, err)
	t.Cleanup(func() { _ = repo.Close() })
	res, err := demo.Run(ctx, repo, demo.Options{RunID: "sec"})
	require.NoError(t, err)
	pw := res.ViewerPasswords["demo-sec-support"]
	require.NotEmpty(t, pw)
	stored, err := repo.GetSession(ctx, "demo-sec-support")
	require.NoError(t, err)
	require.NotEmpty(t, stored.ViewerPasswordHash)

	logs := &syncBuffer{}
	var stats []session.StatsReporter
	if sr, ok := repo.(session.StatsReporter); ok {
		stats = append(stats, sr)
	}
	srv, err := server.New(server.Options{
		Repository: repo, AdminToken: adminToken, Stats: stats,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		LoginRate: server.Rate{PerSecond: 1000, Burst: 1000}, SearchRate: server.Rate{PerSecond: 1000, Burst: 1000},
	})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	const guess = "wrong-guess-secret"
	var bodies strings.Builder
	call := func(method, path, body string, header map[string]string) int {
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		bodies.Write(b)
		for k, vs := range resp.Header {
			bodies.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		return resp.StatusCode
	}
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	assert.Equal(t, 401, call("GET", "/api/sessions", "", map[string]string{"Authorization": "Bearer " + guess}))
	assert.Equal(t, 401, call("GET", "/api/sessions/demo-sec-support", "", map[string]string{server.SessionPasswordHeader: guess}))
	assert.Equal(t, 401, call("POST", "/api/login", `{"session_id":"demo-sec-support","password":"`+guess+`"}`, nil))
	assert.Equal(t, 401, call("POST", "/api/login", `{"admin_token":"`+guess+`"}`, nil))
	assert.Equal(t, 200, call("POST", "/api/login", `{"session_id":"demo-sec-support","password":"`+pw+`"}`, nil))
	assert.Equal(t, 200, call("GET", "/api/sessions/demo-sec-support", "", map[string]string{server.SessionPasswordHeader: pw}))
	assert.Equal(t, 200, call("GET", "/api/sessions/demo-sec-support/timeline", "", admin))
	assert.Equal(t, 200, call("GET", "/api/sessions?limit=10", "", admin))
	call("GET", "/metrics", "", nil)
	call("GET", "/healthz", "", nil)
	call("GET", "/metrics", "", admin)

	out := bodies.String() + logs.String()
	require.NotEmpty(t, logs.String(), "the server logged something to check")
	for _, secret := range []string{adminToken, pw, stored.ViewerPasswordHash, guess, cachePassword} {
		assert.NotContains(t, out, secret)
	}
	assert.NotContains(t, strings.ToLower(out), "viewer_password", "no viewer password field is ever served")
}

// Inputs shaped like MongoDB operators are plain strings: an id such as
// {"$ne":null} names a session that does not exist (it never matches
// others), and a filter value that is a JSON object with an operator is
// rejected or matches nothing — never every session.
func TestSecurity_OperatorShapedInputsAreLiteral(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const s = "/api/sessions/"
	status, body, _ := f.do(t, request{method: "GET", path: s + `%7B%22%24ne%22%3Anull%7D`})
	assert.Contains(t, []int{400, 404}, status, "body %v", body)
	status, body, _ = f.do(t, request{method: "GET", path: s + `%7B%22%24ne%22%3Anull%7D/timeline`})
	assert.Contains(t, []int{400, 404}, status, "body %v", body)

	for _, q := range []string{
		`metadata=%7B%22status%22%3A%7B%22%24ne%22%3Anull%7D%7D`, // {"status":{"$ne":null}}
		`metadata=%7B%22status%22%3A%7B%22%24exists%22%3Atrue%7D%7D`,
		`metadata.status=%7B%22%24ne%22%3Anull%7D`, // the string {"$ne":null}
		`id_prefix=.%2A`, `id_prefix=%5E`, `id_prefix=demo-t-support%7Cdemo`, // .* ^ a|b: no regex
		`application_name=%7B%22%24ne%22%3Anull%7D`,
	} {
		status, body, _ := f.do(t, request{method: "GET", path: "/api/sessions?" + q})
		if status == 200 {
			assert.Empty(t, body["sessions"], "%s matched sessions: %v", q, body)
			continue
		}
		assert.Equal(t, 400, status, "%s: %v", q, body)
	}

	// Creating a session whose id looks like an operator stores that id.
	status, body, _ = f.do(t, request{method: "POST", path: "/api/sessions", body: `{"session_id":"{\"$gt\":\"\"}"}`})
	if status == 201 {
		s, err := f.repo.GetSession(context.Background(), `{"$gt":""}`)
		require.NoError(t, err)
		assert.Equal(t, `{"$gt":""}`, s.ID)
	} else {
		assert.Equal(t, 400, status, "body %v", body)
	}
	page, err := f.repo.ListSessions(context.Background(), session.SessionQuery{})
	require.NoError(t, err)
	assert.LessOrEqual(t, len(page.Sessions), 4, "no request created more than the one literal session")
}

// Near-miss credentials never authenticate: the token's prefix, the token
// with more after it, another case, a token in the query string, and a
// viewer password for the right session with a byte changed.
func TestSecurity_NearMissCredentialsAreRejected(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	pw := f.passwords["demo-t-support"]
	flip := []byte(pw)
	flip[len(flip)-1] ^= 1
	for name, req := range map[string]request{
		"token prefix":         {method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Authorization": "Bearer " + adminToken[:len(adminToken)-1]}},
		"token with suffix":    {method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Authorization": "Bearer " + adminToken + "x"}},
		"token upper case":     {method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Authorization": "Bearer " + strings.ToUpper(adminToken)}},
		"token in query":       {method: "GET", path: "/api/sessions?token=" + adminToken + "&access_token=" + adminToken, noAuth: true},
		"token in cookie only": {method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{"Cookie": "token=" + adminToken}},
		"password one bit off": {method: "GET", path: "/api/sessions/demo-t-support", noAuth: true, header: map[string]string{server.SessionPasswordHeader: string(flip)}},
		"password as bearer":   {method: "GET", path: "/api/sessions/demo-t-support", noAuth: true, header: map[string]string{"Authorization": "Bearer " + pw}},
	} {
		status, body, _ := f.do(t, req)
		assert.Contains(t, []int{400, 401}, status, "%s: %v", name, body)
	}
}

// The failed-login limiter keys on the connection's address: a client
// cannot reset its budget by sending X-Forwarded-For or X-Real-IP.
func TestSecurity_LoginLimiterIgnoresForwardedHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *server.Options) { o.LoginRate = server.Rate{PerSecond: 0.001, Burst: 2} })
	for i := range 4 {
		ip := "203.0.113." + string(rune('1'+i))
		status, _, _ := f.do(t, request{method: "GET", path: "/api/sessions", noAuth: true, header: map[string]string{
			"Authorization": "Bearer wrong", "X-Forwarded-For": ip, "X-Real-IP": ip}})
		if i < 2 {
			assert.Equal(t, 401, status)
		} else {
			assert.Equal(t, 429, status, "attempt %d from spoofed %s", i, ip)
		}
	}
}
