package memory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func textMessage(id int, text string) *session.Message {
	return &session.Message{ID: id, Message: session.ChatMessage{
		Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(text)},
	}}
}

// newWithAgent returns a repository holding session "s" with agent "a".
func newWithAgent(t *testing.T, opts memory.Options) *memory.Repository {
	t.Helper()
	r := memory.New(opts)
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
	require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
	return r
}

func TestOptions_ClockAndIDSourceAreUsed(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.FixedZone("X", 3600))
	n := 0
	r := newWithAgent(t, memory.Options{
		Now:   func() time.Time { return fixed },
		NewID: func() string { n++; return fmt.Sprintf("fb-%d", n) },
	})
	ctx := context.Background()
	s, err := r.GetSession(ctx, "s")
	require.NoError(t, err)
	assert.Equal(t, driver.UTCMicro(fixed), s.CreatedAt)
	assert.Equal(t, time.UTC, s.CreatedAt.Location())

	f, err := r.AddFeedback(ctx, "s", &session.Feedback{Rating: session.RatingUp})
	require.NoError(t, err)
	assert.Equal(t, "fb-1", f.ID)
	assert.Equal(t, driver.UTCMicro(fixed), f.CreatedAt)
}

func TestMaxSessions_RejectsBeyondLimitAndFreesOnDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := memory.New(memory.Options{MaxSessions: 2})
	t.Cleanup(func() { _ = r.Close() })
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "a"}))
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "b"}))
	err := r.CreateSession(ctx, &session.Session{ID: "c"})
	require.ErrorIs(t, err, session.ErrTooLarge)
	_, err = r.GetSession(ctx, "c")
	require.ErrorIs(t, err, session.ErrNotFound)
	// A taken id is still reported as such at the limit.
	require.ErrorIs(t, r.CreateSession(ctx, &session.Session{ID: "a"}), session.ErrAlreadyExists)

	require.NoError(t, r.DeleteSession(ctx, "a"))
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "c"}))
}

func TestMaxSessionBytes_EveryWriteKindIsBounded(t *testing.T) {
	t.Parallel()
	const limit = 4096
	big := strings.Repeat("x", limit)
	tests := []struct {
		name  string
		write func(ctx context.Context, r *memory.Repository) error
	}{
		{"CreateMessage", func(ctx context.Context, r *memory.Repository) error {
			return r.CreateMessage(ctx, "s", "a", textMessage(1, big))
		}},
		{"UpdateMessage", func(ctx context.Context, r *memory.Repository) error {
			return r.UpdateMessage(ctx, "s", "a", textMessage(0, big))
		}},
		{"CreateAgent", func(ctx context.Context, r *memory.Repository) error {
			return r.CreateAgent(ctx, "s", &session.Agent{ID: "b", State: map[string]any{"k": big}})
		}},
		{"UpdateAgent", func(ctx context.Context, r *memory.Repository) error {
			return r.UpdateAgent(ctx, "s", &session.Agent{ID: "a", State: map[string]any{"k": big}})
		}},
		{"UpdateAgentConfig", func(ctx context.Context, r *memory.Repository) error {
			return r.UpdateAgentConfig(ctx, "s", "a", session.AgentConfigPatch{SystemPrompt: &big})
		}},
		{"UpdateMetadata", func(ctx context.Context, r *memory.Repository) error {
			return r.UpdateMetadata(ctx, "s", map[string]any{"k": big})
		}},
		{"AddFeedback", func(ctx context.Context, r *memory.Repository) error {
			_, err := r.AddFeedback(ctx, "s", &session.Feedback{Comment: big})
			return err
		}},
		{"RecordGuardrailEvent", func(ctx context.Context, r *memory.Repository) error {
			return r.RecordGuardrailEvent(ctx, "s", "a", 0, &session.GuardrailEvent{Trace: map[string]any{"k": big}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newWithAgent(t, memory.Options{MaxSessionBytes: limit})
			require.NoError(t, r.CreateMessage(ctx, "s", "a", textMessage(0, "small")))
			before := snapshot(t, r)
			require.ErrorIs(t, tt.write(ctx, r), session.ErrTooLarge)
			assert.Equal(t, before, snapshot(t, r), "nothing written")
		})
	}
}

func TestMaxSessionBytes_ShrinkingWritesAreAllowedAndFreeSpace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWithAgent(t, memory.Options{MaxSessionBytes: 4096})
	require.NoError(t, r.CreateMessage(ctx, "s", "a", textMessage(0, strings.Repeat("x", 3000))))
	require.ErrorIs(t, r.CreateMessage(ctx, "s", "a", textMessage(1, strings.Repeat("y", 2000))), session.ErrTooLarge)
	require.NoError(t, r.UpdateMessage(ctx, "s", "a", textMessage(0, "short now")))
	require.NoError(t, r.CreateMessage(ctx, "s", "a", textMessage(1, strings.Repeat("y", 2000))))
}

// snapshot reads everything under session "s" for before/after comparisons.
func snapshot(t *testing.T, r *memory.Repository) []any {
	t.Helper()
	ctx := context.Background()
	s, err := r.GetSession(ctx, "s")
	require.NoError(t, err)
	agents, err := r.ListAgents(ctx, "s")
	require.NoError(t, err)
	var msgs [][]*session.Message
	for _, a := range agents {
		m, err := r.ListMessages(ctx, "s", a.ID, 0, 0)
		require.NoError(t, err)
		msgs = append(msgs, m)
	}
	fb, err := r.ListFeedback(ctx, "s")
	require.NoError(t, err)
	ge, err := r.ListGuardrailEvents(ctx, "s")
	require.NoError(t, err)
	return []any{s, agents, msgs, fb, ge}
}

func TestStats_CountsSessionsAndMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWithAgent(t, memory.Options{})
	require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "b"}))
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "t"}))
	for i := range 3 {
		require.NoError(t, r.CreateMessage(ctx, "s", "a", textMessage(i, "x")))
	}
	require.NoError(t, r.CreateMessage(ctx, "s", "b", textMessage(0, "x")))
	assert.Equal(t, map[string]float64{"memory_sessions": 2, "memory_messages": 4}, r.Stats())

	require.NoError(t, r.DeleteSession(ctx, "s"))
	assert.Equal(t, map[string]float64{"memory_sessions": 1, "memory_messages": 0}, r.Stats())
}

