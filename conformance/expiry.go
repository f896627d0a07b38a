package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// Clock is a clock the expiry cases control: Now stays put until Advance.
// It is safe for concurrent use (a backend's sweeper may read it).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// expiring returns a repository on a clock the case controls, and its
// ExpiryStore, or skips the case.
func expiring(t *testing.T, h Harness) (context.Context, session.Repository, session.ExpiryStore, *Clock) {
	t.Helper()
	if h.NewRepositoryAt == nil {
		t.Skip("the harness has no NewRepositoryAt: the expiry cases need a clock they control")
	}
	// Whole milliseconds, so that MongoDB's precision loses nothing.
	clock := NewClock(time.Now().UTC().Truncate(time.Millisecond))
	r := h.NewRepositoryAt(t, clock.Now)
	require.NotNil(t, r, "Harness.NewRepositoryAt returned nil")
	e, err := session.ExpiryOf(r)
	if err != nil {
		t.Skipf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	if err := e.SetSessionExpiry(ctx, "conformance-probe-missing", time.Time{}); errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the repository does not expire sessions: %v", err)
	}
	return ctx, r, e, clock
}

// fill stores one of everything a session can own under sessionID:
// an agent with two messages, metadata, feedback, a guardrail event, and
// a multi-agent record and a snapshot where the repository has them.
func fill(t *testing.T, ctx context.Context, r session.Repository, sessionID string, expiresAt time.Time) {
	t.Helper()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sessionID, ApplicationName: "retention-app",
		Metadata: map[string]any{"k": "v"}, ExpiresAt: expiresAt}))
	createAgent(t, ctx, r, sessionID, aid)
	appendN(t, ctx, r, sessionID, aid, 2)
	_, err := r.AddFeedback(ctx, sessionID, &session.Feedback{Rating: session.RatingUp, Comment: "ok"})
	require.NoError(t, err)
	require.NoError(t, r.RecordGuardrailEvent(ctx, sessionID, aid, 1, &session.GuardrailEvent{Action: "BLOCKED"}))
	if m, ok := r.(session.MultiAgentStore); ok {
		err := m.CreateMultiAgent(ctx, sessionID, &session.MultiAgent{ID: mid, State: map[string]any{"status": "running"}})
		if !errors.Is(err, errors.ErrUnsupported) {
			require.NoError(t, err)
		}
	}
	if s, ok := r.(session.SnapshotStore); ok {
		if _, err := s.PutSnapshot(ctx, sessionID, latestKey, []byte("snapshot")); !errors.Is(err, errors.ErrUnsupported) {
			require.NoError(t, err)
		}
	}
}

// everyRead calls every read under sessionID and returns the errors by
// method name.
func everyRead(ctx context.Context, r session.Repository, sessionID string) map[string]error {
	out := map[string]error{}
	_, out["GetSession"] = r.GetSession(ctx, sessionID)
	_, out["GetAgent"] = r.GetAgent(ctx, sessionID, aid)
	_, out["ListAgents"] = r.ListAgents(ctx, sessionID)
	_, out["GetMessage"] = r.GetMessage(ctx, sessionID, aid, 0)
	_, out["ListMessages"] = r.ListMessages(ctx, sessionID, aid, 0, 0)
	_, out["CountMessages"] = r.CountMessages(ctx, sessionID, aid)
	_, out["GetMetadata"] = r.GetMetadata(ctx, sessionID)
	_, out["ListFeedback"] = r.ListFeedback(ctx, sessionID)
	_, out["ListGuardrailEvents"] = r.ListGuardrailEvents(ctx, sessionID)
	if m, ok := r.(session.MultiAgentStore); ok {
		if _, err := m.GetMultiAgent(ctx, sessionID, mid); !errors.Is(err, errors.ErrUnsupported) {
			out["GetMultiAgent"] = err
			_, out["ListMultiAgents"] = m.ListMultiAgents(ctx, sessionID)
		}
	}
	if s, ok := r.(session.SnapshotStore); ok {
		if _, err := s.GetSnapshot(ctx, sessionID, latestKey); !errors.Is(err, errors.ErrUnsupported) {
			out["GetSnapshot"] = err
		}
	}
	return out
}

