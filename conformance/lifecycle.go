package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// everyCall calls each Repository method once on the seeded ids, returning
// the method name and its error.
func everyCall(ctx context.Context, r session.Repository) map[string]error {
	out := map[string]error{}
	out["CreateSession"] = r.CreateSession(ctx, &session.Session{ID: "another"})
	_, out["GetSession"] = r.GetSession(ctx, sid)
	_, out["ListSessions"] = r.ListSessions(ctx, session.SessionQuery{})
	out["CreateAgent"] = r.CreateAgent(ctx, sid, &session.Agent{ID: "another"})
	_, out["GetAgent"] = r.GetAgent(ctx, sid, aid)
	out["UpdateAgent"] = r.UpdateAgent(ctx, sid, &session.Agent{ID: aid})
	out["UpdateAgentConfig"] = r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{Model: ptr("m")})
	_, out["ListAgents"] = r.ListAgents(ctx, sid)
	out["CreateMessage"] = r.CreateMessage(ctx, sid, aid, msg(1, "x"))
	if ap, ok := r.(session.MessageAppender); ok {
		// A decorator over a repository without the capability reports
		// ErrUnsupported whatever the state: not a call to check here.
		if _, err := ap.AppendMessage(ctx, sid, aid, msg(0, "x")); !errors.Is(err, errors.ErrUnsupported) {
			out["AppendMessage"] = err
		}
	}
	_, out["GetMessage"] = r.GetMessage(ctx, sid, aid, 0)
	out["UpdateMessage"] = r.UpdateMessage(ctx, sid, aid, msg(0, "x"))
	_, out["ListMessages"] = r.ListMessages(ctx, sid, aid, 0, 0)
	_, out["CountMessages"] = r.CountMessages(ctx, sid, aid)
	out["UpdateMetadata"] = r.UpdateMetadata(ctx, sid, map[string]any{"k": "v2"})
	_, out["GetMetadata"] = r.GetMetadata(ctx, sid)
	out["DeleteMetadata"] = r.DeleteMetadata(ctx, sid, []string{"k"})
	_, out["AddFeedback"] = r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp})
	_, out["ListFeedback"] = r.ListFeedback(ctx, sid)
	out["RecordGuardrailEvent"] = r.RecordGuardrailEvent(ctx, sid, aid, 0, &session.GuardrailEvent{})
	_, out["ListGuardrailEvents"] = r.ListGuardrailEvents(ctx, sid)
	out["DeleteSession"] = r.DeleteSession(ctx, sid)
	if p, ok := r.(session.Pinger); ok {
		out["Ping"] = p.Ping(ctx)
	}
	return out
}

func lifecycleCases() []testCase {
	return []testCase{
		{"Lifecycle", "ClosedRepositoryReturnsErrClosed", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seedFull(t, ctx, r)
			require.NoError(t, r.Close())
			for name, err := range everyCall(ctx, r) {
				requireIs(t, err, session.ErrClosed, name+" after Close")
			}
			assert.NoError(t, r.Close(), "Close is idempotent")
		}},
		{"Lifecycle", "CancelledContextIsReturned", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seedFull(t, ctx, r)
			before := dumpStore(t, ctx, r)
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			for name, err := range everyCall(cancelled, r) {
				requireIs(t, err, context.Canceled, name+" with a cancelled context")
			}
			assert.Equal(t, before, dumpStore(t, ctx, r), "a call with a cancelled context wrote")
		}},
		{"Lifecycle", "ExpiredDeadlineIsReturned", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seedFull(t, ctx, r)
			expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
			defer cancel()
			for name, err := range everyCall(expired, r) {
				requireIs(t, err, context.DeadlineExceeded, name+" past its deadline")
			}
		}},
		{"Lifecycle", "SizeLimitAllowsNinetyPercentAndRejectsOver", func(t *testing.T, h Harness) {
			limit := h.Capabilities.SizeLimit
			if limit <= 0 {
				t.Skip("the backend declares no size limit (Capabilities.SizeLimit is 0)")
			}
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			big := strings.Repeat("a", limit*9/10)
			require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(0, big)), "a message of 90%% of the limit must fit")
			before := dumpSession(t, ctx, r, sid)
			over := strings.Repeat("b", limit+1)
			requireIs(t, r.CreateMessage(ctx, sid, aid, msg(1, over)), session.ErrTooLarge, "CreateMessage over the limit")
			requireIs(t, r.UpdateMessage(ctx, sid, aid, msg(0, over)), session.ErrTooLarge, "UpdateMessage over the limit")
			after := dumpSession(t, ctx, r, sid)
			assert.Equal(t, before, after, "a rejected write changed the session")
			n, err := r.CountMessages(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			// The session is still usable for small writes.
			require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(1, "small")))
		}},
		{"Lifecycle", "SizeLimitCountsGrowthOverSeveralWrites", func(t *testing.T, h Harness) {
			// Each write alone fits; together they pass the limit. A check
			// of the one write's size alone lets the second through, and
			// the store then fails in its own way (MongoDB's 16 MiB
			// document error) or grows past the budget.
			limit := h.Capabilities.SizeLimit
			if limit <= 0 {
				t.Skip("the backend declares no size limit (Capabilities.SizeLimit is 0)")
			}
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			part := limit * 6 / 10
			require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(0, strings.Repeat("a", part))), "a message of 60%% of the limit must fit")
			before := dumpSession(t, ctx, r, sid)
			requireIs(t, r.CreateMessage(ctx, sid, aid, msg(1, strings.Repeat("b", part))), session.ErrTooLarge, "a second 60%% CreateMessage")
			if ap, ok := r.(session.MessageAppender); ok {
				_, err := ap.AppendMessage(ctx, sid, aid, msg(0, strings.Repeat("c", part)))
				if !errors.Is(err, errors.ErrUnsupported) {
					requireIs(t, err, session.ErrTooLarge, "a second 60%% AppendMessage")
				}
			}
			assert.Equal(t, before, dumpSession(t, ctx, r, sid), "a rejected write changed the session")
			n, err := r.CountMessages(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
		}},
	}
}

