package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// preparedAppender returns r as a driver.PreparedAppender, or skips the
// case when it is not one (decorators need not be) or is a decorator whose
// inner repository cannot append and says so with errors.ErrUnsupported
// (probed on a session that does not exist, which writes nothing).
func preparedAppender(t *testing.T, r session.Repository) driver.PreparedAppender {
	t.Helper()
	pa, ok := r.(driver.PreparedAppender)
	if !ok {
		t.Skip("the repository is not a session.PreparedAppender")
	}
	_, err := pa.AppendPrepared(context.Background(), "appender-probe", aid, prepared(t, msg(0, "probe")))
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the repository does not support AppendPrepared: %v", err)
	}
	requireIs(t, err, session.ErrNotFound, "AppendPrepared to a missing session")
	return pa
}

// prepared returns m prepared at base.
func prepared(t *testing.T, m *session.Message) *driver.PreparedMessage {
	t.Helper()
	p, err := driver.NewPreparedMessage(m, base)
	require.NoError(t, err)
	return p
}

// richMessage has a value of every kind a careless backend would share.
func richMessage() *session.Message {
	redacted := text(session.RoleUser, "***")
	return &session.Message{
		Message:          session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.ToolUseBlock("t", "n", map[string]any{"in": []any{"x"}})}},
		RedactMessage:    &redacted,
		EventLoopMetrics: metrics(),
		GuardrailEvent:   guardrailEvent(),
	}
}

// preparedCases run on repositories with the validate-once fast paths
// (driver.PreparedAppender, driver.SharedMessageLister): what they store
// and return is what the slow paths store and return, and no caller can
// change the store through what it receives.
func preparedCases() []testCase {
	return []testCase{
		{"AppendPrepared", "StoresWhatWasPreparedAndKeepsItUnchanged", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			pa := preparedAppender(t, r)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 1)
			in := richMessage()
			in.ID = 7
			p := prepared(t, in)
			want := p.Message().Clone()
			id, err := pa.AppendPrepared(ctx, sid, aid, p)
			require.NoError(t, err)
			assert.Equal(t, 1, id)
			assert.Equal(t, want, p.Message(), "AppendPrepared changed the prepared message")
			got, err := r.GetMessage(ctx, sid, aid, 1)
			require.NoError(t, err)
			assert.Equal(t, 1, got.ID)
			assert.Equal(t, want.Message, got.Message)
			assert.Equal(t, want.RedactMessage, got.RedactMessage)
			assert.Equal(t, want.EventLoopMetrics, got.EventLoopMetrics)
			assert.Equal(t, want.GuardrailEvent.PoliciesTriggered, got.GuardrailEvent.PoliciesTriggered)
			sameTime(t, h, base, got.CreatedAt, "CreatedAt")

			// What readers get back is theirs to change.
			scribbleMessage(got)
			list, err := r.ListMessages(ctx, sid, aid, 1, 0)
			require.NoError(t, err)
			require.Len(t, list, 1)
			scribbleMessage(list[0])
			again, err := r.GetMessage(ctx, sid, aid, 1)
			require.NoError(t, err)
			assert.Equal(t, want.Message, again.Message, "a reader's change reached the store")
			assert.Equal(t, want.EventLoopMetrics, again.EventLoopMetrics)
		}},
		{"AppendPrepared", "MissingSessionOrAgentOrNilIsRejected", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			pa := preparedAppender(t, r)
			seed(t, ctx, r)
			before := dumpStore(t, ctx, r)
			for _, tt := range []struct {
				name, session, agent string
				p                    *driver.PreparedMessage
				want                 error
			}{
				{"missing session", "missing", aid, prepared(t, msg(0, "x")), session.ErrNotFound},
				{"missing agent", sid, "missing", prepared(t, msg(0, "x")), session.ErrNotFound},
				{"bad session id", "a/b", aid, prepared(t, msg(0, "x")), session.ErrInvalidArgument},
				{"nil message", sid, aid, nil, session.ErrInvalidArgument},
			} {
				_, err := pa.AppendPrepared(ctx, tt.session, tt.agent, tt.p)
				requireIs(t, err, tt.want, tt.name)
			}
			assert.Equal(t, before, dumpStore(t, ctx, r), "a failed AppendPrepared wrote")
		}},
		{"AppendPrepared", "OverSizeLimitIsTooLarge", func(t *testing.T, h Harness) {
			limit := h.Capabilities.SizeLimit
			if limit <= 0 {
				t.Skip("the backend declares no size limit (Capabilities.SizeLimit is 0)")
			}
			ctx, r := setup(t, h)
			pa := preparedAppender(t, r)
			seed(t, ctx, r)
			before := dumpSession(t, ctx, r, sid)
			_, err := pa.AppendPrepared(ctx, sid, aid, prepared(t, msg(0, strings.Repeat("b", limit+1))))
			requireIs(t, err, session.ErrTooLarge, "AppendPrepared over the limit")
			assert.Equal(t, before, dumpSession(t, ctx, r, sid), "a rejected append changed the session")
			id, err := pa.AppendPrepared(ctx, sid, aid, prepared(t, msg(0, "small")))
			require.NoError(t, err)
			assert.Equal(t, 0, id, "the rejected append took no id")
		}},
		{"AppendPrepared", "ConcurrentAppendersGetDenseIDs", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			preparedAppender(t, r)
			seed(t, ctx, r)
			add := func(ctx context.Context, r session.Repository, sessionID, agentID, s string) (int, error) {
				p, err := driver.NewPreparedMessage(msg(0, s), time.Now())
				if err != nil {
					return 0, err
				}
				return r.(driver.PreparedAppender).AppendPrepared(ctx, sessionID, agentID, p)
			}
			concurrentAppends(t, ctx, []session.Repository{r}, h.Capabilities.Appenders, 4, add)
		}},
		{"ListMessagesShared", "MatchesListMessagesAndStaysAsStored", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			sl, ok := r.(driver.SharedMessageLister)
			if !ok {
				t.Skip("the repository is not a session.SharedMessageLister")
			}
			seed(t, ctx, r)
			in := richMessage()
			require.NoError(t, r.CreateMessage(ctx, sid, aid, in))
			appendN(t, ctx, r, sid, aid, 3)
			for _, page := range []struct{ offset, limit int }{{0, 0}, {1, 2}, {3, 0}, {9, 0}} {
				want, err := r.ListMessages(ctx, sid, aid, page.offset, page.limit)
				require.NoError(t, err)
				got, err := sl.ListMessagesShared(ctx, sid, aid, page.offset, page.limit)
				require.NoError(t, err)
				assert.Equal(t, want, got, "offset %d limit %d", page.offset, page.limit)
			}
			_, err := sl.ListMessagesShared(ctx, sid, "missing", 0, 0)
			requireIs(t, err, session.ErrNotFound, "ListMessagesShared of a missing agent")

			// Stored values are immutable: an update replaces the record,
			// so what a shared reader holds does not change under it.
			held, err := sl.ListMessagesShared(ctx, sid, aid, 0, 1)
			require.NoError(t, err)
			want := held[0].Clone()
			upd := held[0].Clone()
			upd.Message = text(session.RoleAssistant, "updated")
			upd.RedactMessage = nil
			require.NoError(t, r.UpdateMessage(ctx, sid, aid, upd))
			require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 0, guardrailEvent()))
			assert.Equal(t, want, held[0], "an update changed a stored value in place")
		}},
	}
}

