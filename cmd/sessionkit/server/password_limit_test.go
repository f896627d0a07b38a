package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// sessionRoutes returns every documented route under /api/sessions/{id}
// (openapi.json lists every route; internal/openapitest holds it to the
// server's), as method and path pattern. Each of them accepts a viewer
// password: reads serve it, writes refuse it as read-only, and a wrong one
// is a failed authentication everywhere.
func sessionRoutes(t *testing.T) [][2]string {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	var out [][2]string
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/api/sessions/{id}") {
			continue
		}
		for method := range ops {
			if slices.Contains([]string{"get", "post", "put", "patch", "delete"}, method) {
				out = append(out, [2]string{strings.ToUpper(method), path})
			}
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
	require.NotEmpty(t, out)
	return out
}

// Wrong viewer passwords are rate-limited on every route that accepts one:
// each route guesses at its own session, gets plain 401s until the
// session's failure budget is spent, then 429, and the right password is
// still let through (a read is served or not found, a write refused as
// read-only; never 401 or 429).
func TestLimiter_WrongViewerPasswordOnEveryRoute(t *testing.T) {
	t.Parallel()
	const perTarget = 2
	f := newFixture(t, func(o *server.Options) {
		o.TargetRate = server.Rate{PerSecond: 0.001, Burst: perTarget}
		o.FailedAuthDelay = -1
	})
	ctx := context.Background()
	for i, rt := range sessionRoutes(t) {
		method, pattern := rt[0], rt[1]
		t.Run(method+" "+pattern, func(t *testing.T) {
			t.Parallel()
			id := fmt.Sprintf("pw-limit-%d", i)
			password := driver.NewViewerPassword()
			require.NoError(t, f.repo.CreateSession(ctx, &session.Session{ID: id, ViewerPasswordHash: driver.HashViewerPassword(password)}))
			path := strings.NewReplacer("{id}", id, "{agent}", "a", "{message}", "0", "{multi}", "m").Replace(pattern)
			guess := func(pw string) int {
				status, body, _ := f.do(t, request{method: method, path: path, body: "{}", noAuth: true,
					header: map[string]string{server.SessionPasswordHeader: pw}})
				if status == 401 || status == 429 {
					require.NotNil(t, body["error"], "a JSON error body")
				}
				return status
			}
			for g := range perTarget {
				assert.Equal(t, 401, guess(fmt.Sprintf("wrong-%d", g)), "guess %d within the budget", g)
			}
			assert.Equal(t, 429, guess("wrong-last"), "a guess past the session's budget")
			right := guess(password)
			assert.NotContains(t, []int{401, 429}, right, "the right password after the budget is spent")
			if method == "GET" {
				assert.Contains(t, []int{200, 404}, right)
			} else {
				assert.Equal(t, 403, right, "a viewer password only reads")
			}
		})
	}
}

// POST /api/login checks viewer passwords under the same budgets: guesses
// there and on a route share one session's budget, and the per-client
// budget counts password guesses at any session.
func TestLimiter_WrongViewerPasswordAtLogin(t *testing.T) {
	t.Parallel()
	login := func(f *fixture, id, pw string) int {
		status, _, _ := f.do(t, request{method: "POST", path: "/api/login", noAuth: true,
			body: fmt.Sprintf(`{"session_id":%q,"password":%q}`, id, pw)})
		return status
	}
	t.Run("PerSession", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *server.Options) {
			o.TargetRate = server.Rate{PerSecond: 0.001, Burst: 3}
			o.FailedAuthDelay = -1
		})
		const id = "demo-t-support"
		assert.Equal(t, 401, login(f, id, "wrong-0"))
		assert.Equal(t, 401, login(f, id, "wrong-1"))
		status, _, _ := f.do(t, request{method: "GET", path: "/api/sessions/" + id, noAuth: true,
			header: map[string]string{server.SessionPasswordHeader: "wrong-2"}})
		assert.Equal(t, 401, status, "the third guess, on a route")
		assert.Equal(t, 429, login(f, id, "wrong-3"), "the budget is shared with the routes")
		assert.Equal(t, 401, login(f, "demo-t-billing", "wrong"), "another session's budget is its own")
		assert.Equal(t, 200, login(f, id, f.passwords[id]), "the right password is never refused")
	})
	t.Run("PerClient", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(o *server.Options) {
			o.LoginRate = server.Rate{PerSecond: 0.001, Burst: 3}
			o.FailedAuthDelay = -1
		})
		for i := range 3 {
			assert.Equal(t, 401, login(f, fmt.Sprintf("guess-%d", i), "wrong"), "guess %d", i)
		}
		assert.Equal(t, 429, login(f, "guess-3", "wrong"), "one client's guesses across sessions")
		assert.Equal(t, 200, login(f, "demo-t-support", f.passwords["demo-t-support"]))
	})
}
