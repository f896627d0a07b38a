package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(m.Run()) // child process of TestTwoProcesses: no leak check
	}
	goleak.VerifyTestMain(m)
}

var fixedNow = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

func openTest(t testing.TB, dir string, opts Options) *Repository {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	r, err := Open(context.Background(), dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// seed creates session "s1" with agent "a1" and n messages.
func seed(t testing.TB, r *Repository, n int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s1", ApplicationName: "app"}))
	require.NoError(t, r.CreateAgent(ctx, "s1", &session.Agent{ID: "a1"}))
	for i := range n {
		require.NoError(t, r.CreateMessage(ctx, "s1", "a1", textMessage(i, fmt.Sprintf("m%d", i))))
	}
}

func textMessage(id int, text string) *session.Message {
	return &session.Message{ID: id, Message: session.ChatMessage{
		Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(text)}}}
}

func rowCount(t *testing.T, r *Repository, table string) int {
	t.Helper()
	var n int
	require.NoError(t, r.reader.QueryRow("SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func TestCreateMessage_IDsMustBeDense(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{})
	seed(t, r, 2)
	ctx := context.Background()
	tests := []struct {
		name             string
		session, agent   string
		id               int
		want             error
		wantCountAfter   int
		wantStoredLength int
	}{
		{"id taken", "s1", "a1", 1, session.ErrConflict, 2, 2},
		{"gap", "s1", "a1", 3, session.ErrConflict, 2, 2},
		{"negative", "s1", "a1", -1, session.ErrInvalidArgument, 2, 2},
		{"missing agent", "s1", "nope", 0, session.ErrNotFound, 2, 2},
		{"missing session", "nope", "a1", 0, session.ErrNotFound, 2, 2},
		{"bad agent id", "s1", "a.b", 2, session.ErrInvalidArgument, 2, 2},
	}
	for _, tc := range tests {
		err := r.CreateMessage(ctx, tc.session, tc.agent, textMessage(tc.id, "x"))
		require.ErrorIs(t, err, tc.want, tc.name)
		assert.Contains(t, err.Error(), fmt.Sprintf("%q", tc.session), tc.name)
		n, err := r.CountMessages(ctx, "s1", "a1")
		require.NoError(t, err)
		assert.Equal(t, tc.wantCountAfter, n, tc.name)
	}
	require.NoError(t, r.CreateMessage(ctx, "s1", "a1", textMessage(2, "ok")))
	assert.Equal(t, 3, rowCount(t, r, "messages"))
}

func TestSchema_TriggerRejectsNonDenseInsert(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{})
	seed(t, r, 1)
	// Bypass the Go check: the schema alone must refuse a gap or a repeat.
	for _, id := range []int{0, 5} {
		_, err := r.writer.Exec(`INSERT INTO messages (session_id, agent_id, message_id, message, size_bytes, created_at, updated_at)
			VALUES ('s1', 'a1', ?, '{}', 2, 0, 0)`, id)
		require.Error(t, err, "id %d", id)
		assert.True(t, isConstraint(err), "id %d: %v", id, err)
	}
	_, err := r.writer.Exec(`INSERT INTO messages (session_id, agent_id, message_id, message, size_bytes, created_at, updated_at)
		VALUES ('s1', 'a1', 1, '{"role":"user","content":[]}', 2, 0, 0)`)
	require.NoError(t, err)
	n, err := r.CountMessages(context.Background(), "s1", "a1")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the trigger bumps the counter with the insert")
}

// appendWithRetry appends text as the agent's next message, re-reading the
// count after each conflict, and returns the id it got.
func appendWithRetry(ctx context.Context, r session.Repository, text string) (int, error) {
	for attempt := 0; attempt < 1000; attempt++ {
		n, err := r.CountMessages(ctx, "s1", "a1")
		if err != nil {
			return 0, err
		}
		err = r.CreateMessage(ctx, "s1", "a1", textMessage(n, text))
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, session.ErrConflict) {
			return 0, err
		}
	}
	return 0, errors.New("too many conflicts")
}

// checkExactlyOnce asserts the agent's log holds exactly the acknowledged
// texts, each once, at the acknowledged ids, with dense ids.
func checkExactlyOnce(t *testing.T, r session.Repository, acked map[string]int) {
	t.Helper()
	msgs, err := r.ListMessages(context.Background(), "s1", "a1", 0, 0)
	require.NoError(t, err)
	require.Len(t, msgs, len(acked))
	seen := map[string]bool{}
	for i, m := range msgs {
		require.Equal(t, i, m.ID, "ids are dense")
		text, _ := m.Message.Content[0].Text()
		require.False(t, seen[text], "%q stored twice", text)
		seen[text] = true
		id, ok := acked[text]
		require.True(t, ok, "%q stored but never acknowledged", text)
		require.Equal(t, id, m.ID, "%q stored at another id than acknowledged", text)
	}
}

func TestCreateMessage_ConcurrentWritersOnTwoRepositoriesNeverDuplicateIDs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r1 := openTest(t, dir, Options{})
	r2 := openTest(t, dir, Options{})
	seed(t, r1, 0)
	const writers, each = 4, 10
	var mu sync.Mutex
	acked := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		repo := session.Repository(r1)
		if w%2 == 1 {
			repo = r2
		}
		wg.Go(func() {
			for i := range each {
				text := fmt.Sprintf("w%d-%d", w, i)
				id, err := appendWithRetry(context.Background(), repo, text)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked[text] = id
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, acked, writers*each)
	checkExactlyOnce(t, r2, acked)
}

func TestValues_RoundTripCanonically(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	md := map[string]any{"int": int64(1), "float": 1.0, "bytes": []byte{0, 1, 0xff}, "empty": []byte{},
		"nested": map[string]any{"list": []any{int64(2), "x", nil, true}}, "big": int64(1) << 60}
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "user@example.com", Metadata: md,
		ViewerPasswordHash: "hash"}))
	got, err := r.GetSession(ctx, "user@example.com")
	require.NoError(t, err)
	assert.Equal(t, md, got.Metadata)
	assert.Equal(t, session.TypeAgent, got.Type)
	assert.Equal(t, "hash", got.ViewerPasswordHash)
	assert.Equal(t, driver.UTCMicro(fixedNow), got.CreatedAt)

	temp := 0.5
	agent := &session.Agent{ID: "a1", State: map[string]any{"n": int64(3)}, ConversationManagerState: map[string]any{},
		Config: session.AgentConfig{Model: "m", SystemPrompt: "p",
			PromptMetadata: &session.PromptMetadata{PromptID: "id", Temperature: &temp}}}
	require.NoError(t, r.CreateAgent(ctx, "user@example.com", agent))
	gotAgent, err := r.GetAgent(ctx, "user@example.com", "a1")
	require.NoError(t, err)
	assert.Equal(t, agent.State, gotAgent.State)
	assert.Equal(t, map[string]any{}, gotAgent.ConversationManagerState, "empty stays empty")
	assert.Nil(t, gotAgent.InternalState, "nil stays nil")
	assert.Equal(t, agent.Config, gotAgent.Config)

	msg := &session.Message{ID: 0,
		Message: session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{
			session.ToolUseBlock("t1", "calc", map[string]any{"x": int64(1), "y": 2.5}),
			{"image": map[string]any{"format": "png", "source": map[string]any{"bytes": []byte("PNG")}}},
		}, Metadata: map[string]any{"usage": map[string]any{"inputTokens": int64(5)}}, Extra: map[string]any{"tracking_id": "t"}},
		RedactMessage: &session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock("[redacted]")}},
		EventLoopMetrics: &session.EventLoopMetrics{AccumulatedUsage: session.Usage{InputTokens: 1, TotalTokens: 3},
			ToolUsage: map[string]session.ToolUsage{"calc": {CallCount: 1, SuccessRate: 1}}, InvocationUsage: &session.Usage{OutputTokens: 2}},
		GuardrailEvent: &session.GuardrailEvent{Action: "BLOCKED", Timestamp: fixedNow, StopReason: "guardrail_intervened",
			PoliciesTriggered: map[string][]string{"contentPolicy": {"HATE/HIGH"}}, Trace: map[string]any{"k": []byte("v")}},
	}
	require.NoError(t, r.CreateMessage(ctx, "user@example.com", "a1", msg))
	gotMsg, err := r.GetMessage(ctx, "user@example.com", "a1", 0)
	require.NoError(t, err)
	want, err := driver.PrepareMessage(msg, fixedNow)
	require.NoError(t, err)
	assert.Equal(t, want, gotMsg)
}

