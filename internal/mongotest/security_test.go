package mongotest_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// On the Mongo backend an id, a prefix or a filter value shaped like a
// query operator is data, never part of the query: reading session
// {"$ne":null} does not return another session, a prefix is not a regular
// expression, and an operator-looking filter matches nothing. Bad keys and
// ids are rejected with ErrInvalidArgument and write nothing.
func TestSecurity_NoOperatorInjection(t *testing.T) {
	t.Parallel()
	uri, _ := mongotest.Start(t)
	r, _, _ := newRepo(t, uri, mongo.Options{})
	ctx := ctxT(t)
	for _, id := range []string{"a", "b"} {
		require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id, ApplicationName: "app", Metadata: map[string]any{"status": "open"}}))
		require.NoError(t, r.CreateAgent(ctx, id, &session.Agent{ID: "x"}))
	}

	for _, id := range []string{`{"$ne":null}`, `{"$gt":""}`, `$where`, `.*`, `a|b`} {
		_, err := r.GetSession(ctx, id)
		if !assert.Error(t, err, "reading %q returned a session", id) {
			continue
		}
		assert.True(t, errorsIsAny(err, session.ErrNotFound, session.ErrInvalidArgument), "%q: %v", id, err)
	}
	// An operator-shaped id is stored literally and read back as itself.
	const literal = `{"$gt":""}`
	if err := r.CreateSession(ctx, &session.Session{ID: literal}); err == nil {
		got, err := r.GetSession(ctx, literal)
		require.NoError(t, err)
		assert.Equal(t, literal, got.ID)
		_, err = r.GetAgent(ctx, literal, "x")
		assert.ErrorIs(t, err, session.ErrNotFound, "the literal session has no agent of a or b")
	} else {
		assert.ErrorIs(t, err, session.ErrInvalidArgument)
	}

	for name, q := range map[string]session.SessionQuery{
		"prefix .*":         {IDPrefix: ".*"},
		"prefix ^":          {IDPrefix: "^"},
		"prefix a|b":        {IDPrefix: "z|a"},
		"filter $ne object": {Metadata: map[string]any{"status": map[string]any{"$ne": nil}}},
		"filter $exists":    {Metadata: map[string]any{"status": map[string]any{"$exists": true}}},
		"filter $ne string": {Metadata: map[string]any{"status": `{"$ne":null}`}},
		"app $ne string":    {ApplicationName: `{"$ne":null}`},
	} {
		page, err := r.ListSessions(ctx, q)
		if err != nil {
			assert.ErrorIs(t, err, session.ErrInvalidArgument, name)
			continue
		}
		for _, s := range page.Sessions {
			assert.NotContains(t, []string{"a", "b"}, s.ID, "%s matched session %s", name, s.ID)
		}
	}

	before, err := r.GetMetadata(ctx, "a")
	require.NoError(t, err)
	for _, md := range []map[string]any{
		{"$where": "sleep(1000)"}, {"a.b": 1}, {"": 1}, {"a\x00b": 1}, {"$set": map[string]any{"status": "closed"}},
	} {
		assert.ErrorIs(t, r.UpdateMetadata(ctx, "a", md), session.ErrInvalidArgument, "%v", md)
	}
	assert.ErrorIs(t, r.DeleteMetadata(ctx, "a", []string{"$unset"}), session.ErrInvalidArgument)
	assert.ErrorIs(t, r.CreateAgent(ctx, "a", &session.Agent{ID: "$x"}), session.ErrInvalidArgument)
	assert.ErrorIs(t, r.CreateAgent(ctx, "a", &session.Agent{ID: "x.y"}), session.ErrInvalidArgument)
	after, err := r.GetMetadata(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, before, after, "rejected writes wrote nothing")
	agents, err := r.ListAgents(ctx, "a")
	require.NoError(t, err)
	assert.Len(t, agents, 1)
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// A connection string's password never appears in an error, whether the
// URL is opened directly or through session.Open with a cache.
func TestSecurity_ConnectionStringPasswordRedacted(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-mongo-pw"
	dead := "127.0.0.1:" + strconv.Itoa(testservice.FreePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	uri := "mongodb://user:" + secret + "@" + dead + "/db?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
	_, err := mongo.Open(ctx, uri, mongo.Options{}, mongo.PoolOptions{ServerSelectionTimeout: 300 * time.Millisecond})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	assert.Contains(t, err.Error(), "xxxxx", "the URL is shown redacted")

	_, err = session.Open(ctx, uri+"&cache="+strings.ReplaceAll("redis://:"+secret+"@"+dead+"/0", ":", "%3A"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
}
