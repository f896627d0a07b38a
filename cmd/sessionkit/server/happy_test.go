package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

func TestAPI_SearchFiltersAndPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ids := func(body map[string]any) []string {
		var out []string
		for _, s := range body["sessions"].([]any) {
			out = append(out, s.(map[string]any)["session_id"].(string))
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"demo-t-billing", "demo-t-travel", "demo-t-support"}},
		{"application=customer-support-bot", []string{"demo-t-billing", "demo-t-support"}},
		{"application=nobody", nil},
		{"id_prefix=demo-t-s", []string{"demo-t-support"}},
		{"metadata.status=resolved", []string{"demo-t-support"}},
		{"metadata=%7B%22travellers%22%3A2%7D", []string{"demo-t-travel"}},
		{"metadata.travellers=2", nil}, // the string "2" is not the integer 2
		{"created_from=2000-01-01&created_to=2999-01-01T00:00:00Z", []string{"demo-t-billing", "demo-t-travel", "demo-t-support"}},
		{"created_to=2000-01-01", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			status, body, _ := f.do(t, request{method: "GET", path: "/api/sessions?" + tt.query})
			require.Equal(t, 200, status, "%v", body)
			assert.Equal(t, tt.want, ids(body))
		})
	}

	t.Run("pages with cursor and counts", func(t *testing.T) {
		t.Parallel()
		var got []string
		cursor := ""
		for range 4 {
			path := "/api/sessions?limit=1"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			status, body, _ := f.do(t, request{method: "GET", path: path})
			require.Equal(t, 200, status)
			got = append(got, ids(body)...)
			if body["next_cursor"] == nil {
				break
			}
			cursor = body["next_cursor"].(string)
		}
		assert.Equal(t, []string{"demo-t-billing", "demo-t-travel", "demo-t-support"}, got)

		_, body, _ := f.do(t, request{method: "GET", path: "/api/sessions?id_prefix=demo-t-support"})
		p := body["sessions"].([]any)[0].(map[string]any)
		assert.EqualValues(t, 1, p["agent_count"])
		assert.EqualValues(t, 10, p["message_count"])
		assert.EqualValues(t, 2, p["feedback_count"])
		assert.NotContains(t, p, "viewer_password_hash")
	})
}

func TestAPI_TimelineShowsEverything(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	status, body, _ := f.do(t, request{method: "GET", path: "/api/sessions/demo-t-support/timeline"})
	require.Equal(t, 200, status)
	kinds := map[string]int{}
	var toolCall, redacted, metrics bool
	var last time.Time
	for _, e := range body["events"].([]any) {
		ev := e.(map[string]any)
		kinds[ev["kind"].(string)]++
		at, err := time.Parse(time.RFC3339Nano, ev["at"].(string))
		require.NoError(t, err)
		assert.False(t, at.Before(last), "time order")
		last = at
		if tc, ok := ev["tool_calls"].([]any); ok && tc[0].(map[string]any)["name"] == "lookup_order" {
			toolCall = true
		}
		if ev["redacted"] == true {
			redacted = ev["redaction"] == "[User input redacted.]"
		}
		if m, ok := ev["message"].(map[string]any); ok && m["event_loop_metrics"] != nil {
			metrics = true
		}
	}
	assert.Equal(t, map[string]int{"session": 1, "agent": 1, "message": 10, "guardrail": 1, "feedback": 2}, kinds)
	assert.True(t, toolCall, "tool call digested")
	assert.True(t, redacted, "redaction shown")
	assert.True(t, metrics, "per-turn metrics present")
}

