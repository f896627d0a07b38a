package rediscache

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

// A message written through the cache keeps the times the wrapped backend
// would keep: microseconds over memory (and SQLite), which report it
// (session.TimePrecisionReporter); milliseconds, the coarsest any backend
// keeps, over a repository that does not say. Reads through the cache (the
// carried tail) and from the backend agree either way.
func TestWriteThrough_KeepsTheBackendsTimePrecision(t *testing.T) {
	t.Parallel()
	written := time.Date(2026, 5, 15, 10, 46, 33, 123456789, time.UTC)
	for _, tc := range []struct {
		name  string
		inner func() session.Repository
		want  time.Time
	}{
		{"memory keeps microseconds", func() session.Repository { return memory.New(memory.Options{}) }, written.Truncate(time.Microsecond)},
		{"unknown precision keeps milliseconds", func() session.Repository {
			return sharedRepo{memory.New(memory.Options{})}
		}, written.Truncate(time.Millisecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mr := miniredis.RunT(t)
			client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			inner := tc.inner()
			c, err := New(inner, client, Options{CloseClient: true, RedisTimeout: 2 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close(); _ = inner.Close() })
			ctx := ctxT(t)
			mustCreateSession(t, c, "s", nil)
			require.NoError(t, c.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
			_, err = c.ListMessages(ctx, "s", "a", 0, 0) // cache the tail, so the write carries it
			require.NoError(t, err)
			m := userMessage("hello")
			m.CreatedAt, m.UpdatedAt = written, written
			require.NoError(t, c.CreateMessage(ctx, "s", "a", m))
			m2 := userMessage("again")
			m2.CreatedAt, m2.UpdatedAt = written, written
			_, err = c.AppendMessage(ctx, "s", "a", m2)
			require.NoError(t, err)
			viaCache, err := c.ListMessages(ctx, "s", "a", 0, 0)
			require.NoError(t, err)
			fromBackend, err := inner.ListMessages(ctx, "s", "a", 0, 0)
			require.NoError(t, err)
			require.Len(t, viaCache, 2)
			for i := range viaCache {
				assert.Equal(t, tc.want, viaCache[i].CreatedAt, "message %d through the cache", i)
				assert.Equal(t, tc.want, fromBackend[i].CreatedAt, "message %d in the backend", i)
			}
		})
	}
}