func TestMetadata_UpdateAndDeleteTouchOnlyNamedKeys(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s1", Metadata: map[string]any{"a": "1", "b": "2"}}))
	require.NoError(t, r.UpdateMetadata(ctx, "s1", map[string]any{"b": int64(3), "c": map[string]any{"x": true}}))
	require.NoError(t, r.DeleteMetadata(ctx, "s1", []string{"a", "absent"}))
	got, err := r.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"b": int64(3), "c": map[string]any{"x": true}}, got)

	for name, err := range map[string]error{
		"empty update":  r.UpdateMetadata(ctx, "s1", nil),
		"dotted key":    r.UpdateMetadata(ctx, "s1", map[string]any{"a.b": 1}),
		"dollar key":    r.DeleteMetadata(ctx, "s1", []string{"$x"}),
		"empty delete":  r.DeleteMetadata(ctx, "s1", nil),
		"unencodable":   r.UpdateMetadata(ctx, "s1", map[string]any{"f": func() {}}),
		"missing (upd)": r.UpdateMetadata(ctx, "nope", map[string]any{"a": 1}),
		"missing (del)": r.DeleteMetadata(ctx, "nope", []string{"a"}),
	} {
		require.Error(t, err, name)
		if strings.HasPrefix(name, "missing") {
			assert.ErrorIs(t, err, session.ErrNotFound, name)
		} else {
			assert.ErrorIs(t, err, session.ErrInvalidArgument, name)
		}
	}
	after, err := r.GetMetadata(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, got, after, "rejected writes change nothing")
}