// agentMessageCases run on repositories that are driver.AgentMessageUpdater.
func agentMessageCases() []testCase {
	return []testCase{
		{"UpdateAgentAndMessage", "WritesBothOrNeither", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			u, ok := r.(driver.AgentMessageUpdater)
			if !ok {
				t.Skip("the repository is not a session.AgentMessageUpdater")
			}
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 1)
			stored, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			upd := stored.Clone()
			upd.EventLoopMetrics = metrics()
			require.NoError(t, u.UpdateAgentAndMessage(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"k": "v2"}}, upd))
			a, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"k": "v2"}, a.State)
			got, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Equal(t, metrics(), got.EventLoopMetrics)
			assert.Equal(t, stored.Message, got.Message)

			before := dumpStore(t, ctx, r)
			missing := upd.Clone()
			missing.ID = 5
			badRole := upd.Clone()
			badRole.Message.Role = "system"
			for _, tt := range []struct {
				name string
				a    *session.Agent
				m    *session.Message
				want error
			}{
				{"missing message", &session.Agent{ID: aid, State: map[string]any{"k": "v3"}}, missing, session.ErrNotFound},
				{"missing agent", &session.Agent{ID: "missing", State: map[string]any{"k": "v3"}}, upd, session.ErrNotFound},
				{"nil agent", nil, upd, session.ErrInvalidArgument},
				{"nil message", &session.Agent{ID: aid, State: map[string]any{"k": "v3"}}, nil, session.ErrInvalidArgument},
				{"bad role", &session.Agent{ID: aid, State: map[string]any{"k": "v3"}}, badRole, session.ErrInvalidArgument},
			} {
				requireIs(t, u.UpdateAgentAndMessage(ctx, sid, tt.a, tt.m), tt.want, tt.name)
			}
			assert.Equal(t, before, dumpStore(t, ctx, r), "a failed UpdateAgentAndMessage wrote")
		}},
	}
}