// everyWrite calls a write of each kind under sessionID.
func everyWrite(ctx context.Context, r session.Repository, sessionID string) map[string]error {
	out := map[string]error{}
	out["CreateAgent"] = r.CreateAgent(ctx, sessionID, &session.Agent{ID: "another"})
	out["UpdateAgent"] = r.UpdateAgent(ctx, sessionID, &session.Agent{ID: aid})
	out["CreateMessage"] = r.CreateMessage(ctx, sessionID, aid, msg(2, "late"))
	out["UpdateMetadata"] = r.UpdateMetadata(ctx, sessionID, map[string]any{"late": true})
	_, out["AddFeedback"] = r.AddFeedback(ctx, sessionID, &session.Feedback{Comment: "late"})
	return out
}

// listed reports whether ListSessions (all sessions) returns id.
func listed(t *testing.T, ctx context.Context, r session.Repository, id string) bool {
	t.Helper()
	q := session.SessionQuery{Limit: session.MaxPageSize}
	for {
		page, err := r.ListSessions(ctx, q)
		require.NoError(t, err)
		for _, s := range page.Sessions {
			if s.ID == id {
				return true
			}
		}
		if page.NextCursor == "" {
			return false
		}
		q.Cursor = page.NextCursor
	}
}

func expiryCases() []testCase {
	return []testCase{
		{"Expiry", "ExpiredSessionAndEverythingUnderItReadsAsNotFound", func(t *testing.T, h Harness) {
			ctx, r, _, clock := expiring(t, h)
			fill(t, ctx, r, sid, clock.Now().Add(time.Hour))
			for name, err := range everyRead(ctx, r, sid) {
				require.NoError(t, err, "%s before the expiry", name)
			}
			got, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.True(t, got.ExpiresAt.Equal(clock.Now().Add(time.Hour)), "ExpiresAt round-trips: %v", got.ExpiresAt)
			assert.True(t, listed(t, ctx, r, sid))

			clock.Advance(time.Hour) // the expiry instant itself counts as expired
			for name, err := range everyRead(ctx, r, sid) {
				assert.ErrorIs(t, err, session.ErrNotFound, "%s after the expiry", name)
			}
			for name, err := range everyWrite(ctx, r, sid) {
				assert.ErrorIs(t, err, session.ErrNotFound, "%s after the expiry", name)
			}
			assert.False(t, listed(t, ctx, r, sid), "ListSessions leaves an expired session out")
		}},
		{"Expiry", "SetLaterAndClear", func(t *testing.T, h Harness) {
			ctx, r, e, clock := expiring(t, h)
			createSession(t, ctx, r, sid)
			createSession(t, ctx, r, "other")
			at := clock.Now().Add(10 * time.Minute)
			require.NoError(t, e.SetSessionExpiry(ctx, sid, at))
			require.NoError(t, e.SetSessionExpiry(ctx, sid, at), "idempotent")
			require.NoError(t, e.SetSessionExpiry(ctx, "other", at))
			require.NoError(t, e.SetSessionExpiry(ctx, "other", time.Time{}), "zero clears the expiry")
			got, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.True(t, got.ExpiresAt.Equal(at), "ExpiresAt: %v, want %v", got.ExpiresAt, at)

			clock.Advance(11 * time.Minute)
			_, err = r.GetSession(ctx, sid)
			assert.ErrorIs(t, err, session.ErrNotFound)
			assert.ErrorIs(t, e.SetSessionExpiry(ctx, sid, time.Time{}), session.ErrNotFound, "an expired session cannot be revived")
			other, err := r.GetSession(ctx, "other")
			require.NoError(t, err, "a cleared expiry never expires")
			assert.True(t, other.ExpiresAt.IsZero())
		}},
		{"Expiry", "PastExpiryIsInvalidAndWritesNothing", func(t *testing.T, h Harness) {
			ctx, r, e, clock := expiring(t, h)
			for _, at := range []time.Time{clock.Now(), clock.Now().Add(-time.Second)} {
				err := r.CreateSession(ctx, &session.Session{ID: sid, ExpiresAt: at})
				requireField(t, err, "expires_at")
				_, err = r.GetSession(ctx, sid)
				assert.ErrorIs(t, err, session.ErrNotFound, "nothing written")
			}
			createSession(t, ctx, r, sid)
			before, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			requireField(t, e.SetSessionExpiry(ctx, sid, clock.Now().Add(-time.Minute)), "expires_at")
			after, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.True(t, after.ExpiresAt.IsZero(), "nothing written")
			assert.Equal(t, before.UpdatedAt, after.UpdatedAt, "nothing written")
			assert.ErrorIs(t, e.SetSessionExpiry(ctx, "missing", clock.Now().Add(time.Hour)), session.ErrNotFound)
			_, err = e.SweepExpired(ctx, 0)
			requireField(t, err, "limit")
		}},
		{"Expiry", "SweepRemovesOnlyExpiredSessionsInBatches", func(t *testing.T, h Harness) {
			ctx, r, e, clock := expiring(t, h)
			for i := range 5 {
				fill(t, ctx, r, fmt.Sprintf("expiring-%d", i), clock.Now().Add(time.Minute))
			}
			fill(t, ctx, r, "later", clock.Now().Add(time.Hour))
			fill(t, ctx, r, "never", time.Time{})
			n, err := e.SweepExpired(ctx, 10)
			require.NoError(t, err)
			assert.Zero(t, n, "nothing has expired yet")

			clock.Advance(2 * time.Minute)
			n, err = e.SweepExpired(ctx, 2)
			require.NoError(t, err)
			assert.Equal(t, 2, n, "a batch is bounded by its limit")
			n, err = e.SweepExpired(ctx, 10)
			require.NoError(t, err)
			assert.Equal(t, 3, n, "the rest")
			n, err = e.SweepExpired(ctx, 10)
			require.NoError(t, err)
			assert.Zero(t, n)
			for _, id := range []string{"later", "never"} {
				for name, err := range everyRead(ctx, r, id) {
					require.NoError(t, err, "%s of %q: the sweep never touches a session that has not expired", name, id)
				}
			}
			// What the sweep removed is gone for good: the id starts empty.
			requireEmptyRecreate(t, ctx, r, "expiring-0")
		}},
		{"Expiry", "ExpiredIDCanBeReusedAndStartsEmpty", func(t *testing.T, h Harness) {
			ctx, r, _, clock := expiring(t, h)
			fill(t, ctx, r, sid, clock.Now().Add(time.Minute))
			clock.Advance(time.Minute)
			requireEmptyRecreate(t, ctx, r, sid)
		}},
		{"Delete", "RemovesEverythingTheSessionOwns", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			fill(t, ctx, r, sid, time.Time{})
			require.NoError(t, r.DeleteSession(ctx, sid))
			for name, err := range everyRead(ctx, r, sid) {
				assert.ErrorIs(t, err, session.ErrNotFound, "%s after DeleteSession", name)
			}
			requireEmptyRecreate(t, ctx, r, sid)
		}},
	}
}

