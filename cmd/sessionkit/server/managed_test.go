package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// watchedRepo is a memory repository that counts the server's GetSession
// calls and CreateSession calls, and can run a function once right after a
// GetSession of one session returned (to interleave another client there)
// and once right after the server created a session.
type watchedRepo struct {
	*memory.Repository

	mu          sync.Mutex
	gets        int
	creates     int
	afterGet    func() // run once, after the first successful GetSession
	afterCreate func() // run once, after the first successful CreateSession
}

func (w *watchedRepo) GetSession(ctx context.Context, id string) (*session.Session, error) {
	s, err := w.Repository.GetSession(ctx, id)
	w.mu.Lock()
	w.gets++
	hook := w.afterGet
	if err == nil {
		w.afterGet = nil
	}
	w.mu.Unlock()
	if err == nil && hook != nil {
		hook()
	}
	return s, err
}

func (w *watchedRepo) CreateSession(ctx context.Context, s *session.Session) error {
	err := w.Repository.CreateSession(ctx, s)
	w.mu.Lock()
	w.creates++
	hook := w.afterCreate
	if err == nil {
		w.afterCreate = nil
	}
	w.mu.Unlock()
	if err == nil && hook != nil {
		hook()
	}
	return err
}

func (w *watchedRepo) counts() (gets, creates int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gets, w.creates
}

func newWatchedServer(t *testing.T) (*watchedRepo, *fixture) {
	t.Helper()
	w := &watchedRepo{Repository: memory.New(memory.Options{})}
	t.Cleanup(func() { _ = w.Repository.Close() })
	srv, err := server.New(server.Options{
		Repository: w,
		AdminToken: adminToken,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		LoginRate:  server.Rate{PerSecond: 0.001, Burst: 1000},
		TargetRate: server.Rate{PerSecond: 0.001, Burst: 1000},
		SearchRate: server.Rate{PerSecond: 0.001, Burst: 1000},
	})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return w, &fixture{url: ts.URL, srv: srv}
}

// managedWrites are the API writes that go through a session manager (so
// that hooks see them), with the body each needs.
var managedWrites = []struct{ method, path, body string }{
	{"PATCH", "/metadata", `{"metadata":{"api":"wrote"}}`},
	{"DELETE", "/metadata?key=api", ""},
	{"POST", "/feedback", `{"rating":"up"}`},
}

// A session deleted between the API's check and its write is not
// recreated by the write, and so never deleted again: when another client
// creates and writes the session meanwhile, its writes stay. (The server
// used to check, let manager.New create the vanished session, and then
// delete that session — by then the other client's.)
func TestAPI_WriteToVanishedSessionLosesNoOtherWrite(t *testing.T) {
	t.Parallel()
	for _, wr := range managedWrites {
		t.Run(wr.method+" "+wr.path, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w, f := newWatchedServer(t)
			const id = "raced"
			require.NoError(t, w.Repository.CreateSession(ctx, &session.Session{ID: id}))
			var otherWrote bool
			other := func() { // another client opens (creating) the session and writes
				m, err := manager.New(ctx, w.Repository, id, manager.Options{})
				require.NoError(t, err)
				require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"other": "kept"}))
				otherWrote = true
			}
			w.mu.Lock()
			w.afterGet = func() { require.NoError(t, w.Repository.DeleteSession(ctx, id)) }
			w.afterCreate = other
			w.mu.Unlock()
			_, createsBefore := w.counts()

			status, body, _ := f.do(t, request{method: wr.method, path: "/api/sessions/" + id + wr.path, body: wr.body})
			assert.Equal(t, 404, status, "the session vanished before the write: %v", body)
			_, creates := w.counts()
			assert.Equal(t, createsBefore, creates, "an API write created a session")
			if !otherWrote {
				other()
			}
			md, err := w.Repository.GetMetadata(ctx, id)
			require.NoError(t, err, "the other client's session survives")
			assert.Equal(t, "kept", md["other"], "the other client's write survives")
		})
	}
}

// A scoped write reads the session once: for authorization (an API key's
// application) and for the write together; with the admin token, once for
// the write.
func TestAPI_ManagedWriteReadsSessionOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, f := newWatchedServer(t)
	key, k, err := driver.NewAPIKey("app", "test", time.Now())
	require.NoError(t, err)
	require.NoError(t, w.CreateAPIKey(ctx, k))
	require.NoError(t, w.Repository.CreateSession(ctx, &session.Session{ID: "s1", ApplicationName: "app"}))
	for _, cred := range []struct{ name, token string }{{"admin", adminToken}, {"api key", key}} {
		for _, wr := range managedWrites {
			before, _ := w.counts()
			status, body, _ := f.do(t, request{method: wr.method, path: "/api/sessions/s1" + wr.path, body: wr.body,
				noAuth: true, header: map[string]string{"Authorization": "Bearer " + cred.token}})
			require.Less(t, status, 300, "%s %s %s: %v", cred.name, wr.method, wr.path, body)
			after, _ := w.counts()
			assert.Equal(t, 1, after-before, "%s %s %s: GetSession calls", cred.name, wr.method, wr.path)
		}
	}
}

// An API write to a session that does not exist is 404 and creates
// nothing (manager.New would create it).
func TestAPI_ManagedWriteToMissingSessionCreatesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, f := newWatchedServer(t)
	for _, wr := range managedWrites {
		status, body, _ := f.do(t, request{method: wr.method, path: "/api/sessions/missing" + wr.path, body: wr.body})
		assert.Equal(t, 404, status, "%s %s: %v", wr.method, wr.path, body)
		_, err := w.Repository.GetSession(ctx, "missing")
		require.ErrorIs(t, err, session.ErrNotFound, "%s %s created the session", wr.method, wr.path)
	}
	_, creates := w.counts()
	assert.Equal(t, 0, creates)
}
