package rediscache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

func TestRead_SecondReadIsServedFromRedis(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", map[string]any{"k": "v"})

	first, err := f.cache.GetSession(ctx, "s1")
	require.NoError(t, err)
	second, err := f.cache.GetSession(ctx, "s1")
	require.NoError(t, err)

	assert.Equal(t, first, second)
	assert.EqualValues(t, 1, f.backend.reads.Load(), "second read must not reach the backend")
	assert.Equal(t, 1, stat(f.cache, "cache_hits_total"))
	assert.Equal(t, 1, stat(f.cache, "cache_misses_total"))
	assert.Equal(t, 1, stat(f.cache, "cache_fills_total"))

	// Values returned are the caller's: mutating one never changes the next.
	second.Metadata["k"] = "changed"
	third, err := f.cache.GetSession(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, "v", third.Metadata["k"])
}

func TestRead_ConcurrentMissesReadBackendOnce(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", nil)
	var once sync.Once
	entered := make(chan struct{})
	f.backend.gate = func() { once.Do(func() { close(entered) }); <-release }

	const callers = 8
	var wg sync.WaitGroup
	results := make([]*session.Session, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { results[i], errs[i] = f.cache.GetSession(ctx, "s1") })
	}
	<-entered
	// Let the other callers reach the shared flight before releasing it.
	require.Eventually(t, func() bool { return stat(f.cache, "cache_misses_total") == callers },
		5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, "s1", results[i].ID)
	}
	assert.EqualValues(t, 1, f.backend.reads.Load())
	results[0].Metadata = map[string]any{"x": int64(1)}
	assert.Empty(t, results[1].Metadata, "callers of one flight must not share values")
}

