package rediscache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// resumeReads is the resume of the chat workload: what session/manager
// reads to resume an agent (GetSession, GetAgent, the window from
// removed_message_count on).
func resumeReads(ctx context.Context, r session.Repository, sid, aid string, offset int) (*session.Session, *session.Agent, []*session.Message, error) {
	s, err := r.GetSession(ctx, sid)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := r.GetAgent(ctx, sid, aid)
	if err != nil {
		return nil, nil, nil, err
	}
	ms, err := r.ListMessages(ctx, sid, aid, offset, 0)
	return s, a, ms, err
}

// TestResumeAfterOwnWrites_IsAHit is the chat workload's request: resume,
// append the user's message, append the assistant's, sync the agent. The
// next request's resume must be served from Redis: no backend call at all
// (counted by a counting wrapper around the backend), and the values equal
// the backend's.
func TestResumeAfterOwnWrites_IsAHit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		offset int // removed_message_count of a sliding window
	}{{"whole log", 0}, {"window", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{})
			counting := benchsuite.NewCounting(sharedRepo{f.backend.Repository})
			c, err := New(counting, f.client, Options{RedisTimeout: 2 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			ctx := ctxT(t)
			const sid, aid = "s1", "a1"
			mustCreateSession(t, c, sid, nil)
			require.NoError(t, c.CreateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"turn": int64(0)}}))
			for i := range 4 {
				_, err := c.AppendMessage(ctx, sid, aid, userMessage(fmt.Sprint("m", i)))
				require.NoError(t, err)
			}
			for turn := 1; turn <= 3; turn++ {
				before := counting.Calls()
				_, _, _, err := resumeReads(ctx, c, sid, aid, tc.offset)
				require.NoError(t, err)
				if turn > 1 {
					assert.Equal(t, before, counting.Calls(), "turn %d: resume after the previous turn's writes reached the backend: %v", turn, counting.ByMethod())
				}
				_, err = c.AppendMessage(ctx, sid, aid, userMessage(fmt.Sprint("user ", turn)))
				require.NoError(t, err)
				answer := &session.Message{Message: session.ChatMessage{Role: session.RoleAssistant,
					Content: []session.ContentBlock{session.TextBlock(fmt.Sprint("answer ", turn))}}}
				id, err := c.AppendMessage(ctx, sid, aid, answer)
				require.NoError(t, err)
				// EndInvocation stores the invocation's metrics on the answer.
				answer.ID = id
				answer.EventLoopMetrics = &session.EventLoopMetrics{
					AccumulatedUsage:   session.Usage{InputTokens: int64(10 * turn), OutputTokens: 5, TotalTokens: int64(10*turn + 5)},
					AccumulatedMetrics: session.LatencyMetrics{LatencyMs: int64(100 * turn)}}
				require.NoError(t, c.UpdateMessage(ctx, sid, aid, answer))
				require.NoError(t, c.UpdateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"turn": int64(turn)},
					ConversationManagerState: map[string]any{"removed_message_count": int64(tc.offset)},
					InternalState:            map[string]any{}}))
			}
			before := counting.Calls()
			s, a, ms, err := resumeReads(ctx, c, sid, aid, tc.offset)
			require.NoError(t, err)
			assert.Equal(t, before, counting.Calls(), "resume after writes reached the backend: %v", counting.ByMethod())

			// What the hits returned is what the backend holds.
			ws, wa, wms, err := resumeReads(ctx, f.backend.Repository, sid, aid, tc.offset)
			require.NoError(t, err)
			require.Len(t, ms, len(wms))
			for i := range ms {
				// An updated message's UpdatedAt is the cache's stamp (see doc.go).
				assert.False(t, ms[i].UpdatedAt.After(wms[i].UpdatedAt), "message %d UpdatedAt", i)
				ms[i].UpdatedAt = wms[i].UpdatedAt
			}
			assert.Equal(t, wms, ms, "messages")
			assert.False(t, s.UpdatedAt.After(ws.UpdatedAt), "session UpdatedAt %s after the backend's %s", s.UpdatedAt, ws.UpdatedAt)
			s.UpdatedAt = ws.UpdatedAt
			assert.Equal(t, ws, s, "session")
			assert.False(t, a.UpdatedAt.After(wa.UpdatedAt), "agent UpdatedAt %s after the backend's %s", a.UpdatedAt, wa.UpdatedAt)
			a.UpdatedAt = wa.UpdatedAt
			assert.Equal(t, wa, a, "agent")
		})
	}
}