func TestPing(t *testing.T) {
	t.Parallel()
	r := memory.New(memory.Options{})
	require.NoError(t, r.Ping(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, r.Ping(ctx), context.Canceled)
	require.NoError(t, r.Close())
	require.ErrorIs(t, r.Ping(context.Background()), session.ErrClosed)
	require.NoError(t, r.Close(), "Close is idempotent")
}

func TestOpen_URL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		wantErr error
	}{
		{"memory://", nil},
		{"memory:///", nil},
		{"memory://?max_sessions=2&max_session_bytes=100000", nil},
		{"memory://?max_sessions=0", nil},
		{"memory://?max_sessions=-1", session.ErrInvalidArgument},
		{"memory://?max_sessions=ten", session.ErrInvalidArgument},
		{"memory://?max_session_bytes=1e6", session.ErrInvalidArgument},
		{"memory://?max_snapshot_bytes=4096", nil},
		{"memory://?max_snapshot_bytes=-1", session.ErrInvalidArgument},
		{"memory://?max_sessions=1&max_sessions=2", session.ErrInvalidArgument},
		{"memory://?maxsessions=1", session.ErrInvalidArgument},
		{"memory://somehost", session.ErrInvalidArgument},
		{"memory:///some/path", session.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			r, err := session.Open(context.Background(), tt.url)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.NoError(t, r.Close())
		})
	}
}

func TestOpen_URLLimitsApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := session.Open(ctx, "memory://?max_sessions=1")
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "one"}))
	require.ErrorIs(t, r.CreateSession(ctx, &session.Session{ID: "two"}), session.ErrTooLarge)
}

func TestClose_DropsDataAndRejectsEveryCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWithAgent(t, memory.Options{})
	require.NoError(t, r.Close())
	assert.Equal(t, map[string]float64{"memory_sessions": 0, "memory_messages": 0}, r.Stats())
	_, err := r.GetSession(ctx, "s")
	require.ErrorIs(t, err, session.ErrClosed)
	require.ErrorIs(t, r.CreateSession(ctx, &session.Session{ID: "x"}), session.ErrClosed)
	_, err = r.ListSessions(ctx, session.SessionQuery{})
	require.ErrorIs(t, err, session.ErrClosed)
}

func TestAddFeedback_DuplicateCallerIDIsAlreadyExists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWithAgent(t, memory.Options{})
	_, err := r.AddFeedback(ctx, "s", &session.Feedback{ID: "f1", Rating: session.RatingUp})
	require.NoError(t, err)
	_, err = r.AddFeedback(ctx, "s", &session.Feedback{ID: "f1", Rating: session.RatingDown})
	require.ErrorIs(t, err, session.ErrAlreadyExists)
	fb, err := r.ListFeedback(ctx, "s")
	require.NoError(t, err)
	require.Len(t, fb, 1)
	assert.Equal(t, session.RatingUp, fb[0].Rating)
}

func TestCloseDuringConcurrentUse_NoRaceNoPanic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWithAgent(t, memory.Options{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				err := r.UpdateMetadata(ctx, "s", map[string]any{"k": int64(g*100 + i)})
				if err != nil {
					if !errors.Is(err, session.ErrClosed) {
						t.Errorf("UpdateMetadata: %v", err)
					}
					return
				}
			}
		}()
	}
	require.NoError(t, r.Close())
	wg.Wait()
}

// An update that repeats stored maps keeps the stored copies instead of
// copying them again; what the caller holds stays its own, and a repeated
// value of a non-canonical type is still normalized.
func TestUpdateAgent_RepeatedMapsStayIsolatedAndCanonical(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := memory.New(memory.Options{})
	t.Cleanup(func() { _ = r.Close() })
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
	internal := map[string]any{"model_state": map[string]any{"n": int64(1)}}
	require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a", State: map[string]any{"k": int64(1)}, InternalState: internal}))
	for i, tc := range []struct {
		name  string
		state map[string]any
		want  map[string]any
	}{
		{"same state, canonical", map[string]any{"k": int64(1)}, map[string]any{"k": int64(1)}},
		{"same state as a Go int", map[string]any{"k": 1}, map[string]any{"k": int64(1)}},
		{"changed state", map[string]any{"k": int64(2)}, map[string]any{"k": int64(2)}},
	} {
		in := map[string]any{"model_state": map[string]any{"n": int64(1)}}
		require.NoError(t, r.UpdateAgent(ctx, "s", &session.Agent{ID: "a", State: tc.state, InternalState: in}), tc.name)
		tc.state["k"] = "changed by the caller"
		in["model_state"].(map[string]any)["n"] = "changed by the caller"
		got, err := r.GetAgent(ctx, "s", "a")
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got.State, "%d %s", i, tc.name)
		assert.Equal(t, map[string]any{"model_state": map[string]any{"n": int64(1)}}, got.InternalState, tc.name)
	}
}
