package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// appender returns r as a session.MessageAppender, or skips the case when
// the repository does not have the capability: either it lacks the method,
// or it is a decorator whose inner repository lacks it and says so with
// errors.ErrUnsupported (probed on a session that does not exist, which
// writes nothing).
func appender(t *testing.T, ctx context.Context, r session.Repository) session.MessageAppender {
	t.Helper()
	ap, ok := r.(session.MessageAppender)
	if !ok {
		t.Skip("the repository is not a session.MessageAppender")
	}
	_, err := ap.AppendMessage(ctx, "appender-probe", aid, msg(0, "probe"))
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the repository does not support AppendMessage: %v", err)
	}
	requireIs(t, err, session.ErrNotFound, "AppendMessage to a missing session")
	return ap
}

// appendAtEnd is the append function of concurrentAppends for
// AppendMessage.
func appendAtEnd(ctx context.Context, r session.Repository, sessionID, agentID, text string) (int, error) {
	return r.(session.MessageAppender).AppendMessage(ctx, sessionID, agentID, msg(0, text))
}

// appendCases run only on repositories that implement
// session.MessageAppender: AppendMessage keeps CreateMessage's contract
// except that the store picks the id, so concurrent appenders never
// conflict.
func appendCases() []testCase {
	return []testCase{
		{"AppendMessage", "AssignsTheNextIDAndIgnoresTheGivenOne", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ap := appender(t, ctx, r)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 2)
			in := &session.Message{ID: 99, Message: text(session.RoleAssistant, "third"), CreatedAt: base, UpdatedAt: base}
			id, err := ap.AppendMessage(ctx, sid, aid, in)
			require.NoError(t, err)
			assert.Equal(t, 2, id)
			assert.Equal(t, 99, in.ID, "AppendMessage must not modify its argument")
			got, err := r.GetMessage(ctx, sid, aid, 2)
			require.NoError(t, err)
			assert.Equal(t, 2, got.ID)
			assert.Equal(t, "third", textOf(t, got))
			assert.Equal(t, session.RoleAssistant, got.Message.Role)
			sameTime(t, h, base, got.CreatedAt, "CreatedAt")
			id, err = ap.AppendMessage(ctx, sid, aid, msg(0, "fourth"))
			require.NoError(t, err)
			assert.Equal(t, 3, id)
			n, err := r.CountMessages(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, 4, n)
		}},
		{"AppendMessage", "ConcurrentAppendersGetDenseIDs", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			appender(t, ctx, r)
			seed(t, ctx, r)
			concurrentAppends(t, ctx, []session.Repository{r}, h.Capabilities.Appenders, 4, appendAtEnd)
		}},
		{"AppendMessage", "MixesWithCreateMessage", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ap := appender(t, ctx, r)
			seed(t, ctx, r)
			// Half the writes append at the end, half create at the count
			// with retries: both kinds of write share one log.
			mixed := func(ctx context.Context, r session.Repository, sessionID, agentID, text string) (int, error) {
				if strings.HasSuffix(text, "-0") || strings.HasSuffix(text, "-2") {
					return appendAtEnd(ctx, r, sessionID, agentID, text)
				}
				return appendWithRetry(ctx, r, sessionID, agentID, text)
			}
			writers := min(16, h.Capabilities.Appenders)
			concurrentAppends(t, ctx, []session.Repository{r}, writers, 4, mixed)
			n := writers * 4
			// An explicit id an append took is a conflict, as ever.
			requireIs(t, r.CreateMessage(ctx, sid, aid, msg(n-1, "stale")), session.ErrConflict, "CreateMessage of an id AppendMessage took")
			require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(n, "explicit")))
			id, err := ap.AppendMessage(ctx, sid, aid, msg(0, "after"))
			require.NoError(t, err)
			assert.Equal(t, n+1, id)
		}},
		{"AppendMessage", "MissingSessionOrAgentIsNotFound", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ap := appender(t, ctx, r)
			seed(t, ctx, r)
			before := dumpStore(t, ctx, r)
			for _, tt := range []struct{ name, session, agent string }{
				{"missing session", "missing", aid},
				{"missing agent", sid, "missing"},
			} {
				_, err := ap.AppendMessage(ctx, tt.session, tt.agent, msg(0, "x"))
				requireIs(t, err, session.ErrNotFound, tt.name)
			}
			assert.Equal(t, before, dumpStore(t, ctx, r), "a failed AppendMessage wrote")
		}},
		{"AppendMessage", "OverSizeLimitIsTooLarge", func(t *testing.T, h Harness) {
			limit := h.Capabilities.SizeLimit
			if limit <= 0 {
				t.Skip("the backend declares no size limit (Capabilities.SizeLimit is 0)")
			}
			ctx, r := setup(t, h)
			ap := appender(t, ctx, r)
			seed(t, ctx, r)
			id, err := ap.AppendMessage(ctx, sid, aid, msg(0, strings.Repeat("a", limit*9/10)))
			require.NoError(t, err, "a message of 90%% of the limit must fit")
			require.Equal(t, 0, id)
			before := dumpSession(t, ctx, r, sid)
			_, err = ap.AppendMessage(ctx, sid, aid, msg(0, strings.Repeat("b", limit+1)))
			requireIs(t, err, session.ErrTooLarge, "AppendMessage over the limit")
			assert.Equal(t, before, dumpSession(t, ctx, r, sid), "a rejected append changed the session")
			id, err = ap.AppendMessage(ctx, sid, aid, msg(0, "small"))
			require.NoError(t, err)
			assert.Equal(t, 1, id, "the rejected append took no id")
		}},
		{"AppendMessage", "BadInputWritesNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ap := appender(t, ctx, r)
			seedFull(t, ctx, r)
			before := dumpStore(t, ctx, r)
			tests := []struct {
				name             string
				session, agent   string
				m                *session.Message
				wantFieldMention string
			}{
				{"nil message", sid, aid, nil, "message"},
				{"empty session id", "", aid, msg(0, "x"), "session"},
				{"session id with slash", "a/b", aid, msg(0, "x"), "session"},
				{"empty agent id", sid, "", msg(0, "x"), "agent"},
				{"agent id with dot", sid, "a.b", msg(0, "x"), "agent"},
				{"bad role", sid, aid, &session.Message{Message: session.ChatMessage{Role: "system"}}, "role"},
				{"bad redact role", sid, aid, &session.Message{Message: text(session.RoleUser, "x"),
					RedactMessage: &session.ChatMessage{Role: "system"}}, "role"},
				{"content that is no value", sid, aid, &session.Message{Message: session.ChatMessage{Role: session.RoleUser,
					Content: []session.ContentBlock{{"f": func() {}}}}}, ""},
			}
			for _, tt := range tests {
				_, err := ap.AppendMessage(ctx, tt.session, tt.agent, tt.m)
				requireIs(t, err, session.ErrInvalidArgument, tt.name)
				assert.Contains(t, strings.ToLower(err.Error()), tt.wantFieldMention, "%s: the error names the field", tt.name)
			}
			assert.Equal(t, before, dumpStore(t, ctx, r), "a rejected AppendMessage wrote")
		}},
		{"Peer", "ConcurrentAppendMessageThroughBothLosesNothing", func(t *testing.T, h Harness) {
			if h.NewPeer == nil {
				t.Skip("the harness has no NewPeer: the backend does not share a store between instances")
			}
			ctx, r := setup(t, h)
			appender(t, ctx, r)
			p := h.NewPeer(t, r)
			require.NotNil(t, p)
			appender(t, ctx, p)
			seed(t, ctx, r)
			concurrentAppends(t, ctx, []session.Repository{r, p}, max(h.Capabilities.Appenders/2, 1), 4, appendAtEnd)
		}},
	}
}