func TestDeleteSession_CascadesToEveryTable(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	seed(t, r, 3)
	require.NoError(t, r.UpdateMetadata(ctx, "s1", map[string]any{"k": "v"}))
	one := 1
	_, err := r.AddFeedback(ctx, "s1", &session.Feedback{Rating: session.RatingUp, AgentID: "a1", MessageID: &one})
	require.NoError(t, err)
	require.NoError(t, r.RecordGuardrailEvent(ctx, "s1", "a1", 2, &session.GuardrailEvent{}))

	require.NoError(t, r.DeleteSession(ctx, "s1"))
	for _, table := range []string{"sessions", "session_metadata", "agents", "messages", "feedback", "guardrail_events"} {
		assert.Zero(t, rowCount(t, r, table), table)
	}
	require.ErrorIs(t, r.DeleteSession(ctx, "s1"), session.ErrNotFound)
	_, err = r.GetSession(ctx, "s1")
	require.ErrorIs(t, err, session.ErrNotFound)
}

func TestFeedbackAndGuardrails_TargetsMustExist(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{NewID: func() string { return "fb-1" }})
	ctx := context.Background()
	seed(t, r, 1)
	one, zero := 1, 0
	tests := []struct {
		name string
		f    *session.Feedback
		want error
	}{
		{"missing agent", &session.Feedback{AgentID: "nope"}, session.ErrNotFound},
		{"missing message", &session.Feedback{AgentID: "a1", MessageID: &one}, session.ErrNotFound},
		{"bad rating", &session.Feedback{Rating: "meh"}, session.ErrInvalidArgument},
		{"message without agent", &session.Feedback{MessageID: &zero}, session.ErrInvalidArgument},
	}
	for _, tc := range tests {
		_, err := r.AddFeedback(ctx, "s1", tc.f)
		assert.ErrorIs(t, err, tc.want, tc.name)
	}
	got, err := r.AddFeedback(ctx, "s1", &session.Feedback{Rating: session.RatingDown, Comment: "no", AgentID: "a1",
		MessageID: &zero, Extra: map[string]any{"n": int64(1)}})
	require.NoError(t, err)
	assert.Equal(t, "fb-1", got.ID)
	list, err := r.ListFeedback(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, []*session.Feedback{got}, list)

	require.ErrorIs(t, r.RecordGuardrailEvent(ctx, "s1", "a1", 1, &session.GuardrailEvent{}), session.ErrNotFound)
	require.NoError(t, r.RecordGuardrailEvent(ctx, "s1", "a1", 0, &session.GuardrailEvent{StopReason: "x",
		PoliciesTriggered: map[string][]string{"p": {"q"}}}))
	events, err := r.ListGuardrailEvents(ctx, "s1")
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, &session.SessionGuardrailEvent{AgentID: "a1", MessageID: 0, Action: "BLOCKED",
		Timestamp: driver.UTCMicro(fixedNow), StopReason: "x", PoliciesTriggered: map[string][]string{"p": {"q"}}}, events[0])
	m, err := r.GetMessage(ctx, "s1", "a1", 0)
	require.NoError(t, err)
	require.NotNil(t, m.GuardrailEvent)
	assert.Equal(t, "BLOCKED", m.GuardrailEvent.Action)
}

