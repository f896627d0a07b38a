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
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

// statsDay is the fixed day the stats tests run the demo on.
var statsDay = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// statsServer serves the demo, written on statsDay, with the clock on
// statsDay too, and returns its URL, an API key of demo.AppSupport and the
// viewer password of the demo's support session.
func statsServer(t *testing.T) (string, string, string) {
	t.Helper()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	now := func() time.Time { return statsDay }
	res, err := demo.Run(context.Background(), repo, demo.Options{RunID: "st", Now: now})
	require.NoError(t, err)
	srv, err := server.New(server.Options{Repository: repo, AdminToken: adminToken, Now: now,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		SearchRate: server.Rate{PerSecond: 0.001, Burst: 1000}})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	status, body := statsGet(t, ts.URL, "/api/keys", adminToken, "POST", `{"application_name":"`+demo.AppSupport+`"}`)
	require.Equal(t, 201, status, "%s", body)
	var k struct{ Key string }
	require.NoError(t, json.Unmarshal(body, &k))
	return ts.URL, k.Key, res.ViewerPasswords["demo-st-support"]
}

func statsGet(t *testing.T, base, path, token, method, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if password, ok := strings.CutPrefix(token, "viewer:"); ok {
		req.Header.Set(server.SessionPasswordHeader, password)
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

type statsAnswer struct {
	From, To     string
	Days         []string
	Applications []struct {
		Application            string
		Sessions               []int
		FeedbackUp             []int `json:"feedback_up"`
		FeedbackDown           []int `json:"feedback_down"`
		GuardrailInterventions []int `json:"guardrail_interventions"`
	}
	SessionsScanned int  `json:"sessions_scanned"`
	Truncated       bool `json:"truncated"`
}

// The demo writes, on one day: customer-support-bot 2 sessions, feedback
// 1 up and 1 down, 1 guardrail intervention; travel-planner 1 session,
// 1 up. Every count lands on that day and every other day is zero.
func TestStats_CountsTheDemoPerApplicationAndDay(t *testing.T) {
	t.Parallel()
	base, key, _ := statsServer(t)
	type want struct{ sessions, up, down, guardrail int }
	all := map[string]want{demo.AppSupport: {2, 1, 1, 1}, demo.AppTravel: {1, 1, 0, 0}}
	tests := []struct {
		name, query, token string
		days               int
		wantApps           map[string]want
	}{
		{"admin, default 30 days", "", adminToken, 30, all},
		{"admin, one application", "?application=" + demo.AppTravel, adminToken, 30, map[string]want{demo.AppTravel: all[demo.AppTravel]}},
		{"admin, explicit range", "?from=2026-03-10&to=2026-03-16", adminToken, 7, all},
		{"admin, range before the demo", "?from=2026-03-01&to=2026-03-13", adminToken, 13, map[string]want{}},
		{"api key sees its own application", "", key, 30, map[string]want{demo.AppSupport: all[demo.AppSupport]}},
		{"api key naming its own application", "?application=" + demo.AppSupport, key, 30, map[string]want{demo.AppSupport: all[demo.AppSupport]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, raw := statsGet(t, base, "/api/stats"+tt.query, tt.token, "GET", "")
			require.Equal(t, 200, status, "%s", raw)
			var got statsAnswer
			require.NoError(t, json.Unmarshal(raw, &got))
			require.Len(t, got.Days, tt.days)
			assert.False(t, got.Truncated)
			require.Len(t, got.Applications, len(tt.wantApps))
			scanned := 0
			for _, app := range got.Applications {
				w, ok := tt.wantApps[app.Application]
				require.True(t, ok, "unexpected application %q", app.Application)
				sum := func(xs []int) (n int) {
					require.Len(t, xs, tt.days)
					for _, x := range xs {
						n += x
					}
					return n
				}
				assert.Equal(t, w, want{sum(app.Sessions), sum(app.FeedbackUp), sum(app.FeedbackDown), sum(app.GuardrailInterventions)}, app.Application)
				day := -1
				for i, d := range got.Days {
					if d == "2026-03-14" {
						day = i
					}
				}
				require.GreaterOrEqual(t, day, 0)
				assert.Equal(t, w.sessions, app.Sessions[day], "all on the demo's day")
				scanned += w.sessions
			}
			assert.Equal(t, scanned, got.SessionsScanned)
		})
	}
}

// Bad parameters are a JSON 400 naming the field; an API key asking for
// another application and a session's viewer password are refused.
func TestStats_RefusesBadParametersAndOtherApplications(t *testing.T) {
	t.Parallel()
	base, key, password := statsServer(t)
	tests := []struct {
		name, query, token string
		status             int
		field              string
	}{
		{"from not a date", "?from=yesterday", adminToken, 400, "from"},
		{"to not a date", "?to=2026-13-01", adminToken, 400, "to"},
		{"from after to", "?from=2026-03-15&to=2026-03-14", adminToken, 400, "from"},
		{"range too wide", "?from=2025-01-01&to=2026-03-14", adminToken, 400, "from"},
		{"unknown parameter", "?limit=5", adminToken, 400, "limit"},
		{"repeated parameter", "?from=2026-03-01&from=2026-03-02", adminToken, 400, "from"},
		{"api key, other application", "?application=" + demo.AppTravel, key, 403, ""},
		{"bad token", "", "nope", 401, ""},
		{"viewer password", "", "viewer:" + password, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, raw := statsGet(t, base, "/api/stats"+tt.query, tt.token, "GET", "")
			require.Equal(t, tt.status, status, "%s", raw)
			var e struct {
				Error struct{ Code, Message string }
			}
			require.NoError(t, json.Unmarshal(raw, &e), "%s", raw)
			require.NotEmpty(t, e.Error.Code)
			if tt.field != "" {
				assert.Equal(t, "invalid_argument", e.Error.Code)
				assert.Contains(t, e.Error.Message, tt.field)
			}
		})
	}
}