func TestWrite_InvalidatesSoNextReadSeesIt(t *testing.T) {
	t.Parallel()
	// Not ctxT: the parallel subtests may wait for a free slot longer than
	// its 10 s.
	ctx := testservice.WithTimeout(t, time.Minute)
	writes := []struct {
		name  string
		write func(r session.Repository) error
		check func(t *testing.T, r session.Repository)
	}{
		{"UpdateMetadata", func(r session.Repository) error {
			return r.UpdateMetadata(ctx, "s1", map[string]any{"k": "new"})
		}, func(t *testing.T, r session.Repository) {
			md, err := r.GetMetadata(ctx, "s1")
			require.NoError(t, err)
			assert.Equal(t, "new", md["k"])
		}},
		{"DeleteMetadata", func(r session.Repository) error {
			return r.DeleteMetadata(ctx, "s1", []string{"k"})
		}, func(t *testing.T, r session.Repository) {
			md, err := r.GetMetadata(ctx, "s1")
			require.NoError(t, err)
			assert.NotContains(t, md, "k")
		}},
		{"CreateMessage", func(r session.Repository) error {
			return r.CreateMessage(ctx, "s1", "a1", &session.Message{ID: 1, Message: session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock("hi")}}})
		}, func(t *testing.T, r session.Repository) {
			ms, err := r.ListMessages(ctx, "s1", "a1", 0, 0)
			require.NoError(t, err)
			assert.Len(t, ms, 2)
			n, err := r.CountMessages(ctx, "s1", "a1")
			require.NoError(t, err)
			assert.Equal(t, 2, n)
		}},
		{"UpdateAgent", func(r session.Repository) error {
			return r.UpdateAgent(ctx, "s1", &session.Agent{ID: "a1", State: map[string]any{"n": int64(2)}})
		}, func(t *testing.T, r session.Repository) {
			a, err := r.GetAgent(ctx, "s1", "a1")
			require.NoError(t, err)
			assert.Equal(t, int64(2), a.State["n"])
			as, err := r.ListAgents(ctx, "s1")
			require.NoError(t, err)
			assert.Equal(t, int64(2), as[0].State["n"])
		}},
		{"AddFeedback", func(r session.Repository) error {
			_, err := r.AddFeedback(ctx, "s1", &session.Feedback{Rating: session.RatingUp})
			return err
		}, func(t *testing.T, r session.Repository) {
			fs, err := r.ListFeedback(ctx, "s1")
			require.NoError(t, err)
			assert.Len(t, fs, 1)
		}},
		{"RecordGuardrailEvent", func(r session.Repository) error {
			return r.RecordGuardrailEvent(ctx, "s1", "a1", 0, &session.GuardrailEvent{StopReason: "guardrail_intervened"})
		}, func(t *testing.T, r session.Repository) {
			evs, err := r.ListGuardrailEvents(ctx, "s1")
			require.NoError(t, err)
			assert.Len(t, evs, 1)
			m, err := r.GetMessage(ctx, "s1", "a1", 0)
			require.NoError(t, err)
			assert.NotNil(t, m.GuardrailEvent)
		}},
		{"DeleteSession", func(r session.Repository) error {
			return r.DeleteSession(ctx, "s1")
		}, func(t *testing.T, r session.Repository) {
			_, err := r.GetSession(ctx, "s1")
			assert.ErrorIs(t, err, session.ErrNotFound)
			_, err = r.GetMetadata(ctx, "s1")
			assert.ErrorIs(t, err, session.ErrNotFound)
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{})
			peer, err := New(sharedRepo{f.backend}, f.client, Options{RedisTimeout: 2 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = peer.Close() })
			mustCreateSession(t, f.cache, "s1", map[string]any{"k": "old"})
			require.NoError(t, f.cache.CreateAgent(ctx, "s1", &session.Agent{ID: "a1", State: map[string]any{"n": int64(1)}}))
			require.NoError(t, f.cache.CreateMessage(ctx, "s1", "a1", &session.Message{ID: 0, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("q")}}}))
			// Warm every kind in both instances.
			for _, r := range []session.Repository{f.cache, peer} {
				_, _ = r.GetSession(ctx, "s1")
				_, _ = r.GetMetadata(ctx, "s1")
				_, _ = r.ListMessages(ctx, "s1", "a1", 0, 0)
				_, _ = r.CountMessages(ctx, "s1", "a1")
				_, _ = r.GetAgent(ctx, "s1", "a1")
				_, _ = r.ListAgents(ctx, "s1")
				_, _ = r.ListFeedback(ctx, "s1")
				_, _ = r.ListGuardrailEvents(ctx, "s1")
				_, _ = r.GetMessage(ctx, "s1", "a1", 0)
			}
			require.Positive(t, stat(peer, "cache_hits_total"))
			require.NoError(t, w.write(f.cache))
			w.check(t, f.cache)
			w.check(t, peer) // the other process sharing the Redis
		})
	}
}

func TestWrite_RejectedInputWritesNothingAndKeepsCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", nil)
	_, err := f.cache.GetSession(ctx, "s1")
	require.NoError(t, err)
	before := stat(f.cache, "cache_invalidations_total")

	err = f.cache.UpdateMetadata(ctx, "s1", map[string]any{"a.b": 1})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	_, err = f.cache.GetSession(ctx, "bad/id")
	require.ErrorIs(t, err, session.ErrInvalidArgument)

	assert.Equal(t, before, stat(f.cache, "cache_invalidations_total"))
	keys := f.mr.Keys()
	for _, k := range keys {
		assert.NotContains(t, k, "bad/id")
	}
}

