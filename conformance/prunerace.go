package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// racingWriter wraps a repository so that a write to the session lands
// right before Prune's delete reaches the store: the interleaving Prune
// must lose to, forced without timing. It hooks both ways Prune deletes
// (DeleteSession, and the role session.IdleDeleter).
type racingWriter struct {
	session.Repository
	write func(ctx context.Context, sessionID string)
}

func (w racingWriter) DeleteSession(ctx context.Context, sessionID string) error {
	w.write(ctx, sessionID)
	return w.Repository.DeleteSession(ctx, sessionID)
}

func (w racingWriter) DeleteSessionIfIdle(ctx context.Context, sessionID string, before time.Time) (bool, error) {
	d, ok := w.Repository.(session.IdleDeleter)
	if !ok {
		return false, errors.ErrUnsupported
	}
	w.write(ctx, sessionID)
	return d.DeleteSessionIfIdle(ctx, sessionID, before)
}

func pruneRaceCases() []testCase {
	return []testCase{
		{"Prune", "WriteLandingBeforeTheDeleteWins", func(t *testing.T, h Harness) {
			ctx, r, clock := clocked(t, h)
			for _, id := range []string{"old-written", "old-idle"} {
				require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id, ApplicationName: "a"}))
			}
			clock.Advance(40 * 24 * time.Hour)
			race := racingWriter{Repository: r, write: func(ctx context.Context, id string) {
				if id == "old-written" {
					require.NoError(t, r.UpdateMetadata(ctx, id, map[string]any{"late": true}))
				}
			}}
			res, err := session.Prune(ctx, race, session.PruneOptions{ApplicationName: "a", OlderThan: 30 * 24 * time.Hour, Now: clock.Now})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Deleted, "%+v", res)
			assert.Equal(t, 1, res.Skipped, "the session written meanwhile no longer matches: %+v", res)
			md, err := r.GetMetadata(ctx, "old-written")
			require.NoError(t, err, "a session written after prune's read is not deleted")
			assert.Equal(t, true, md["late"])
			_, err = r.GetSession(ctx, "old-idle")
			assert.ErrorIs(t, err, session.ErrNotFound)
		}},
		{"Prune", "IdleDeleterContract", func(t *testing.T, h Harness) {
			ctx, r, clock := clocked(t, h)
			d, ok := r.(session.IdleDeleter)
			if !ok {
				t.Skipf("%T does not implement session.IdleDeleter", r)
			}
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid}))
			clock.Advance(time.Hour)
			if _, err := d.DeleteSessionIfIdle(ctx, "conformance-probe-missing", clock.Now()); errors.Is(err, errors.ErrUnsupported) {
				t.Skipf("the repository cannot delete conditionally: %v", err)
			}
			_, err := d.DeleteSessionIfIdle(ctx, sid, time.Time{})
			requireField(t, err, "before")
			deleted, err := d.DeleteSessionIfIdle(ctx, sid, clock.Now().Add(-2*time.Hour))
			require.NoError(t, err)
			assert.False(t, deleted, "written after the instant: kept")
			_, err = r.GetSession(ctx, sid)
			require.NoError(t, err)
			deleted, err = d.DeleteSessionIfIdle(ctx, sid, clock.Now())
			require.NoError(t, err)
			assert.True(t, deleted)
			_, err = r.GetSession(ctx, sid)
			require.ErrorIs(t, err, session.ErrNotFound)
			_, err = d.DeleteSessionIfIdle(ctx, sid, clock.Now())
			assert.ErrorIs(t, err, session.ErrNotFound, "a missing session")
		}},
	}
}