func TestAPI_MetadataAndFeedback(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const s = "/api/sessions/demo-t-support"
	status, body, _ := f.do(t, request{method: "PATCH", path: s + "/metadata", body: `{"metadata":{"nps":9,"tags":["a","b"],"blob":{"__bytes_encoded__":true,"data":"AAE="}}}`})
	require.Equal(t, 200, status, "%v", body)
	md := body["metadata"].(map[string]any)
	assert.EqualValues(t, 9, md["nps"])
	assert.Equal(t, map[string]any{"__bytes_encoded__": true, "data": "AAE="}, md["blob"], "bytes round-trip in Strands form")
	stored, err := f.repo.GetMetadata(context.Background(), "demo-t-support")
	require.NoError(t, err)
	assert.Equal(t, int64(9), stored["nps"])
	assert.Equal(t, []byte{0, 1}, stored["blob"])

	status, body, _ = f.do(t, request{method: "DELETE", path: s + "/metadata?key=nps&key=blob&key=absent"})
	require.Equal(t, 200, status)
	assert.NotContains(t, body["metadata"], "nps")
	assert.Contains(t, body["metadata"], "tags")

	status, body, _ = f.do(t, request{method: "POST", path: s + "/feedback", body: `{"rating":"down","comment":"wrong","agent_id":"support-agent","message_id":5,"extra":{"source":"api"}}`})
	require.Equal(t, 201, status, "%v", body)
	assert.NotEmpty(t, body["feedback_id"])
	assert.NotEmpty(t, body["created_at"])
	status, body, _ = f.do(t, request{method: "GET", path: s + "/feedback"})
	require.Equal(t, 200, status)
	list := body["feedback"].([]any)
	require.Len(t, list, 3)
	lastFB := list[2].(map[string]any)
	assert.EqualValues(t, 5, lastFB["message_id"])
	assert.Equal(t, map[string]any{"source": "api"}, lastFB["extra"])
}

func TestAPI_ConversationStoreForAClientAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	status, body, _ := f.do(t, request{method: "POST", path: "/api/sessions", body: `{"session_id":"py-client@example.com","application_name":"python-agent","metadata":{"lang":"py"},"viewer_password":true}`})
	require.Equal(t, 201, status, "%v", body)
	pw := body["viewer_password"].(string)
	require.NotEmpty(t, pw)
	const s = "/api/sessions/py-client@example.com"

	status, body, _ = f.do(t, request{method: "POST", path: s + "/agents", body: `{"agent_id":"default","state":{"n":1},"conversation_manager_state":{"__name__":"SlidingWindowConversationManager","removed_message_count":0},"config":{"model":"m1"}}`})
	require.Equal(t, 201, status, "%v", body)
	assert.EqualValues(t, 0, body["message_count"])

	for i, text := range []string{"hi", "hello", "bye"} {
		role := []string{"user", "assistant"}[i%2]
		status, body, _ = f.do(t, request{method: "POST", path: s + "/agents/default/messages",
			body: `{"message":{"role":"` + role + `","content":[{"text":"` + text + `"}]}}`})
		require.Equal(t, 201, status, "%v", body)
		assert.EqualValues(t, i, body["message_id"])
	}
	status, body, _ = f.do(t, request{method: "POST", path: s + "/agents/default/messages",
		body: `{"message_id":3,"message":{"role":"assistant","content":[{"text":"ok"}]},"event_loop_metrics":{"accumulated_usage":{"inputTokens":5,"outputTokens":1,"totalTokens":6,"cacheReadInputTokens":0,"cacheWriteInputTokens":0},"accumulated_metrics":{"latencyMs":10,"timeToFirstByteMs":2},"cycle_metrics":{"cycle_count":1,"total_duration":0.5,"average_cycle_time":0.5}}}`})
	require.Equal(t, 201, status, "%v", body)

	status, body, _ = f.do(t, request{method: "GET", path: s + "/agents/default/messages?last=2", noAuth: true,
		header: map[string]string{server.SessionPasswordHeader: pw}})
	require.Equal(t, 200, status, "%v", body)
	assert.EqualValues(t, 4, body["total"])
	msgs := body["messages"].([]any)
	require.Len(t, msgs, 2)
	assert.EqualValues(t, 2, msgs[0].(map[string]any)["message_id"])
	assert.Equal(t, "ok", msgs[1].(map[string]any)["message"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"])

	status, body, _ = f.do(t, request{method: "GET", path: s + "/agents/default/messages?offset=1&limit=1"})
	require.Equal(t, 200, status)
	assert.Len(t, body["messages"], 1)

	status, body, _ = f.do(t, request{method: "PUT", path: s + "/agents/default", body: `{"state":{"n":2}}`})
	require.Equal(t, 200, status, "%v", body)
	assert.EqualValues(t, 2, body["state"].(map[string]any)["n"])
	assert.Equal(t, "m1", body["config"].(map[string]any)["model"], "config kept")

	status, _, _ = f.do(t, request{method: "DELETE", path: s})
	require.Equal(t, 204, status)
	_, err := f.repo.GetSession(context.Background(), "py-client@example.com")
	require.ErrorIs(t, err, session.ErrNotFound)
}

func TestAPI_ConcurrentAppendsGetDenseIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const s = "/api/sessions/demo-t-billing/agents/support-agent/messages"
	_, before, _ := f.do(t, request{method: "GET", path: s + "?last=0"})
	start := int(before["total"].(float64))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			status, body, _ := f.do(t, request{method: "POST", path: s, body: `{"message":{"role":"user","content":[{"text":"x"}]}}`})
			assert.Equal(t, 201, status, "%v", body)
		})
	}
	wg.Wait()
	n, err := f.repo.CountMessages(context.Background(), "demo-t-billing", "support-agent")
	require.NoError(t, err)
	assert.Equal(t, start+8, n)
}

func TestHealthzAndMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *server.Options) {
		o.Stats = []session.StatsReporter{staticStats{"hook_feedback_sns_sent_total": 3, "pool.in-use": 2}}
	})
	status, body, _ := f.do(t, request{method: "GET", path: "/healthz", noAuth: true})
	require.Equal(t, 200, status)
	assert.Equal(t, "ok", body["status"])
	f.do(t, request{method: "GET", path: "/api/sessions"})
	f.do(t, request{method: "GET", path: "/api/sessions/nope"})

	resp, err := http.Get(f.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(raw)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	for _, want := range []string{
		`sessionkit_http_requests_total{method="GET",route="/api/sessions",code="200"} 1`,
		`sessionkit_http_requests_total{method="GET",route="/api/sessions/{id}",code="404"} 1`,
		`sessionkit_http_request_duration_seconds_bucket{method="GET",route="/api/sessions",le="+Inf"} 1`,
		`sessionkit_http_request_duration_seconds_count{method="GET",route="/api/sessions"} 1`,
		"# TYPE sessionkit_hook_feedback_sns_sent_total counter\nsessionkit_hook_feedback_sns_sent_total 3\n",
		"sessionkit_pool_in_use 2\n",
	} {
		assert.Contains(t, text, want)
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			assert.Regexp(t, `^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? ([-+0-9.eE]+|\+Inf|NaN)$`, line)
		}
	}

	require.NoError(t, f.repo.Close())
	status, _, _ = f.do(t, request{method: "GET", path: "/healthz", noAuth: true})
	assert.Equal(t, 503, status, "a closed backend is unhealthy")
	status, _, _ = f.do(t, request{method: "GET", path: "/api/sessions/demo-t-support"})
	assert.Equal(t, 503, status)
}

type staticStats map[string]float64

func (s staticStats) Stats() map[string]float64 { return s }

// panicky panics in GetSession, standing in for a handler bug.
type panicky struct{ *memory.Repository }

func (panicky) GetSession(context.Context, string) (*session.Session, error) { panic("boom") }

