package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// A file written at schema version 4 (before fork lineage) opens, gains
// the session_forks table, keeps its data and forks; deleting the fork
// removes its lineage row by cascade, deleting the source leaves it.
func TestMigrate_Version4FileGainsForkLineage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := fileAtVersion(t, 4)

	r := openTest(t, dir, Options{})
	got, err := r.ForkSession(ctx, session.ForkRequest{SourceID: "s1", ID: "f1"})
	require.NoError(t, err)
	assert.Equal(t, "app", got.ApplicationName)
	_, err = r.ForkSession(ctx, session.ForkRequest{SourceID: "s1", ID: "f2"})
	require.NoError(t, err)
	count := func() int {
		var n int
		require.NoError(t, r.reader.QueryRowContext(ctx, `SELECT count(*) FROM session_forks`).Scan(&n))
		return n
	}
	assert.Equal(t, 2, count())
	require.NoError(t, r.DeleteSession(ctx, "f2"))
	assert.Equal(t, 1, count(), "the fork's lineage goes with it")
	require.NoError(t, r.DeleteSession(ctx, "s1"))
	s, err := r.GetSession(ctx, "f1")
	require.NoError(t, err)
	require.NotNil(t, s.ForkedFrom, "the source's deletion leaves the lineage")
}

// A fork's tracked size is what the writes that would have built it add
// up to: the source's, less the feedback and guardrail events it does not
// copy; an agent fork's, its agent and messages.
func TestFork_SizeIsTheCopiedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := openTest(t, t.TempDir(), Options{})
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s", Metadata: map[string]any{"k": "v"}}))
	require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a", State: map[string]any{"x": int64(1)},
		ConversationManagerState: map[string]any{"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(1), "model_call_count": int64(5)}}))
	for i := range 4 {
		require.NoError(t, r.CreateMessage(ctx, "s", "a", &session.Message{ID: i,
			Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(fmt.Sprint("message ", i))}}}))
	}
	require.NoError(t, r.RecordGuardrailEvent(ctx, "s", "a", 1, &session.GuardrailEvent{Action: "BLOCKED"}))
	_, err := r.AddFeedback(ctx, "s", &session.Feedback{Rating: session.RatingDown, Comment: "no"})
	require.NoError(t, err)
	_, err = r.PutSnapshot(ctx, "s", "snap", []byte("bytes"))
	require.NoError(t, err)
	require.NoError(t, r.CreateMultiAgent(ctx, "s", &session.MultiAgent{ID: "g", State: map[string]any{"status": "done"}}))

	sizeOf := func(id string) int64 {
		var n int64
		require.NoError(t, r.reader.QueryRowContext(ctx, `SELECT size_bytes FROM sessions WHERE id = ?`, id).Scan(&n))
		return n
	}
	sum := func(table string) int64 {
		var n int64
		require.NoError(t, r.reader.QueryRowContext(ctx, `SELECT COALESCE(SUM(size_bytes), 0) FROM `+table+` WHERE session_id = 's'`).Scan(&n))
		return n
	}
	_, err = r.ForkSession(ctx, session.ForkRequest{SourceID: "s", ID: "whole"})
	require.NoError(t, err)
	assert.Equal(t, sizeOf("s")-sum("feedback")-sum("guardrail_events"), sizeOf("whole"))

	// The agent cut after message 1: a fresh window state, two messages.
	_, err = r.ForkSession(ctx, session.ForkRequest{SourceID: "s", ID: "cut", AgentID: "a", MessageID: intp(1)})
	require.NoError(t, err)
	a, err := r.GetAgent(ctx, "cut", "a")
	require.NoError(t, err)
	enc, err := encodeAgent(a)
	require.NoError(t, err)
	var msgs int64
	require.NoError(t, r.reader.QueryRowContext(ctx, `SELECT SUM(size_bytes) FROM messages WHERE session_id = 's' AND message_id < 2`).Scan(&msgs))
	var md int64
	require.NoError(t, r.reader.QueryRowContext(ctx, `SELECT SUM(size_bytes) FROM session_metadata WHERE session_id = 's'`).Scan(&md))
	assert.Equal(t, md+enc.size("a")+msgs, sizeOf("cut"))
}

// BenchmarkFork_Agent forks one agent of 1,000 messages: one transaction of
// INSERT … SELECT statements, so the time is the database's copy, with no
// per-message round trip through Go.
func BenchmarkFork_Agent(b *testing.B) {
	ctx := context.Background()
	r := openTest(b, b.TempDir(), Options{})
	require.NoError(b, r.CreateSession(ctx, &session.Session{ID: "s"}))
	require.NoError(b, r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
	for i := range 1000 {
		require.NoError(b, r.CreateMessage(ctx, "s", "a", &session.Message{ID: i,
			Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(fmt.Sprint("message number ", i))}}}))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := r.ForkSession(ctx, session.ForkRequest{SourceID: "s", ID: fmt.Sprint("f", i), AgentID: "a"}); err != nil {
			b.Fatal(err)
		}
	}
}

func intp(v int) *int { return &v }