// appendFunc appends a message holding text to the agent and returns the
// id it was stored under.
type appendFunc func(ctx context.Context, r session.Repository, sessionID, agentID, text string) (int, error)

// concurrentAppends runs one appending goroutine per writer (each writing
// perWriter messages "writer-<w>-<i>" with add, alternating over repos)
// and checks that every acknowledged message is stored exactly once, under
// the id it was given, with ids dense from 0.
func concurrentAppends(t *testing.T, ctx context.Context, repos []session.Repository, writers, perWriter int, add appendFunc) {
	t.Helper()
	type ack struct {
		id   int
		text string
	}
	acks := make(chan ack, writers*perWriter)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			r := repos[w%len(repos)]
			for i := range perWriter {
				text := fmt.Sprintf("writer-%d-%d", w, i)
				id, err := add(ctx, r, sid, aid, text)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", text, err)
					return
				}
				acks <- ack{id, text}
			}
		})
	}
	close(start)
	wg.Wait()
	close(acks)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	byID := map[int]string{}
	for a := range acks {
		prev, dup := byID[a.id]
		require.False(t, dup, "id %d acknowledged to both %q and %q", a.id, prev, a.text)
		byID[a.id] = a.text
	}
	total := writers * perWriter
	require.Len(t, byID, total)
	for _, r := range repos {
		msgs, err := r.ListMessages(ctx, sid, aid, 0, 0)
		require.NoError(t, err)
		requireIDs(t, seq(0, total), msgs)
		seen := map[string]bool{}
		for _, m := range msgs {
			got := textOf(t, m)
			assert.Equal(t, byID[m.ID], got, "message %d holds another writer's content", m.ID)
			assert.False(t, seen[got], "%q stored twice", got)
			seen[got] = true
		}
		n, err := r.CountMessages(ctx, sid, aid)
		require.NoError(t, err)
		assert.Equal(t, total, n)
	}
}