// TestWriteThrough_TwoWritersInterleaved runs two writer processes (two
// Caches, each with its own client) appending to one agent — emulated
// appends over a backend without AppendMessage, and delegated ones —
// while both and a third process resume it, on one real redis-server.
// Every read that starts after an append returned must hold that message
// (0 stale reads), every message must carry its writer's text (0 wrong
// contents), and once the writers stop, every process's cached window and
// count must equal the backend's (0 lost updates to cached pages).
func TestWriteThrough_TwoWritersInterleaved(t *testing.T) {
	t.Parallel()
	srv := testservice.StartRedis(t)
	for _, tc := range []struct {
		name      string
		delegated bool
	}{{"emulated append", false}, {"delegated append", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			backend := memory.New(memory.Options{})
			t.Cleanup(func() { _ = backend.Close() })
			var inner session.Repository = plainRepo{sharedRepo{backend}}
			if tc.delegated {
				inner = &appenderRepo{Repository: sharedRepo{backend}}
			}
			prefix := fmt.Sprintf("two%d:", rand.Uint64())
			procs := make([]*Cache, 3)
			for i := range procs {
				client := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
				c, err := New(inner, client, Options{Prefix: prefix, RedisTimeout: 2 * time.Second, CloseClient: true,
					TailMessages: 16})
				require.NoError(t, err)
				t.Cleanup(func() { _ = c.Close() })
				procs[i] = c
			}
			const sid, aid, perWriter = "s1", "a1", 150
			mustCreateSession(t, procs[0], sid, nil)
			require.NoError(t, procs[0].CreateAgent(ctx, sid, &session.Agent{ID: aid}))

			var mu sync.Mutex
			texts := map[int]string{}  // id → text its writer appended
			var committed atomic.Int64 // a count every read must reach
			var reads, stale, wrong atomic.Int64
			check := func(c *Cache, rng *rand.Rand) {
				before := int(committed.Load())
				offset := max(0, before-rng.IntN(12))
				ms, err := c.ListMessages(ctx, sid, aid, offset, 0)
				require.NoError(t, err)
				n, err := c.CountMessages(ctx, sid, aid)
				require.NoError(t, err)
				reads.Add(1)
				if offset+len(ms) < before || n < before {
					stale.Add(1)
				}
				mu.Lock()
				for i, m := range ms {
					text, _ := m.Message.Content[0].Text()
					if want, ok := texts[offset+i]; m.ID != offset+i || (ok && text != want) {
						wrong.Add(1)
					}
				}
				mu.Unlock()
			}
			var wg sync.WaitGroup
			for w := range 2 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), 7))
					c := procs[w]
					for i := range perWriter {
						text := fmt.Sprintf("w%d-%d", w, i)
						id, err := c.AppendMessage(ctx, sid, aid, userMessage(text))
						require.NoError(t, err)
						mu.Lock()
						texts[id] = text
						mu.Unlock()
						for {
							cur := committed.Load()
							if int64(id+1) <= cur || committed.CompareAndSwap(cur, int64(id+1)) {
								break
							}
						}
						for range rng.IntN(3) {
							check(c, rng)
						}
					}
				})
			}
			stop := make(chan struct{})
			var rwg sync.WaitGroup
			rwg.Go(func() {
				rng := rand.New(rand.NewPCG(9, 9))
				for {
					select {
					case <-stop:
						return
					default:
					}
					check(procs[2], rng)
				}
			})
			wg.Wait()
			close(stop)
			rwg.Wait()

			want, err := backend.ListMessages(ctx, sid, aid, 0, 0)
			require.NoError(t, err)
			require.Len(t, want, 2*perWriter)
			for i, c := range procs {
				for _, off := range []int{2*perWriter - 10, 2*perWriter - 1, 2 * perWriter} {
					got, err := c.ListMessages(ctx, sid, aid, off, 0)
					require.NoError(t, err)
					assert.Equal(t, want[off:], got, "process %d window from %d", i, off)
				}
				n, err := c.CountMessages(ctx, sid, aid)
				require.NoError(t, err)
				assert.Equal(t, 2*perWriter, n, "process %d count", i)
			}
			var throughs float64
			for _, c := range procs {
				throughs += c.Stats()["cache_write_throughs_total"]
			}
			t.Logf("TWO-WRITERS %s reads=%d stale=%d wrong=%d write_throughs=%v reader_hits=%v",
				tc.name, reads.Load(), stale.Load(), wrong.Load(), throughs, procs[2].Stats()["cache_hits_total"])
			assert.Zero(t, stale.Load(), "stale reads")
			assert.Zero(t, wrong.Load(), "messages with the wrong id or text")
		})
	}
}

// gatedLists holds ListMessages calls at the gate when one is set.
type gatedLists struct {
	session.Repository
	gate atomic.Pointer[chan struct{}]
	held chan struct{}
}

func (r *gatedLists) ListMessages(ctx context.Context, sid, aid string, off, lim int) ([]*session.Message, error) {
	ms, err := r.Repository.ListMessages(ctx, sid, aid, off, lim)
	if g := r.gate.Load(); g != nil {
		r.held <- struct{}{}
		<-*g
	}
	return ms, err
}