func TestListSessions_FiltersAndPages(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 7 {
		app := "a"
		if i%2 == 1 {
			app = "b"
		}
		require.NoError(t, r.CreateSession(ctx, &session.Session{ID: fmt.Sprintf("s%d", i), ApplicationName: app,
			CreatedAt: base.Add(time.Duration(i/2) * time.Hour), Metadata: map[string]any{"n": int64(i % 3)}}))
	}
	ids := func(q session.SessionQuery) ([]string, string) {
		t.Helper()
		p, err := r.ListSessions(ctx, q)
		require.NoError(t, err)
		var out []string
		for _, s := range p.Sessions {
			out = append(out, s.ID)
		}
		return out, p.NextCursor
	}
	all, next := ids(session.SessionQuery{})
	assert.Equal(t, []string{"s6", "s5", "s4", "s3", "s2", "s1", "s0"}, all, "newest first, then id descending")
	assert.Empty(t, next)

	var paged []string
	q := session.SessionQuery{Limit: 3}
	for pageNo := 0; ; pageNo++ {
		page, next := ids(q)
		paged = append(paged, page...)
		if next == "" {
			break
		}
		q.Cursor = next
		// A session inserted ahead of the cursor never shifts later pages.
		require.NoError(t, r.CreateSession(ctx, &session.Session{ID: fmt.Sprintf("new%d", pageNo), CreatedAt: base.Add(24 * time.Hour)}))
	}
	assert.Equal(t, all, paged)

	got, _ := ids(session.SessionQuery{ApplicationName: "b"})
	assert.Equal(t, []string{"s5", "s3", "s1"}, got)
	got, _ = ids(session.SessionQuery{Metadata: map[string]any{"n": 1}})
	assert.Equal(t, []string{"s4", "s1"}, got, "int filter matches stored int")
	got, _ = ids(session.SessionQuery{Metadata: map[string]any{"n": 1.0}})
	assert.Empty(t, got, "float 1.0 is not int 1")
	got, _ = ids(session.SessionQuery{CreatedFrom: base.Add(time.Hour), CreatedTo: base.Add(3 * time.Hour), IDPrefix: "s"})
	assert.Equal(t, []string{"s5", "s4", "s3", "s2"}, got)
	got, _ = ids(session.SessionQuery{IDPrefix: "new"})
	assert.Len(t, got, 2)

	_, err := r.ListSessions(ctx, session.SessionQuery{Cursor: "!!"})
	assert.ErrorIs(t, err, session.ErrInvalidArgument)
}

func TestPrefixUpperBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"abc", "abd", true},
		{"a\xff", "b", true},
		{"\xff\xff", "", false},
	}
	for _, tc := range tests {
		got, ok := prefixUpperBound(tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
	}
}