// requireEmptyRecreate creates id again and checks that nothing of a
// previous session under that id survived.
func requireEmptyRecreate(t *testing.T, ctx context.Context, r session.Repository, id string) {
	t.Helper()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id}), "the id is free")
	md, err := r.GetMetadata(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, md, "metadata")
	agents, err := r.ListAgents(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, agents, "agents")
	fb, err := r.ListFeedback(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, fb, "feedback")
	evs, err := r.ListGuardrailEvents(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, evs, "guardrail events")
	if m, ok := r.(session.MultiAgentStore); ok {
		if list, err := m.ListMultiAgents(ctx, id); !errors.Is(err, errors.ErrUnsupported) {
			require.NoError(t, err)
			assert.Empty(t, list, "multi-agent state")
		}
	}
	if s, ok := r.(session.SnapshotStore); ok {
		if _, err := s.GetSnapshot(ctx, id, latestKey); !errors.Is(err, errors.ErrUnsupported) {
			assert.ErrorIs(t, err, session.ErrNotFound, "snapshots")
		}
	}
}

// requireField checks that err is ErrInvalidArgument naming field.
func requireField(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	var fe *session.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, field, fe.Field)
}

func pruneCases() []testCase {
	return []testCase{
		{"Prune", "DeletesOnlyMatchingSessionsAndIsRerunnable", func(t *testing.T, h Harness) {
			ctx, r, clock := clocked(t, h)
			mk := func(id, app string) {
				require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id, ApplicationName: app}))
			}
			for i := range 7 {
				mk(fmt.Sprintf("old-a-%d", i), "a")
			}
			mk("old-b", "b")
			clock.Advance(40 * 24 * time.Hour)
			mk("new-a", "a")
			// Created long ago but written to recently: not older than the cutoff.
			require.NoError(t, r.UpdateMetadata(ctx, "old-a-6", map[string]any{"touched": true}))
			opts := session.PruneOptions{ApplicationName: "a", OlderThan: 30 * 24 * time.Hour, Batch: 2, Now: clock.Now}

			dry := opts
			dry.DryRun = true
			res, err := session.Prune(ctx, r, dry)
			require.NoError(t, err)
			assert.Equal(t, 6, res.Matched)
			assert.Zero(t, res.Deleted)
			assert.True(t, listed(t, ctx, r, "old-a-0"), "a dry run deletes nothing")

			var progress []session.PruneProgress
			limited := opts
			limited.Limit = 4
			limited.Progress = func(p session.PruneProgress) { progress = append(progress, p) }
			res, err = session.Prune(ctx, r, limited)
			require.NoError(t, err)
			assert.Equal(t, 4, res.Deleted)
			assert.True(t, res.More, "stopped by its limit")
			assert.NotEmpty(t, progress)

			res, err = session.Prune(ctx, r, opts) // a rerun finishes the job
			require.NoError(t, err)
			assert.Equal(t, 2, res.Deleted)
			assert.False(t, res.More)
			res, err = session.Prune(ctx, r, opts)
			require.NoError(t, err)
			assert.Zero(t, res.Deleted, "nothing left")

			for _, id := range []string{"old-b", "new-a", "old-a-6"} {
				_, err := r.GetSession(ctx, id)
				assert.NoError(t, err, "%s does not match and is untouched", id)
			}
			for i := range 6 {
				_, err := r.GetSession(ctx, fmt.Sprintf("old-a-%d", i))
				assert.ErrorIs(t, err, session.ErrNotFound)
			}
		}},
		{"Prune", "BroadFiltersNeedAll", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			for field, o := range map[string]session.PruneOptions{
				"all":        {OlderThan: time.Hour},
				"older_than": {ApplicationName: "a"},
				"batch":      {ApplicationName: "a", OlderThan: time.Hour, Batch: -1},
			} {
				_, err := session.Prune(ctx, r, o)
				requireField(t, err, field)
			}
			_, err := session.Prune(ctx, r, session.PruneOptions{ApplicationName: "a", OlderThan: -time.Hour, All: true})
			requireField(t, err, "older_than")
			res, err := session.Prune(ctx, r, session.PruneOptions{All: true, DryRun: true})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Matched, "an explicit all matches every session")
			_, err = r.GetSession(ctx, sid)
			require.NoError(t, err)
		}},
	}
}

// clocked is setup on a clock the case controls when the harness offers
// one, so that sessions can be made old; without one the case skips.
func clocked(t *testing.T, h Harness) (context.Context, session.Repository, *Clock) {
	t.Helper()
	if h.NewRepositoryAt == nil {
		t.Skip("the harness has no NewRepositoryAt: the prune cases age sessions on a clock they control")
	}
	clock := NewClock(time.Now().UTC().Truncate(time.Millisecond))
	r := h.NewRepositoryAt(t, clock.Now)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	return ctx, r, clock
}