// A writer in another process has written the backend but not yet deleted
// the generation (it is between the two, or Redis was unreachable). A caller
// whose own write is refused because of that change — already exists,
// conflict, not found — has seen the new state, so its next read must not be
// the cached old one. This is how two requests starting the same new agent
// at once met a cached "no such agent" after "already exists" in a soak run
// with Redis killed mid-run.
func TestWrite_RefusalThatSawAnotherWritersChangeInvalidates(t *testing.T) {
	t.Parallel()
	// Not ctxT: the parallel subtests may wait for a free slot longer than
	// its 10 s.
	ctx := testservice.WithTimeout(t, time.Minute)
	for _, tc := range []struct {
		name    string
		other   func(session.Repository) error // the other writer, straight to the backend
		refused func(session.Repository) error // our write, through the cache
		want    error
		check   func(*testing.T, session.Repository)
	}{
		{
			name:    "create agent: already exists",
			other:   func(r session.Repository) error { return r.CreateAgent(ctx, "s1", &session.Agent{ID: "a1"}) },
			refused: func(r session.Repository) error { return r.CreateAgent(ctx, "s1", &session.Agent{ID: "a1"}) },
			want:    session.ErrAlreadyExists,
			check: func(t *testing.T, r session.Repository) {
				_, err := r.GetAgent(ctx, "s1", "a1")
				assert.NoError(t, err)
			},
		},
		{
			name: "append: conflict",
			other: func(r session.Repository) error {
				return r.CreateMessage(ctx, "s1", "a0", &session.Message{ID: 0, Message: session.ChatMessage{Role: "user", Content: []session.ContentBlock{{"text": "theirs"}}}})
			},
			refused: func(r session.Repository) error {
				return r.CreateMessage(ctx, "s1", "a0", &session.Message{ID: 0, Message: session.ChatMessage{Role: "user", Content: []session.ContentBlock{{"text": "ours"}}}})
			},
			want: session.ErrConflict,
			check: func(t *testing.T, r session.Repository) {
				n, err := r.CountMessages(ctx, "s1", "a0")
				assert.NoError(t, err)
				assert.Equal(t, 1, n)
			},
		},
		{
			name:    "update agent: not found after a delete",
			other:   func(r session.Repository) error { return r.DeleteSession(ctx, "s1") },
			refused: func(r session.Repository) error { return r.UpdateAgent(ctx, "s1", &session.Agent{ID: "a0"}) },
			want:    session.ErrNotFound,
			check: func(t *testing.T, r session.Repository) {
				_, err := r.GetSession(ctx, "s1")
				assert.ErrorIs(t, err, session.ErrNotFound)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{})
			mustCreateSession(t, f.cache, "s1", nil)
			require.NoError(t, f.cache.CreateAgent(ctx, "s1", &session.Agent{ID: "a0"}))
			// Fill the cache with the state before the other writer's change.
			_, _ = f.cache.GetSession(ctx, "s1")
			_, _ = f.cache.GetAgent(ctx, "s1", "a1")
			_, _ = f.cache.CountMessages(ctx, "s1", "a0")
			hits := stat(f.cache, "cache_hits_total")
			_, _ = f.cache.GetAgent(ctx, "s1", "a1")
			require.Equal(t, hits+1, stat(f.cache, "cache_hits_total"), "the old state is cached")

			require.NoError(t, tc.other(f.backend.Repository))
			require.ErrorIs(t, tc.refused(f.cache), tc.want)
			tc.check(t, f.cache)
		})
	}
}

func TestFill_SlowReaderCannotPutBackAValueFromBeforeAWrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", map[string]any{"v": int64(1)})
	peer, err := New(sharedRepo{f.backend}, f.client, Options{RedisTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = peer.Close() })

	// The reader reads the old value from the backend, then stalls before
	// filling the cache while another instance writes.
	loaded := make(chan struct{})
	resume := make(chan struct{})
	var once sync.Once
	slow := &countingRepo{Repository: f.backend.Repository}
	slowCache, err := New(sharedRepo{slowAfterLoad{slow, loaded, resume, &once}}, f.client, Options{RedisTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = slowCache.Close() })

	done := make(chan map[string]any)
	go func() {
		md, err := slowCache.GetMetadata(ctx, "s1")
		assert.NoError(t, err)
		done <- md
	}()
	<-loaded
	require.NoError(t, peer.UpdateMetadata(ctx, "s1", map[string]any{"v": int64(2)}))
	close(resume)
	assert.Equal(t, int64(1), (<-done)["v"], "the slow read started before the write")

	assert.Equal(t, 1, stat(slowCache, "cache_fills_rejected_total"))
	for _, r := range []*Cache{f.cache, peer, slowCache} {
		md, err := r.GetMetadata(ctx, "s1")
		require.NoError(t, err)
		assert.Equal(t, int64(2), md["v"])
	}
}

