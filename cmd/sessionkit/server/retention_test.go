package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

// The admin prune route deletes only the old sessions of the application
// named, in bounded requests (more tells the caller to repeat), counts
// in a dry run, and refuses a broad filter or an application key.
func TestAPI_PruneIsAdminOnlyBoundedAndDeletesOnlyMatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	old := time.Now().Add(-40 * 24 * time.Hour)
	for i := range 3 {
		require.NoError(t, f.repo.CreateSession(ctx, &session.Session{ID: fmt.Sprintf("old-%d", i), ApplicationName: "bot", CreatedAt: old}))
	}
	require.NoError(t, f.repo.CreateSession(ctx, &session.Session{ID: "old-other", ApplicationName: "other", CreatedAt: old}))
	require.NoError(t, f.repo.CreateSession(ctx, &session.Session{ID: "new", ApplicationName: "bot"}))

	status, body, _ := f.do(t, request{method: "POST", path: "/api/admin/prune", body: `{"application_name":"bot","older_than":"30d","dry_run":true}`})
	require.Equal(t, 200, status, "%v", body)
	assert.EqualValues(t, 3, body["matched"])
	assert.EqualValues(t, 0, body["deleted"])

	status, body, _ = f.do(t, request{method: "POST", path: "/api/admin/prune", body: `{"application_name":"bot","older_than":"30d","limit":2}`})
	require.Equal(t, 200, status, "%v", body)
	assert.EqualValues(t, 2, body["deleted"])
	assert.Equal(t, true, body["more"])
	status, body, _ = f.do(t, request{method: "POST", path: "/api/admin/prune", body: `{"application_name":"bot","older_than":"30d","limit":2}`})
	require.Equal(t, 200, status, "%v", body)
	assert.EqualValues(t, 1, body["deleted"])
	assert.Equal(t, false, body["more"])
	for _, id := range []string{"old-other", "new", "demo-t-support"} {
		_, err := f.repo.GetSession(ctx, id)
		assert.NoError(t, err, "%s is kept", id)
	}

	for name, tc := range map[string]struct{ body, field string }{
		"every application": {`{"older_than":"30d"}`, "all"},
		"any age":           {`{"application_name":"bot"}`, "older_than"},
		"bad duration":      {`{"application_name":"bot","older_than":"soon"}`, "older_than"},
		"negative age":      {`{"application_name":"bot","older_than":"-1d","all":true}`, "older_than"},
		"huge limit":        {`{"application_name":"bot","older_than":"1d","limit":100000}`, "limit"},
	} {
		status, body, _ := f.do(t, request{method: "POST", path: "/api/admin/prune", body: tc.body})
		assert.Equal(t, 400, status, name)
		assert.Contains(t, fmt.Sprint(body), tc.field, name)
	}

	status, body, _ = f.do(t, request{method: "POST", path: "/api/keys", body: `{"application_name":"bot"}`})
	require.Equal(t, 201, status, "%v", body)
	key := body["key"].(string)
	status, _, _ = f.do(t, request{method: "POST", path: "/api/admin/prune", body: `{"application_name":"bot","older_than":"1d"}`,
		noAuth: true, header: map[string]string{"Authorization": "Bearer " + key}})
	assert.Equal(t, 403, status, "an application key cannot prune")
}

// Sessions created through the API take the application's default
// retention unless they name an expiry; PUT .../expiry sets or clears it,
// and an expiry in the past is a 400 naming expires_at that writes nothing.
func TestAPI_ExpiryAndDefaultRetention(t *testing.T) {
	t.Parallel()
	policy := session.RetentionPolicy{demo.AppSupport: time.Hour}
	f := newFixture(t, func(o *server.Options) { o.Retention = policy })
	ctx := context.Background()

	status, body, _ := f.do(t, request{method: "POST", path: "/api/sessions", body: `{"session_id":"kept","application_name":"` + demo.AppSupport + `"}`})
	require.Equal(t, 201, status, "%v", body)
	got, err := f.repo.GetSession(ctx, "kept")
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), got.ExpiresAt, time.Minute, "the application's retention")
	assert.NotEmpty(t, body["expires_at"])

	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	status, body, _ = f.do(t, request{method: "POST", path: "/api/sessions", body: `{"session_id":"own","application_name":"` + demo.AppSupport + `","expires_at":"` + at.Format(time.RFC3339) + `"}`})
	require.Equal(t, 201, status, "%v", body)
	got, err = f.repo.GetSession(ctx, "own")
	require.NoError(t, err)
	assert.True(t, got.ExpiresAt.Equal(at), "its own expiry wins: %v", got.ExpiresAt)

	status, body, _ = f.do(t, request{method: "POST", path: "/api/sessions", body: `{"session_id":"past","expires_at":"2001-01-01T00:00:00Z"}`})
	assert.Equal(t, 400, status)
	assert.Contains(t, fmt.Sprint(body), "expires_at")
	_, err = f.repo.GetSession(ctx, "past")
	assert.ErrorIs(t, err, session.ErrNotFound, "nothing written")

	status, body, _ = f.do(t, request{method: "PUT", path: "/api/sessions/kept/expiry", body: `{"expires_at":"2001-01-01T00:00:00Z"}`})
	assert.Equal(t, 400, status)
	assert.Contains(t, fmt.Sprint(body), "expires_at")
	status, _, _ = f.do(t, request{method: "PUT", path: "/api/sessions/kept/expiry", body: `{"expires_at":null}`})
	assert.Equal(t, 204, status)
	got, err = f.repo.GetSession(ctx, "kept")
	require.NoError(t, err)
	assert.True(t, got.ExpiresAt.IsZero(), "cleared")
	status, _, _ = f.do(t, request{method: "PUT", path: "/api/sessions/missing/expiry", body: `{"expires_at":null}`})
	assert.Equal(t, 404, status)
}
