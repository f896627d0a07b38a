package server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

const forkPath = "/api/sessions/demo-t-support/fork"

// TestAPI_Fork: a fork of one agent up to a message answers 201 with its
// lineage, which GET returns too, and the source lists it as a fork.
func TestAPI_Fork(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	status, body, _ := f.do(t, request{method: "POST", path: forkPath,
		body: `{"session_id":"retry-1","agent_id":"support-agent","message_id":3,"viewer_password":true}`})
	require.Equal(t, 201, status, "%v", body)
	assert.Equal(t, "retry-1", body["session_id"])
	assert.Equal(t, demo.AppSupport, body["application_name"], "the fork belongs to the source's application")
	lineage, ok := body["forked_from"].(map[string]any)
	require.True(t, ok, "%v", body)
	assert.Equal(t, "demo-t-support", lineage["session_id"])
	assert.Equal(t, "support-agent", lineage["agent_id"])
	assert.EqualValues(t, 3, lineage["message_id"])
	password, _ := body["viewer_password"].(string)
	require.NotEmpty(t, password)

	n, err := f.repo.CountMessages(context.Background(), "retry-1", "support-agent")
	require.NoError(t, err)
	assert.Equal(t, 4, n)

	status, body, _ = f.do(t, request{method: "GET", path: "/api/sessions/retry-1", noAuth: true,
		header: map[string]string{server.SessionPasswordHeader: password}})
	require.Equal(t, 200, status, "the fork's own viewer password reads it: %v", body)
	lineage, _ = body["forked_from"].(map[string]any)
	assert.Equal(t, "demo-t-support", lineage["session_id"])

	status, body, _ = f.do(t, request{method: "POST", path: forkPath, body: `{}`})
	require.Equal(t, 201, status, "%v", body)
	whole, _ := body["session_id"].(string)
	assert.NotEmpty(t, whole, "a fresh id when none is given")
	lineage, _ = body["forked_from"].(map[string]any)
	assert.NotContains(t, lineage, "agent_id", "a whole-session fork names no agent")
	assert.NotContains(t, lineage, "message_id")

	status, body, _ = f.do(t, request{method: "GET", path: "/api/sessions?forked_from=demo-t-support"})
	require.Equal(t, 200, status, "%v", body)
	var ids []string
	for _, s := range body["sessions"].([]any) {
		ids = append(ids, s.(map[string]any)["session_id"].(string))
	}
	assert.ElementsMatch(t, []string{"retry-1", whole}, ids)
}

// TestAPI_ForkBadInput: every bad request is a JSON 4xx naming the field
// and creates no session.
func TestAPI_ForkBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	count := func() int {
		page, err := f.repo.ListSessions(context.Background(), session.SessionQuery{Limit: session.MaxPageSize})
		require.NoError(t, err)
		return len(page.Sessions)
	}
	before := count()
	for _, tc := range []struct {
		name, path, body string
		status           int
		code, mentions   string
	}{
		{"missing source", "/api/sessions/nope/fork", `{"session_id":"x"}`, 404, "not_found", "nope"},
		{"existing target", forkPath, `{"session_id":"demo-t-travel"}`, 409, "already_exists", "demo-t-travel"},
		{"onto itself", forkPath, `{"session_id":"demo-t-support"}`, 400, "invalid_argument", "session_id"},
		{"bad new id", forkPath, `{"session_id":"a/b"}`, 400, "invalid_argument", "session_id"},
		{"missing agent", forkPath, `{"session_id":"x","agent_id":"ghost"}`, 404, "not_found", "ghost"},
		{"bad agent id", forkPath, `{"session_id":"x","agent_id":"a.b"}`, 400, "invalid_argument", "agent_id"},
		{"message past the end", forkPath, `{"session_id":"x","agent_id":"support-agent","message_id":99}`, 404, "not_found", "99"},
		{"negative message", forkPath, `{"session_id":"x","agent_id":"support-agent","message_id":-1}`, 400, "invalid_argument", "message_id"},
		{"message without agent", forkPath, `{"session_id":"x","message_id":0}`, 400, "invalid_argument", "message_id"},
		{"message not a number", forkPath, `{"session_id":"x","agent_id":"support-agent","message_id":"3"}`, 400, "invalid_argument", "message_id"},
		{"unknown field", forkPath, `{"session_id":"x","agent":"support-agent"}`, 400, "invalid_argument", "agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := f.do(t, request{method: "POST", path: tc.path, body: tc.body})
			assert.Equal(t, tc.status, status, "%v", body)
			e, _ := body["error"].(map[string]any)
			assert.Equal(t, tc.code, e["code"], "%v", body)
			assert.Contains(t, e["message"], tc.mentions)
		})
	}
	assert.Equal(t, before, count(), "no session was created")
}

// TestAPI_ForkScopes: an API key forks the sessions of its application
// (and the fork is of that application), not those of another; a viewer
// password forks nothing.
func TestAPI_ForkScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	status, body, _ := f.do(t, request{method: "POST", path: "/api/keys", body: `{"application_name":"` + demo.AppSupport + `"}`})
	require.Equal(t, 201, status, "%v", body)
	key := map[string]string{"Authorization": "Bearer " + body["key"].(string)}

	status, body, _ = f.do(t, request{method: "POST", path: forkPath, body: `{"session_id":"by-key"}`, noAuth: true, header: key})
	require.Equal(t, 201, status, "%v", body)
	s, err := f.repo.GetSession(context.Background(), "by-key")
	require.NoError(t, err)
	assert.Equal(t, demo.AppSupport, s.ApplicationName)
	status, body, _ = f.do(t, request{method: "GET", path: "/api/sessions/by-key", noAuth: true, header: key})
	assert.Equal(t, 200, status, "the key reads the fork it made: %v", body)

	status, body, _ = f.do(t, request{method: "POST", path: "/api/sessions/demo-t-travel/fork", body: `{"session_id":"stolen"}`, noAuth: true, header: key})
	assert.Equal(t, 404, status, "another application's session does not exist for the key: %v", body)
	status, body, _ = f.do(t, request{method: "POST", path: forkPath, body: `{"session_id":"viewer-fork"}`, noAuth: true,
		header: map[string]string{server.SessionPasswordHeader: f.passwords["demo-t-support"]}})
	assert.Equal(t, 403, status, "%v", body)
	for _, id := range []string{"stolen", "viewer-fork"} {
		_, err := f.repo.GetSession(context.Background(), id)
		assert.ErrorIs(t, err, session.ErrNotFound, id)
	}
}

// A viewer-password login opens its one session: it reads that session's
// lineage (the origin's id is part of the session) but cannot list forks,
// which would name other sessions — the viewer shows it no fork list.
func TestAPI_ViewerPasswordCannotListForks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	status, body, _ := f.do(t, request{method: "POST", path: forkPath, body: `{"session_id":"child"}`})
	require.Equal(t, 201, status, "%v", body)
	viewer := map[string]string{server.SessionPasswordHeader: f.passwords["demo-t-support"]}
	for _, path := range []string{"/api/sessions?forked_from=demo-t-support", "/api/sessions?forked_from=demo-t-support&limit=1"} {
		status, body, _ := f.do(t, request{method: "GET", path: path, noAuth: true, header: viewer})
		assert.Contains(t, []int{401, 403}, status, "%s: %v", path, body)
		assert.Nil(t, body["sessions"], "%s: no session listed", path)
	}
}