// slowAfterLoad signals after reading metadata and waits before returning.
type slowAfterLoad struct {
	session.Repository
	loaded, resume chan struct{}
	once           *sync.Once
}

func (s slowAfterLoad) GetMetadata(ctx context.Context, id string) (map[string]any, error) {
	md, err := s.Repository.GetMetadata(ctx, id)
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.loaded)
		<-s.resume
	}
	return md, err
}

func TestTTL_EntriesExpireAndNotFoundIsCachedBriefly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{TTL: time.Minute, NegativeTTL: 2 * time.Second, Jitter: -1,
		KindTTL: map[Kind]time.Duration{KindMetadata: 10 * time.Second}})
	ctx := ctxT(t)

	_, err := f.cache.GetSession(ctx, "nope")
	require.ErrorIs(t, err, session.ErrNotFound)
	_, err = f.cache.GetSession(ctx, "nope")
	require.ErrorIs(t, err, session.ErrNotFound)
	assert.EqualValues(t, 1, f.backend.reads.Load(), "not-found is cached")
	f.mr.FastForward(3 * time.Second)
	_, err = f.cache.GetSession(ctx, "nope")
	require.ErrorIs(t, err, session.ErrNotFound)
	assert.EqualValues(t, 2, f.backend.reads.Load(), "negative entry expired")

	// A create through the decorator ends the negative entry at once.
	mustCreateSession(t, f.cache, "nope", nil)
	s, err := f.cache.GetSession(ctx, "nope")
	require.NoError(t, err)
	assert.Equal(t, "nope", s.ID)

	// Per-kind TTL: metadata expires after 10s, the session after a minute.
	_, err = f.cache.GetMetadata(ctx, "nope")
	require.NoError(t, err)
	reads := f.backend.reads.Load()
	f.mr.FastForward(11 * time.Second)
	_, _ = f.cache.GetSession(ctx, "nope")
	_, _ = f.cache.GetMetadata(ctx, "nope")
	assert.Equal(t, reads+1, f.backend.reads.Load(), "only metadata expired")
	f.mr.FastForward(time.Minute)
	_, _ = f.cache.GetSession(ctx, "nope")
	assert.Equal(t, reads+2, f.backend.reads.Load())
}

func TestTTL_JitterSpreadsExpiries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{TTL: 100 * time.Second, Jitter: 0.5})
	seen := map[time.Duration]bool{}
	for range 20 {
		d := f.cache.ttl(KindSession, false)
		require.GreaterOrEqual(t, d, 100*time.Second)
		require.Less(t, d, 150*time.Second)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 1)
}

func TestRead_OversizeValueBypassesTheCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{MaxValueBytes: 512})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", nil)
	require.NoError(t, f.cache.CreateAgent(ctx, "s1", &session.Agent{ID: "a"}))
	for i := range 10 {
		require.NoError(t, f.cache.CreateMessage(ctx, "s1", "a", &session.Message{ID: i,
			Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(fmt.Sprintf("message %d with some padding text", i))}}}))
	}
	for range 2 {
		ms, err := f.cache.ListMessages(ctx, "s1", "a", 0, 0)
		require.NoError(t, err)
		require.Len(t, ms, 10)
	}
	assert.EqualValues(t, 2, f.backend.reads.Load())
	assert.Equal(t, 2, stat(f.cache, "cache_oversize_total"))
	ms, err := f.cache.ListMessages(ctx, "s1", "a", 0, 2) // a small page still caches
	require.NoError(t, err)
	require.Len(t, ms, 2)
	_, err = f.cache.ListMessages(ctx, "s1", "a", 0, 2)
	require.NoError(t, err)
	assert.EqualValues(t, 3, f.backend.reads.Load())
}

func TestRead_CorruptEntryIsReloaded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", map[string]any{"k": "v"})
	_, err := f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	gen, err := f.mr.Get(keysFor(DefaultPrefix, "s1").gen)
	require.NoError(t, err)
	// The current version and token, then a record that does not decode.
	corrupt := string([]byte{formatVersion, byte(len(gen))}) + gen + "\x01\xff\xff"
	require.NoError(t, f.mr.Set(keysFor(DefaultPrefix, "s1").entry(fieldMetadata()), corrupt))
	md, err := f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, "v", md["k"])
	assert.Equal(t, 1, stat(f.cache, "cache_errors_total"))
}