func sharedStoreCases() []testCase {
	peer := func(t *testing.T, h Harness, r session.Repository) session.Repository {
		t.Helper()
		if h.NewPeer == nil {
			t.Skip("the harness has no NewPeer: the backend does not share a store between instances")
		}
		p := h.NewPeer(t, r)
		require.NotNil(t, p)
		return p
	}
	return []testCase{
		{"Peer", "WritesThroughOneAreVisibleThroughTheOther", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			p := peer(t, h, r)
			seedFull(t, ctx, r)
			assert.Equal(t, dumpStore(t, ctx, r), dumpStore(t, ctx, p))

			require.NoError(t, p.CreateMessage(ctx, sid, aid, msg(1, "from peer")))
			require.NoError(t, p.UpdateMetadata(ctx, sid, map[string]any{"k": "peer"}))
			require.NoError(t, p.UpdateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"by": "peer"}}))
			m, err := r.GetMessage(ctx, sid, aid, 1)
			require.NoError(t, err)
			assert.Equal(t, "from peer", textOf(t, m))
			requireIs(t, r.CreateMessage(ctx, sid, aid, msg(1, "stale")), session.ErrConflict, "CreateMessage of an id the peer took")
			assert.Equal(t, dumpStore(t, ctx, p), dumpStore(t, ctx, r))

			require.NoError(t, r.UpdateMessage(ctx, sid, aid, msg(1, "edited")))
			m, err = p.GetMessage(ctx, sid, aid, 1)
			require.NoError(t, err)
			assert.Equal(t, "edited", textOf(t, m))

			require.NoError(t, r.DeleteSession(ctx, sid))
			_, err = p.GetSession(ctx, sid)
			requireIs(t, err, session.ErrNotFound, "peer GetSession after delete")
			_, err = p.ListMessages(ctx, sid, aid, 0, 0)
			requireIs(t, err, session.ErrNotFound, "peer ListMessages after delete")
		}},
		{"Peer", "ConcurrentAppendsThroughBothLoseNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			p := peer(t, h, r)
			seed(t, ctx, r)
			concurrentAppends(t, ctx, []session.Repository{r, p}, 8, 3, appendWithRetry)
		}},
		{"Peer", "ConcurrentCreatesThroughBothExactlyOneWins", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			p := peer(t, h, r)
			errs := make(chan error, 2)
			for _, repo := range []session.Repository{r, p} {
				go func() { errs <- repo.CreateSession(ctx, &session.Session{ID: sid}) }()
			}
			e1, e2 := <-errs, <-errs
			if e1 != nil {
				e1, e2 = e2, e1
			}
			require.NoError(t, e1)
			requireIs(t, e2, session.ErrAlreadyExists, "the second CreateSession")
		}},
		{"Reopen", "EverythingSurvives", func(t *testing.T, h Harness) {
			if h.Reopen == nil {
				t.Skip("the harness has no Reopen: the backend does not persist across restarts")
			}
			ctx, r := setup(t, h)
			richSession(t, ctx, r)
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "second", ApplicationName: "app", CreatedAt: base}))
			before := dumpStore(t, ctx, r)
			r2 := h.Reopen(t, r)
			require.NotNil(t, r2)
			assert.Equal(t, before, dumpStore(t, ctx, r2))
			// Writes continue where they left off.
			requireIs(t, r2.CreateMessage(ctx, sid, aid, msg(0, "again")), session.ErrConflict, "CreateMessage 0 after reopen")
			require.NoError(t, r2.CreateMessage(ctx, sid, aid, msg(1, "next")))
		}},
	}
}
