package soak

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

// The checker must catch every kind of broken guarantee: each case stores
// a state that breaks one and expects exactly that counter to move.
func TestVerify_DetectsEachBrokenGuarantee(t *testing.T) {
	t.Parallel()
	const run, sid, aid = "chk", "soak-chk-s000", "agent-0"
	msg := func(w, seq int) string { return payload(run, KindMessage, w, seq) }
	md := func(w, seq int) string { return payload(run, KindMetadata, w, seq) }
	fb := func(w, seq int) string { return payload(run, KindFeedback, w, seq) }
	mw := func(w, seq int, acked bool) Write {
		return Write{Kind: KindMessage, SessionID: sid, AgentID: aid, Worker: w, Seq: seq, Payload: msg(w, seq), Acked: acked}
	}
	kw := func(w, seq int, acked bool) Write {
		return Write{Kind: KindMetadata, SessionID: sid, Worker: w, Seq: seq, Key: metadataKey(w, seq), Payload: md(w, seq), Acked: acked}
	}
	fw := func(w, seq int, acked bool) Write {
		return Write{Kind: KindFeedback, SessionID: sid, Worker: w, Seq: seq, Payload: fb(w, seq), Acked: acked}
	}
	tests := []struct {
		name     string
		messages []string
		metadata map[string]any
		feedback []string
		writes   []Write
		want     func(*Report) int
	}{
		{"clean", []string{msg(0, 0), msg(1, 0), msg(0, 1)}, map[string]any{metadataKey(0, 2): md(0, 2)}, []string{fb(0, 3)},
			[]Write{mw(0, 0, true), mw(1, 0, true), mw(0, 1, true), kw(0, 2, true), fw(0, 3, true)}, func(r *Report) int { return r.Violations() }},
		{"acknowledged message lost", []string{msg(0, 0)}, nil, nil,
			[]Write{mw(0, 0, true), mw(0, 1, true)}, func(r *Report) int { return r.Lost }},
		{"message duplicated", []string{msg(0, 0), msg(0, 0)}, nil, nil,
			[]Write{mw(0, 0, true)}, func(r *Report) int { return r.Duplicates }},
		{"unknown message applied twice", []string{msg(0, 0), msg(0, 0)}, nil, nil,
			[]Write{mw(0, 0, false)}, func(r *Report) int { return r.Duplicates }},
		{"worker's messages out of order", []string{msg(0, 1), msg(0, 0)}, nil, nil,
			[]Write{mw(0, 0, true), mw(0, 1, true)}, func(r *Report) int { return r.OutOfOrder }},
		{"message never written", []string{msg(0, 0), msg(3, 9)}, nil, nil,
			[]Write{mw(0, 0, true)}, func(r *Report) int { return r.Foreign }},
		{"acknowledged metadata missing", nil, map[string]any{"other": "x"}, nil,
			[]Write{kw(0, 0, true)}, func(r *Report) int { return r.MetadataMissing }},
		{"metadata older than the last acknowledged value", nil, map[string]any{metadataKey(0, 0): md(0, 0)}, nil,
			[]Write{kw(0, 0, true), kw(0, 3, true)}, func(r *Report) int { return r.MetadataStale }},
		{"acknowledged feedback lost", nil, nil, []string{fb(0, 0)},
			[]Write{fw(0, 0, true), fw(0, 1, true)}, func(r *Report) int { return r.Lost }},
		{"feedback duplicated", nil, nil, []string{fb(0, 0), fb(0, 0)},
			[]Write{fw(0, 0, false)}, func(r *Report) int { return r.Duplicates }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := memory.New(memory.Options{})
			t.Cleanup(func() { _ = repo.Close() })
			require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: sid, Metadata: tc.metadata}))
			require.NoError(t, repo.CreateAgent(ctx, sid, &session.Agent{ID: aid}))
			for i, text := range tc.messages {
				require.NoError(t, repo.CreateMessage(ctx, sid, aid, &session.Message{ID: i,
					Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(text)}}}))
			}
			for _, c := range tc.feedback {
				_, err := repo.AddFeedback(ctx, sid, &session.Feedback{Comment: c})
				require.NoError(t, err)
			}
			l := NewLedger(run)
			for _, w := range tc.writes {
				l.Record(w)
			}
			rep, err := Verify(ctx, repo, l)
			require.NoError(t, err)
			if tc.name == "clean" {
				assert.Zero(t, tc.want(rep), rep.Problems)
				assert.NoError(t, rep.Err())
				return
			}
			assert.Equal(t, 1, tc.want(rep), "problems: %v", rep.Problems)
			assert.Equal(t, 1, rep.Violations(), "only the broken guarantee is reported: %v", rep.Problems)
			assert.Error(t, rep.Err())
		})
	}
}

// CompareReads must notice a cache that answers differently from the
// backend.
func TestCompareReads_DetectsADifferentAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return at }
	a, b := memory.New(memory.Options{Now: clock}), memory.New(memory.Options{Now: clock})
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	for _, r := range []session.Repository{a, b} {
		require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s", Metadata: map[string]any{"k": "v"}, CreatedAt: at, UpdatedAt: at}))
		require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "x", CreatedAt: at, UpdatedAt: at}))
	}
	require.NoError(t, CompareReads(ctx, a, b, []string{"s"}))
	require.NoError(t, b.UpdateMetadata(ctx, "s", map[string]any{"k": "newer"}))
	require.ErrorContains(t, CompareReads(ctx, a, b, []string{"s"}), "GetMetadata s")
	require.NoError(t, a.UpdateMetadata(ctx, "s", map[string]any{"k": "newer"}))
	require.NoError(t, b.CreateMessage(ctx, "s", "x", &session.Message{ID: 0,
		Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("hi")}}}))
	require.ErrorContains(t, CompareReads(ctx, a, b, []string{"s"}), "ListMessages s/x")
}

func TestParseScale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Scale
		wantErr bool
	}{
		{"", ScaleCI, false},
		{"ci", ScaleCI, false},
		{"LARGE", ScaleLarge, false},
		{"32x16x200", Scale{32, 16, 200}, false},
		{"1x1x1", Scale{1, 1, 1}, false},
		{"0x1x1", Scale{}, true},
		{"8x4", Scale{}, true},
		{"axbxc", Scale{}, true},
		{"-1x2x3", Scale{}, true},
	}
	for _, tc := range tests {
		got, err := ParseScale(tc.in)
		if tc.wantErr {
			assert.ErrorIs(t, err, session.ErrInvalidArgument, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		again, err := ParseScale(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, again)
	}
}

func TestRun_RejectsABadConfig(t *testing.T) {
	t.Parallel()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	for _, cfg := range []Config{
		{Agents: -1},
		{RunID: "bad id"},
		{Faults: []Fault{{Name: "no inject", At: 0.5}}},
		{Faults: []Fault{{Name: "late", At: 1, Inject: func(context.Context) error { return nil }}}},
	} {
		res, err := Run(context.Background(), repo, cfg)
		assert.ErrorIs(t, err, session.ErrInvalidArgument, "%+v", cfg)
		assert.Nil(t, res)
	}
	page, err := repo.ListSessions(context.Background(), session.SessionQuery{})
	require.NoError(t, err)
	assert.Empty(t, page.Sessions, "a rejected config writes nothing")
}
