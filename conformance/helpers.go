package conformance

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// caseTimeout bounds every case, so a backend that deadlocks fails instead
// of hanging the run.
const caseTimeout = 60 * time.Second

// setup returns a fresh repository and a context bounded by caseTimeout.
func setup(t *testing.T, h Harness) (context.Context, session.Repository) {
	t.Helper()
	r := h.NewRepository(t)
	require.NotNil(t, r, "Harness.NewRepository returned nil")
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	return ctx, r
}

// Fixed ids used by most cases.
const (
	sid = "test-session"
	aid = "test-agent"
)

func createSession(t *testing.T, ctx context.Context, r session.Repository, id string) {
	t.Helper()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id}), "CreateSession %q", id)
}

func createAgent(t *testing.T, ctx context.Context, r session.Repository, sessionID, agentID string) {
	t.Helper()
	require.NoError(t, r.CreateAgent(ctx, sessionID, &session.Agent{
		ID: agentID, State: map[string]any{"key": "value"},
	}), "CreateAgent %q/%q", sessionID, agentID)
}

// seed creates session sid with agent aid.
func seed(t *testing.T, ctx context.Context, r session.Repository) {
	t.Helper()
	createSession(t, ctx, r, sid)
	createAgent(t, ctx, r, sid, aid)
}

func text(role session.Role, s string) session.ChatMessage {
	return session.ChatMessage{Role: role, Content: []session.ContentBlock{session.TextBlock(s)}}
}

func msg(id int, s string) *session.Message {
	return &session.Message{ID: id, Message: text(session.RoleUser, s)}
}

// appendN appends messages "m<i>" with ids from the agent's count up, n in
// all.
func appendN(t *testing.T, ctx context.Context, r session.Repository, sessionID, agentID string, n int) {
	t.Helper()
	start, err := r.CountMessages(ctx, sessionID, agentID)
	require.NoError(t, err)
	for i := start; i < start+n; i++ {
		require.NoError(t, r.CreateMessage(ctx, sessionID, agentID, msg(i, fmt.Sprintf("m%d", i))), "CreateMessage %d", i)
	}
}

// textOf returns the text of a message's first content block.
func textOf(t *testing.T, m *session.Message) string {
	t.Helper()
	require.NotEmpty(t, m.Message.Content, "message %d has no content", m.ID)
	s, ok := m.Message.Content[0].Text()
	require.True(t, ok, "message %d: first block is not text: %v", m.ID, m.Message.Content[0])
	return s
}

// requireIDs checks that msgs carry exactly the ids want, in order.
func requireIDs(t *testing.T, want []int, msgs []*session.Message) {
	t.Helper()
	got := make([]int, len(msgs))
	for i, m := range msgs {
		got[i] = m.ID
	}
	if want == nil {
		want = []int{}
	}
	require.Equal(t, want, got)
}

func seq(from, to int) []int {
	out := []int{}
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// sameTime asserts want and got are the same instant at the backend's
// precision, and that got is UTC.
func sameTime(t *testing.T, h Harness, want, got time.Time, what string) {
	t.Helper()
	p := h.Capabilities.TimePrecision
	assert.Truef(t, want.Truncate(p).Equal(got.Truncate(p)), "%s: want %s, got %s (precision %s)", what, want, got, p)
	assert.Equalf(t, time.UTC, got.Location(), "%s is not UTC", what)
}

// requireIs asserts errors.Is(err, target) with a readable message.
func requireIs(t *testing.T, err, target error, what string) {
	t.Helper()
	require.Errorf(t, err, "%s: want an error matching %v, got nil", what, target)
	require.Truef(t, errors.Is(err, target), "%s: want an error matching %v, got %v", what, target, err)
}

// sessionDump is everything readable under one session.
type sessionDump struct {
	Session    *session.Session
	Metadata   map[string]any
	Agents     []*session.Agent
	Messages   map[string][]*session.Message
	Feedback   []*session.Feedback
	Guardrails []*session.SessionGuardrailEvent
}

// dumpSession reads everything under sessionID.
func dumpSession(t *testing.T, ctx context.Context, r session.Repository, sessionID string) sessionDump {
	t.Helper()
	var d sessionDump
	var err error
	d.Session, err = r.GetSession(ctx, sessionID)
	require.NoError(t, err)
	d.Metadata, err = r.GetMetadata(ctx, sessionID)
	require.NoError(t, err)
	d.Agents, err = r.ListAgents(ctx, sessionID)
	require.NoError(t, err)
	d.Messages = map[string][]*session.Message{}
	for _, a := range d.Agents {
		d.Messages[a.ID], err = r.ListMessages(ctx, sessionID, a.ID, 0, 0)
		require.NoError(t, err)
	}
	d.Feedback, err = r.ListFeedback(ctx, sessionID)
	require.NoError(t, err)
	d.Guardrails, err = r.ListGuardrailEvents(ctx, sessionID)
	require.NoError(t, err)
	return d
}

// storeDump is everything readable in a repository.
type storeDump struct {
	IDs      []string
	Sessions map[string]sessionDump
}

// dumpStore reads every session, following ListSessions cursors.
func dumpStore(t *testing.T, ctx context.Context, r session.Repository) storeDump {
	t.Helper()
	d := storeDump{IDs: []string{}, Sessions: map[string]sessionDump{}}
	for _, s := range listAll(t, ctx, r, session.SessionQuery{}) {
		d.IDs = append(d.IDs, s.ID)
		d.Sessions[s.ID] = dumpSession(t, ctx, r, s.ID)
	}
	return d
}

// listAll follows cursors to the end and returns every session listed. It
// fails on a page over the limit and on a loop that does not end.
func listAll(t *testing.T, ctx context.Context, r session.Repository, q session.SessionQuery) []*session.Session {
	t.Helper()
	limit := q.Limit
	if limit == 0 {
		limit = session.DefaultPageSize
	}
	var out []*session.Session
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "ListSessions cursors do not end")
		page, err := r.ListSessions(ctx, q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Sessions), limit, "page larger than the limit")
		out = append(out, page.Sessions...)
		if page.NextCursor == "" {
			return out
		}
		require.NotEqual(t, q.Cursor, page.NextCursor, "cursor did not advance")
		q.Cursor = page.NextCursor
	}
}

func sessionIDs(ss []*session.Session) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

// normalized returns driver.Normalize(v) or fails.
func normalized(t *testing.T, v any) any {
	t.Helper()
	n, err := driver.Normalize("test", v)
	require.NoError(t, err)
	return n
}

// normalizedBlocks returns blocks in canonical form.
func normalizedBlocks(t *testing.T, blocks []session.ContentBlock) []session.ContentBlock {
	t.Helper()
	out := make([]session.ContentBlock, len(blocks))
	for i, b := range blocks {
		out[i] = session.ContentBlock(normalized(t, map[string]any(b)).(map[string]any))
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// contextFor returns a context bounded by caseTimeout for helpers that do
// not get one from setup.
func contextFor(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(context.Background(), caseTimeout)
}