func TestSizeLimit_RejectsGrowthAndWritesNothing(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{MaxSessionBytes: 2000})
	ctx := context.Background()
	seed(t, r, 0)
	big := strings.Repeat("x", 1500)
	require.NoError(t, r.CreateMessage(ctx, "s1", "a1", textMessage(0, big)))
	err := r.CreateMessage(ctx, "s1", "a1", textMessage(1, big))
	require.ErrorIs(t, err, session.ErrTooLarge)
	n, err := r.CountMessages(ctx, "s1", "a1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.ErrorIs(t, r.UpdateMetadata(ctx, "s1", map[string]any{"k": big}), session.ErrTooLarge)

	// Shrinking is always allowed and frees room.
	require.NoError(t, r.UpdateMessage(ctx, "s1", "a1", textMessage(0, "small")))
	require.NoError(t, r.CreateMessage(ctx, "s1", "a1", textMessage(1, big)))

	var tracked, actual int64
	require.NoError(t, r.reader.QueryRow(`SELECT size_bytes FROM sessions WHERE id = 's1'`).Scan(&tracked))
	require.NoError(t, r.reader.QueryRow(`SELECT
		(SELECT COALESCE(SUM(size_bytes), 0) FROM messages WHERE session_id = 's1') +
		(SELECT COALESCE(SUM(size_bytes), 0) FROM agents WHERE session_id = 's1') +
		(SELECT COALESCE(SUM(size_bytes), 0) FROM session_metadata WHERE session_id = 's1')`).Scan(&actual))
	assert.Equal(t, actual, tracked, "incremental size matches the rows")
}

func TestUpdateAgent_KeepsConfigAndCreatedAt(t *testing.T) {
	t.Parallel()
	now := fixedNow
	r := openTest(t, t.TempDir(), Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s1"}))
	require.NoError(t, r.CreateAgent(ctx, "s1", &session.Agent{ID: "a1", Config: session.AgentConfig{Model: "m1"}}))
	now = fixedNow.Add(time.Minute)
	require.NoError(t, r.UpdateAgent(ctx, "s1", &session.Agent{ID: "a1", State: map[string]any{"k": "v"},
		Config: session.AgentConfig{Model: "ignored"}}))
	model := "m2"
	require.NoError(t, r.UpdateAgentConfig(ctx, "s1", "a1", session.AgentConfigPatch{Model: &model}))
	a, err := r.GetAgent(ctx, "s1", "a1")
	require.NoError(t, err)
	assert.Equal(t, "m2", a.Config.Model)
	assert.Equal(t, map[string]any{"k": "v"}, a.State)
	assert.Equal(t, driver.UTCMicro(fixedNow), a.CreatedAt)
	assert.Equal(t, driver.UTCMicro(now), a.UpdatedAt)

	bad := 3.0
	require.ErrorIs(t, r.UpdateAgentConfig(ctx, "s1", "a1", session.AgentConfigPatch{
		PromptMetadata: &session.PromptMetadata{Temperature: &bad}}), session.ErrInvalidArgument)
	require.ErrorIs(t, r.UpdateAgentConfig(ctx, "s1", "a1", session.AgentConfigPatch{}), session.ErrInvalidArgument)
	require.ErrorIs(t, r.UpdateAgentConfig(ctx, "s1", "ghost", session.AgentConfigPatch{Model: &model}), session.ErrNotFound)
	assert.Equal(t, 1, rowCount(t, r, "agents"), "no phantom agent")
}

func TestClose_LaterCallsReturnErrClosed(t *testing.T) {
	t.Parallel()
	r, err := Open(context.Background(), t.TempDir(), Options{})
	require.NoError(t, err)
	seed(t, r, 1)
	require.NoError(t, r.Ping(context.Background()))
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "idempotent")
	ctx := context.Background()
	_, err = r.GetSession(ctx, "s1")
	assert.ErrorIs(t, err, session.ErrClosed)
	assert.ErrorIs(t, r.CreateMessage(ctx, "s1", "a1", textMessage(1, "x")), session.ErrClosed)
	assert.ErrorIs(t, r.Ping(ctx), session.ErrClosed)
}

