package rediscache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// milliRepo is the memory backend reporting millisecond times, as MongoDB
// does, while it keeps whatever AppendPrepared gives it: the cache must cut
// the times before the backend sees them.
type milliRepo struct{ *memory.Repository }

func (milliRepo) TimePrecision() time.Duration { return time.Millisecond }

// AppendPrepared through the cache stores the message once validated, and
// what the cache carries (its tail, read back through it) is what the
// backend keeps, times included, at the backend's precision or not; over a
// repository without the fast path it is AppendMessage.
func TestAppendPrepared_CarriesWhatTheBackendKeeps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		inner func(*memory.Repository) session.Repository
	}{
		{"backend at microseconds", func(r *memory.Repository) session.Repository { return r }},
		{"backend at milliseconds", func(r *memory.Repository) session.Repository { return milliRepo{r} }},
		{"backend without the fast path", func(r *memory.Repository) session.Repository { return plainRepo{r} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{})
			ctx := ctxT(t)
			backend := memory.New(memory.Options{})
			c, err := New(tc.inner(backend), f.client, Options{RedisTimeout: 2 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			mustCreateSession(t, c, "s1", nil)
			require.NoError(t, c.CreateAgent(ctx, "s1", &session.Agent{ID: "a1"}))
			// Warm the tail, so the append carries into it.
			_, err = c.ListMessages(ctx, "s1", "a1", 0, 0)
			require.NoError(t, err)

			now := time.Date(2026, 11, 26, 18, 0, 0, 123456000, time.UTC) // sub-millisecond part
			for i := range 3 {
				p, err := driver.NewPreparedMessage(userMessage("hi"), now.Add(time.Duration(i)*time.Microsecond))
				require.NoError(t, err)
				id, err := c.AppendPrepared(ctx, "s1", "a1", p)
				require.NoError(t, err)
				assert.Equal(t, i, id)
				assert.Equal(t, now.Add(time.Duration(i)*time.Microsecond), p.Message().CreatedAt, "the prepared message is unchanged")
			}
			stored, err := backend.ListMessages(ctx, "s1", "a1", 0, 0)
			require.NoError(t, err)
			cached, err := c.ListMessages(ctx, "s1", "a1", 0, 0)
			require.NoError(t, err)
			require.Len(t, cached, 3)
			assert.Equal(t, stored, cached)
			prec := c.TimePrecision()
			for _, m := range stored {
				assert.Equal(t, m.CreatedAt.Truncate(prec), m.CreatedAt, "the backend got times at its precision")
			}

			_, err = c.AppendPrepared(ctx, "s1", "nope", mustPrepare(t))
			assert.ErrorIs(t, err, session.ErrNotFound)
			_, err = c.AppendPrepared(ctx, "s1", "a1", nil)
			assert.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func mustPrepare(t *testing.T) *driver.PreparedMessage {
	t.Helper()
	p, err := driver.NewPreparedMessage(userMessage("x"), time.Now())
	require.NoError(t, err)
	return p
}
