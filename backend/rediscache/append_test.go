package rediscache

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// appenderRepo is a repository whose store appends atomically (under one
// lock: count and create as one step), counting the appends delegated to it.
type appenderRepo struct {
	session.Repository
	mu    sync.Mutex
	calls atomic.Int64
}

func (r *appenderRepo) AppendMessage(ctx context.Context, sid, aid string, m *session.Message) (int, error) {
	r.calls.Add(1)
	if m == nil {
		return 0, r.CreateMessage(ctx, sid, aid, nil)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.CountMessages(ctx, sid, aid)
	if err != nil {
		return 0, err
	}
	cp := *m
	cp.ID = n
	return n, r.CreateMessage(ctx, sid, aid, &cp)
}

// plainRepo hides every optional capability of the repository it embeds.
type plainRepo struct{ session.Repository }

func userMessage(text string) *session.Message {
	return &session.Message{Message: session.ChatMessage{Role: session.RoleUser,
		Content: []session.ContentBlock{session.TextBlock(text)}}}
}

func TestAppendMessage_DelegatesOrEmulatesAndInvalidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		delegated bool
	}{{"inner is a MessageAppender", true}, {"inner lacks it", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{})
			ctx := ctxT(t)
			appender := &appenderRepo{Repository: f.backend}
			var inner session.Repository = plainRepo{f.backend}
			if tc.delegated {
				inner = appender
			}
			c, err := New(inner, f.client, Options{RedisTimeout: 2 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			mustCreateSession(t, c, "s1", nil)
			require.NoError(t, c.CreateAgent(ctx, "s1", &session.Agent{ID: "a1"}))
			// A peer process warms its cache with the empty log.
			n, err := f.cache.CountMessages(ctx, "s1", "a1")
			require.NoError(t, err)
			require.Zero(t, n)

			const writers, each = 8, 5
			ids := make(chan int, writers*each)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						m := userMessage("hi")
						id, err := c.AppendMessage(ctx, "s1", "a1", m)
						if !assert.NoError(t, err, "writer %d append %d", w, i) {
							return
						}
						assert.Zero(t, m.ID, "m is not modified")
						ids <- id
					}
				})
			}
			wg.Wait()
			close(ids)
			seen := map[int]bool{}
			for id := range ids {
				assert.False(t, seen[id], "id %d assigned twice", id)
				seen[id] = true
			}
			assert.Len(t, seen, writers*each)
			n, err = f.cache.CountMessages(ctx, "s1", "a1")
			require.NoError(t, err)
			assert.Equal(t, writers*each, n, "the peer's cached count was invalidated")
			ms, err := f.cache.ListMessages(ctx, "s1", "a1", 0, 0)
			require.NoError(t, err)
			for i, m := range ms {
				assert.Equal(t, i, m.ID)
			}

			_, err = c.AppendMessage(ctx, "s1", "nope", userMessage("x"))
			assert.ErrorIs(t, err, session.ErrNotFound)
			_, err = c.AppendMessage(ctx, "s1", "a1", nil)
			assert.ErrorIs(t, err, session.ErrInvalidArgument)
			if tc.delegated {
				assert.EqualValues(t, writers*each+2, appender.calls.Load(), "every append delegated")
			} else {
				assert.Zero(t, appender.calls.Load())
			}
		})
	}
}

func TestAppendMessage_EmulationGivesUpWithTheContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	mustCreateSession(t, f.cache, "s1", nil)
	require.NoError(t, f.cache.CreateAgent(ctxT(t), "s1", &session.Agent{ID: "a1"}))
	// The deadline passes at the first conflict, whatever the machine's
	// load: a wall-clock deadline could pass before the first attempt.
	ctx := newManualDeadline(ctxT(t))
	c, err := New(plainRepo{alwaysConflict{Repository: f.backend, onConflict: ctx.expire}}, f.client, Options{RedisTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.AppendMessage(ctx, "s1", "a1", userMessage("x"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, session.ErrConflict)
}

// manualDeadline is a context whose deadline passes when expire is called.
type manualDeadline struct {
	context.Context
	once sync.Once
	done chan struct{}
}

func newManualDeadline(parent context.Context) *manualDeadline {
	return &manualDeadline{Context: parent, done: make(chan struct{})}
}

func (c *manualDeadline) expire() { c.once.Do(func() { close(c.done) }) }

func (c *manualDeadline) Done() <-chan struct{} { return c.done }

func (c *manualDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// alwaysConflict refuses every CreateMessage as if another writer always
// appended first.
// onConflict, when set, is called on each refusal.
type alwaysConflict struct {
	session.Repository
	onConflict func()
}

func (a alwaysConflict) CreateMessage(context.Context, string, string, *session.Message) error {
	if a.onConflict != nil {
		a.onConflict()
	}
	return session.ErrConflict
}