func TestContext_CancelledCallsFailWithoutWriting(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{})
	seed(t, r, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.CreateMessage(ctx, "s1", "a1", textMessage(0, "x"))
	require.ErrorIs(t, err, context.Canceled)
	_, err = r.ListMessages(ctx, "s1", "a1", 0, 0)
	require.ErrorIs(t, err, context.Canceled)
	n, err := r.CountMessages(context.Background(), "s1", "a1")
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestWrite_WaitsForAnotherConnectionsLockWithinDeadline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := openTest(t, dir, Options{BusyTimeout: 10 * time.Second})
	seed(t, r, 0)
	// A foreign connection holds the write lock, as another process would.
	other, err := sql.Open("sqlite", dsn(r.Path(), nil))
	require.NoError(t, err)
	defer other.Close()
	conn, err := other.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = r.CreateMessage(ctx, "s1", "a1", textMessage(0, "x"))
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "the deadline, not the busy timeout, ends the wait")

	_, err = conn.ExecContext(context.Background(), "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, r.CreateMessage(context.Background(), "s1", "a1", textMessage(0, "x")))
}

// holdWriteLock takes the file's write lock on a foreign connection, as
// another process would, and returns the function that releases it.
func holdWriteLock(t *testing.T, r *Repository) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite", dsn(r.Path(), nil))
	require.NoError(t, err)
	conn, err := other.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	require.NoError(t, err)
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, err := conn.ExecContext(context.Background(), "ROLLBACK")
			assert.NoError(t, err)
			_ = conn.Close()
			_ = other.Close()
		})
	}
	t.Cleanup(release)
	return release
}

func TestWrite_BusyIsRetriedAtMostMaxBusyRetriesTimes(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{BusyTimeout: 10 * time.Millisecond, MaxBusyRetries: 2})
	seed(t, r, 0)
	holdWriteLock(t, r)

	err := r.CreateMessage(context.Background(), "s1", "a1", textMessage(0, "x"))
	require.Error(t, err)
	assert.True(t, isBusy(err), "the busy error is returned once the retries are spent: %v", err)
	assert.Equal(t, 2.0, r.Stats()["sqlite_busy_retries_total"])
	n, err := r.CountMessages(context.Background(), "s1", "a1")
	require.NoError(t, err, "readers are not blocked by the writer (WAL)")
	assert.Zero(t, n, "nothing was written")
}

func TestWrite_BusyRetrySucceedsOnceTheLockIsReleased(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{BusyTimeout: 10 * time.Millisecond, MaxBusyRetries: 5})
	seed(t, r, 0)
	release := holdWriteLock(t, r)

	done := make(chan error, 1)
	go func() { done <- r.CreateMessage(context.Background(), "s1", "a1", textMessage(0, "x")) }()
	require.Eventually(t, func() bool { return r.Stats()["sqlite_busy_retries_total"] >= 1 },
		10*time.Second, time.Millisecond, "the write met the lock and is retrying")
	release()
	require.NoError(t, <-done)
	n, err := r.CountMessages(context.Background(), "s1", "a1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestOpen_RefusesNewerSchemaAndForeignFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dir := t.TempDir()
	r, err := Open(ctx, dir, Options{})
	require.NoError(t, err)
	path := r.Path()
	require.NoError(t, r.Close())
	raw, err := sql.Open("sqlite", dsn(path, nil))
	require.NoError(t, err)
	_, err = raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1))
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = Open(ctx, dir, Options{})
	require.ErrorIs(t, err, ErrSchemaTooNew)
	assert.Contains(t, err.Error(), fmt.Sprint(SchemaVersion()+1))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "a newer file is left untouched")

	foreign := t.TempDir()
	raw, err = sql.Open("sqlite", dsn(filepath.Join(foreign, DefaultFileName), nil))
	require.NoError(t, err)
	_, err = raw.Exec("CREATE TABLE notes (x TEXT)")
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	_, err = Open(ctx, foreign, Options{})
	require.ErrorIs(t, err, ErrNotSessionkit)
}