func TestClose_IsIdempotentAndLaterCallsFail(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	require.NoError(t, f.cache.Close())
	require.NoError(t, f.cache.Close())
	_, err := f.cache.GetSession(ctxT(t), "s1")
	assert.ErrorIs(t, err, session.ErrClosed)
	err = f.cache.CreateSession(ctxT(t), &session.Session{ID: "s1"})
	assert.ErrorIs(t, err, session.ErrClosed)
	_, err = f.cache.ListSessions(ctxT(t), session.SessionQuery{})
	assert.ErrorIs(t, err, session.ErrClosed)
}

func TestNew_RejectsBadOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	for name, o := range map[string]Options{
		"brace in prefix": {Prefix: "a{b"},
		"negative ttl":    {TTL: -time.Second},
		"unknown kind":    {KindTTL: map[Kind]time.Duration{"nope": time.Second}},
		"zero kind ttl":   {KindTTL: map[Kind]time.Duration{KindSession: 0}},
		"jitter over 1":   {Jitter: 2},
	} {
		_, err := New(f.backend, f.client, o)
		assert.ErrorIs(t, err, session.ErrInvalidArgument, name)
	}
	_, err := New(nil, f.client, Options{RedisTimeout: 2 * time.Second})
	assert.ErrorIs(t, err, session.ErrInvalidArgument)
	_, err = New(f.backend, nil, Options{})
	assert.ErrorIs(t, err, session.ErrInvalidArgument)
}

func TestRead_CallerDeadlineIsRespectedWhileWaitingForAFlight(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	mustCreateSession(t, f.cache, "s1", nil)
	release := make(chan struct{})
	f.backend.gate = func() { <-release }
	defer close(release)
	go func() { _, _ = f.cache.GetSession(context.Background(), "s1") }()
	require.Eventually(t, func() bool { return f.backend.reads.Load() == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.cache.GetSession(ctx, "s1")
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
}

// TestRead_EntryOfAnOlderGenerationIsNotServed checks the token carried in
// every entry: once the generation has changed (a writer elsewhere deleted
// it and a reader there started a new one) the entry still sits under its
// key but is a miss, not an error, and the refill overwrites it with the
// new generation's token.
func TestRead_EntryOfAnOlderGenerationIsNotServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	mustCreateSession(t, f.cache, "s1", map[string]any{"v": int64(1)})
	_, err := f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	keys := keysFor(DefaultPrefix, "s1")
	oldGen, err := f.mr.Get(keys.gen)
	require.NoError(t, err)

	// Another process writes the backend and deletes the generation; a
	// reader there starts the next one before anything is refilled.
	require.NoError(t, f.backend.Repository.UpdateMetadata(ctx, "s1", map[string]any{"v": int64(2)}))
	f.mr.Del(keys.gen)
	require.NoError(t, f.mr.Set(keys.gen, newToken()))
	old, err := f.mr.Get(keys.entry(fieldMetadata()))
	require.NoError(t, err, "the old entry is still stored")
	token, _, ok := splitEntry(old)
	require.True(t, ok)
	require.Equal(t, oldGen, token)

	md, err := f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), md["v"])
	assert.Equal(t, 0, stat(f.cache, "cache_errors_total"))
	assert.Equal(t, 2, stat(f.cache, "cache_misses_total"))

	newGen, err := f.mr.Get(keys.gen)
	require.NoError(t, err)
	require.NotEqual(t, oldGen, newGen)
	refilled, err := f.mr.Get(keys.entry(fieldMetadata()))
	require.NoError(t, err)
	token, _, ok = splitEntry(refilled)
	require.True(t, ok)
	assert.Equal(t, newGen, token, "the refill overwrote the old entry")

	md, err = f.cache.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), md["v"])
	assert.Equal(t, 1, stat(f.cache, "cache_hits_total"))
}