func TestRecoverTurnsPanicInto500(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	repo := panicky{memory.New(memory.Options{})}
	srv, err := server.New(server.Options{Repository: repo, AdminToken: adminToken,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	require.NoError(t, err)
	f := &fixture{srv: srv}
	ts := newHTTPTest(t, srv.Handler())
	f.url = ts
	status, body, _ := f.do(t, request{method: "GET", path: "/api/sessions/x"})
	assert.Equal(t, 500, status)
	assert.Equal(t, "internal", body["error"].(map[string]any)["code"])
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "handler panic")
	assert.Contains(t, logs.String(), "boom")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// slowList blocks ListSessions until released, to hold a request in flight.
type slowList struct {
	*memory.Repository
	entered chan struct{}
	release chan struct{}
}

func (s slowList) ListSessions(ctx context.Context, q session.SessionQuery) (session.SessionPage, error) {
	close(s.entered)
	<-s.release
	return s.Repository.ListSessions(ctx, q)
}

func TestServe_GracefulShutdownDrainsInFlight(t *testing.T) {
	t.Parallel()
	repo := slowList{memory.New(memory.Options{}), make(chan struct{}), make(chan struct{})}
	srv, err := server.New(server.Options{Repository: repo, AdminToken: adminToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l, 5*time.Second) }()

	url := "http://" + l.Addr().String()
	inflight := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", url+"/api/sessions", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- -1
			return
		}
		resp.Body.Close()
		inflight <- resp.StatusCode
	}()
	<-repo.entered
	stop()
	// New connections are refused once shutdown starts.
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", l.Addr().String(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 2*time.Second, 10*time.Millisecond)
	select {
	case <-served:
		t.Fatal("Serve returned before the in-flight request finished")
	default:
	}
	close(repo.release)
	assert.Equal(t, 200, <-inflight, "the in-flight request completes")
	require.NoError(t, <-served)
}

func TestServe_DrainDeadline(t *testing.T) {
	t.Parallel()
	repo := slowList{memory.New(memory.Options{}), make(chan struct{}), make(chan struct{})}
	defer close(repo.release)
	srv, err := server.New(server.Options{Repository: repo, AdminToken: adminToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l, 50*time.Millisecond) }()
	go func() {
		req, _ := http.NewRequest("GET", "http://"+l.Addr().String()+"/api/sessions", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-repo.entered
	stop()
	err = <-served
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

func TestNew_ValidatesOptions(t *testing.T) {
	t.Parallel()
	_, err := server.New(server.Options{AdminToken: adminToken})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	_, err = server.New(server.Options{Repository: memory.New(memory.Options{}), AdminToken: "short"})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
}

func TestViewer_ServesEmbeddedAssetsWithCSP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for path, ctype := range map[string]string{"/": "text/html", "/static/app.js": "text/javascript", "/static/style.css": "text/css"} {
		resp, err := http.Get(f.url + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), ctype, path)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'", path)
		assert.NotContains(t, string(body), "http://", "no CDN: %s", path)
		assert.NotContains(t, string(body), "https://", "no CDN: %s", path)
	}
	resp, err := http.Get(f.url + "/static/missing.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)
}

func TestAPI_WritesRunTheManagerHooks(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	hook := func(ctx context.Context, ev *manager.Event, next manager.Next) error {
		if err := next(ctx, ev); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, string(ev.Kind)+"/"+string(ev.Operation)+"/"+ev.SessionID)
		return nil
	}
	f := newFixture(t, func(o *server.Options) { o.Hooks = []manager.Hook{hook} })
	const s = "/api/sessions/demo-t-travel"
	status, _, _ := f.do(t, request{method: "PATCH", path: s + "/metadata", body: `{"metadata":{"x":1}}`})
	require.Equal(t, 200, status)
	status, _, _ = f.do(t, request{method: "POST", path: s + "/feedback", body: `{"rating":"up"}`})
	require.Equal(t, 201, status)
	status, _, _ = f.do(t, request{method: "PATCH", path: "/api/sessions/missing/metadata", body: `{"metadata":{"x":1}}`})
	require.Equal(t, 404, status)
	_, err := f.repo.GetSession(context.Background(), "missing")
	require.ErrorIs(t, err, session.ErrNotFound, "no phantom session")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"metadata/update/demo-t-travel", "metadata/get/demo-t-travel", "feedback/add/demo-t-travel"}, seen)
}