func TestMigrate_AppliesOnlyPendingStepsAndKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	r := openTest(t, dir, Options{})
	seed(t, r, 2)
	require.NoError(t, r.Close())

	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, DefaultFileName), url.Values{"_txlock": {"immediate"}}))
	require.NoError(t, err)
	defer db.Close()
	next := append(append([]string(nil), migrations...), `ALTER TABLE sessions ADD COLUMN archived INTEGER NOT NULL DEFAULT 0`)
	require.NoError(t, migrate(ctx, db, next))
	require.NoError(t, migrate(ctx, db, next), "re-running is a no-op")
	var version, archived, messages int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&version))
	require.NoError(t, db.QueryRow("SELECT archived FROM sessions WHERE id = 's1'").Scan(&archived))
	require.NoError(t, db.QueryRow("SELECT count(*) FROM messages").Scan(&messages))
	assert.Equal(t, len(next), version)
	assert.Zero(t, archived)
	assert.Equal(t, 2, messages)
	require.ErrorIs(t, migrate(ctx, db, migrations), ErrSchemaTooNew, "the older code refuses the migrated file")
}

func TestOpen_CreatesPrivateDirectoryAndFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	r := openTest(t, dir, Options{FileName: "x.db"})
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	st, err = os.Stat(filepath.Join(dir, "x.db"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	var mode string
	require.NoError(t, r.reader.QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)

	for _, bad := range []Options{{FileName: "../x.db"}, {MaxSessionBytes: -1}, {MaxReadConns: -2}} {
		_, err := Open(context.Background(), dir, bad)
		assert.ErrorIs(t, err, session.ErrInvalidArgument, "%+v", bad)
	}
}

func TestOptionsFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		dir     string
		opts    Options
		wantErr bool
	}{
		{raw: "sqlite:///var/lib/sk", dir: "/var/lib/sk"},
		{raw: "sqlite://./data/sk", dir: "./data/sk"},
		{raw: "sqlite://../sk", dir: "../sk"},
		{raw: "sqlite:///d?max_session_bytes=100&busy_timeout=2s&max_read_conns=2&file=a.db&max_busy_retries=5",
			dir: "/d", opts: Options{MaxSessionBytes: 100, BusyTimeout: 2 * time.Second, MaxReadConns: 2, FileName: "a.db", MaxBusyRetries: 5}},
		{raw: "sqlite://host/dir", wantErr: true},
		{raw: "sqlite://", wantErr: true},
		{raw: "sqlite:///d?typo=1", wantErr: true},
		{raw: "sqlite:///d?max_session_bytes=lots", wantErr: true},
		{raw: "sqlite:///d?max_snapshot_bytes=4096", dir: "/d", opts: Options{MaxSnapshotBytes: 4096}},
		{raw: "sqlite:///d?max_snapshot_bytes=-1", wantErr: true},
		{raw: "sqlite:///d?file=../x", wantErr: true},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.raw)
		require.NoError(t, err)
		dir, opts, err := OptionsFromURL(u)
		if tc.wantErr {
			assert.ErrorIs(t, err, session.ErrInvalidArgument, tc.raw)
			continue
		}
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.dir, dir, tc.raw)
		assert.Equal(t, tc.opts, opts, tc.raw)
	}
}

func TestSessionOpen_RegisteredScheme(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	repo, err := session.Open(ctx, "sqlite://"+dir+"?max_session_bytes=1000")
	require.NoError(t, err)
	defer repo.Close()
	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "s"}))
	r, ok := repo.(*Repository)
	require.True(t, ok)
	assert.Equal(t, int64(1000), r.opts.MaxSessionBytes)
	assert.Equal(t, filepath.Join(dir, DefaultFileName), r.Path())
}

func TestStats_CountWritesAndConflicts(t *testing.T) {
	t.Parallel()
	r := openTest(t, t.TempDir(), Options{})
	seed(t, r, 1)
	require.ErrorIs(t, r.CreateMessage(context.Background(), "s1", "a1", textMessage(0, "dup")), session.ErrConflict)
	st := r.Stats()
	assert.Equal(t, 3.0, st["sqlite_write_transactions_total"], "session, agent, message")
	assert.Equal(t, 1.0, st["sqlite_message_conflicts_total"])
	assert.Equal(t, float64(DefaultMaxReadConns), st["sqlite_max_read_connections"])
}