// TestWriteThrough_SlowFillFromBeforeTheWriteIsDropped: a reader of
// another process read the window before an append (its fill is in
// flight); the append carries the window it had cached to a new
// generation; the slow fill must be dropped, and every read after the
// append — in either process — must show the appended message. Also: a
// write of another process between a writer's snapshot and its commit
// makes the commit carry nothing.
func TestWriteThrough_SlowFillFromBeforeTheWriteIsDropped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	ctx := ctxT(t)
	gated := &gatedLists{Repository: sharedRepo{f.backend.Repository}, held: make(chan struct{})}
	reader, err := New(gated, f.client, Options{RedisTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reader.Close() })
	writer := f.cache
	mustCreateSession(t, writer, "s1", nil)
	require.NoError(t, writer.CreateAgent(ctx, "s1", &session.Agent{ID: "a1"}))
	_, err = writer.AppendMessage(ctx, "s1", "a1", userMessage("m0"))
	require.NoError(t, err)
	release := make(chan struct{})
	gated.gate.Store(&release)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := reader.ListMessages(ctx, "s1", "a1", 0, 0) // a miss: nothing cached yet
		assert.NoError(t, err)
	}()
	<-gated.held // the reader has read the backend (one message); its fill waits
	gated.gate.Store(nil)
	// The writer caches the session under the same generation, so that its
	// append has something to carry.
	_, err = writer.GetSession(ctx, "s1")
	require.NoError(t, err)
	_, err = writer.AppendMessage(ctx, "s1", "a1", userMessage("m1"))
	require.NoError(t, err)
	require.Equal(t, 1, stat(writer, "cache_write_throughs_total"), "the append carried the session")
	close(release)
	<-done
	for _, c := range []*Cache{writer, reader, writer} {
		ms, err := c.ListMessages(ctx, "s1", "a1", 0, 0)
		require.NoError(t, err)
		require.Len(t, ms, 2, "a read after the append shows it")
	}
	assert.Equal(t, 1, stat(reader, "cache_fills_rejected_total"), "the slow fill was rejected")

	// A write of another process between a snapshot and its commit.
	snap := writer.snapshot(ctx, "s1", fieldSession(), fieldAgent("a1"), fieldTail("a1"), fieldCount("a1"))
	require.NotNil(t, snap)
	require.Contains(t, snap.bodies, fieldTail("a1"))
	require.NoError(t, reader.UpdateMetadata(ctx, "s1", map[string]any{"k": "w"}))
	before := stat(writer, "cache_write_throughs_total")
	writer.commit(ctx, "s1", snap, writer.appendCarry(snap, "a1", 2, userMessage("never stored")))
	assert.Equal(t, before, stat(writer, "cache_write_throughs_total"), "nothing carried over another process's write")
	ms, err := reader.ListMessages(ctx, "s1", "a1", 0, 0)
	require.NoError(t, err)
	assert.Len(t, ms, 2, "the window the commit could not carry is not served")
}

// TestWriteThrough_CarriedEntriesKeepTheirExpiry: a carried entry expires
// when the fill it descends from would have, so a change whose
// invalidation never landed (a partitioned writer) is not carried past the
// TTL bound by another process that keeps writing the session.
func TestWriteThrough_CarriedEntriesKeepTheirExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{TTL: time.Second, Jitter: -1})
	c, ctx := f.cache, ctxT(t)
	mustCreateSession(t, c, "s1", nil)
	require.NoError(t, c.CreateAgent(ctx, "s1", &session.Agent{ID: "a1"}))
	_, err := c.AppendMessage(ctx, "s1", "a1", userMessage("m0"))
	require.NoError(t, err)
	_, err = c.ListMessages(ctx, "s1", "a1", 0, 0) // fills the tail with a 1 s TTL
	require.NoError(t, err)
	tailKey := keysFor(c.opts.Prefix, "s1").entry(fieldTail("a1"))
	f.mr.FastForward(600 * time.Millisecond)
	_, err = c.AppendMessage(ctx, "s1", "a1", userMessage("m1"))
	require.NoError(t, err)
	require.Equal(t, 1, stat(c, "cache_write_throughs_total"))
	assert.LessOrEqual(t, f.mr.TTL(tailKey), 400*time.Millisecond, "the carried tail keeps the fill's expiry")
	f.mr.FastForward(450 * time.Millisecond)
	before := stat(c, "cache_misses_total")
	ms, err := c.ListMessages(ctx, "s1", "a1", 0, 0)
	require.NoError(t, err)
	assert.Len(t, ms, 2)
	assert.Equal(t, before+1, stat(c, "cache_misses_total"), "past the fill's TTL the tail is read from the backend again")
}
