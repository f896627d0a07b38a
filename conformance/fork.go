package conformance

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Fork with lineage (session.Forker). The cases run only on repositories
// implementing the role and skip with a reason otherwise; a decorator over
// a repository without it reports errors.ErrUnsupported, probed with a fork
// of a session that does not exist.

// forker returns r's Forker or skips the case.
func forker(t *testing.T, r session.Repository) session.Forker {
	t.Helper()
	f, ok := r.(session.Forker)
	if !ok {
		t.Skipf("%T does not implement session.Forker", r)
	}
	_, err := f.ForkSession(context.Background(), session.ForkRequest{SourceID: "conformance-probe-missing", ID: "conformance-probe-fork"})
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the repository does not fork sessions: %v", err)
	}
	return f
}

// seedForkSource builds a session worth forking: metadata, an application,
// two agents with messages (one redacted, with metrics and a guardrail
// event), feedback, and, where the roles exist, an orchestrator and a
// snapshot.
func seedForkSource(t *testing.T, ctx context.Context, r session.Repository) {
	t.Helper()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid, ApplicationName: "fork-app",
		ViewerPasswordHash: driver.HashViewerPassword("source-password"),
		Metadata:           map[string]any{"topic": "billing", "n": int64(3), "nested": map[string]any{"f": 1.5}}}))
	require.NoError(t, r.CreateAgent(ctx, sid, &session.Agent{ID: aid,
		State:                    map[string]any{"key": "value"},
		ConversationManagerState: map[string]any{"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(4)},
		InternalState:            map[string]any{"interrupt_state": map[string]any{"activated": false}},
		Config:                   session.AgentConfig{Model: "model-1", SystemPrompt: "be brief"},
	}))
	appendN(t, ctx, r, sid, aid, 5)
	redacted := msg(1, "m1")
	redacted.RedactMessage = ptr(text(session.RoleUser, "[redacted]"))
	redacted.EventLoopMetrics = metrics()
	require.NoError(t, r.UpdateMessage(ctx, sid, aid, redacted))
	require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 1, guardrailEvent()))
	createAgent(t, ctx, r, sid, "other-agent")
	appendN(t, ctx, r, sid, "other-agent", 2)
	_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, Comment: "good"})
	require.NoError(t, err)
	if m, ok := r.(session.MultiAgentStore); ok {
		err := m.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: graphState("executing")})
		if !errors.Is(err, errors.ErrUnsupported) {
			require.NoError(t, err)
		}
	}
	if s, ok := r.(session.SnapshotStore); ok {
		_, err := s.PutSnapshot(ctx, sid, latestKey, []byte(`{"snapshot":1}`))
		if !errors.Is(err, errors.ErrUnsupported) {
			require.NoError(t, err)
		}
	}
}

// listMultiAgents returns the session's orchestrators, or nil when the
// repository does not store them.
func listMultiAgents(t *testing.T, ctx context.Context, r session.Repository, sessionID string) []*session.MultiAgent {
	t.Helper()
	m, ok := r.(session.MultiAgentStore)
	if !ok {
		return nil
	}
	list, err := m.ListMultiAgents(ctx, sessionID)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	require.NoError(t, err)
	return list
}

// snapshotContents returns the session's snapshots by key, or nil when the
// repository does not store them.
func snapshotContents(t *testing.T, ctx context.Context, r session.Repository, sessionID string) map[string]string {
	t.Helper()
	s, ok := r.(session.SnapshotStore)
	if !ok {
		return nil
	}
	page, err := s.ListSnapshots(ctx, sessionID, session.SnapshotQuery{})
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	require.NoError(t, err)
	out := map[string]string{}
	for _, info := range page.Snapshots {
		snap, err := s.GetSnapshot(ctx, sessionID, info.Key)
		require.NoError(t, err)
		out[info.Key] = string(snap.Data)
	}
	return out
}

func forkCases() []testCase {
	return []testCase{
		{"Fork", "WholeSessionCopiesAgentsMessagesMetadataOrchestratorsSnapshots", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			f := forker(t, r)
			seedForkSource(t, ctx, r)
			before := dumpSession(t, ctx, r, sid)

			got, err := f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: "fork-1"})
			require.NoError(t, err)
			require.Equal(t, "fork-1", got.ID)
			require.NotNil(t, got.ForkedFrom)
			assert.Equal(t, sid, got.ForkedFrom.SessionID)
			assert.Empty(t, got.ForkedFrom.AgentID)
			assert.Nil(t, got.ForkedFrom.MessageID)
			sameTime(t, h, got.CreatedAt, got.ForkedFrom.At, "ForkedFrom.At")

			fork := dumpSession(t, ctx, r, "fork-1")
			assert.Equal(t, "fork-app", fork.Session.ApplicationName, "a fork belongs to the source's application")
			assert.Equal(t, before.Session.Type, fork.Session.Type)
			assert.Equal(t, before.Metadata, fork.Metadata)
			assert.Equal(t, before.Session.Metadata, fork.Session.Metadata)
			assert.Equal(t, before.Agents, fork.Agents, "agents, with state, configuration and times")
			assert.Equal(t, before.Messages, fork.Messages, "messages, with redactions, metrics and guardrail events")
			assert.Empty(t, fork.Feedback, "feedback judges the source conversation")
			assert.Empty(t, fork.Guardrails, "session guardrail events are the source's audit trail")
			assert.False(t, driver.VerifyViewerPassword(fork.Session.ViewerPasswordHash, "source-password"),
				"the viewer password is not copied")
			assert.False(t, fork.Session.CreatedAt.Before(before.Session.CreatedAt), "the fork is created now")
			require.NotNil(t, fork.Session.ForkedFrom, "GetSession returns the lineage")
			assert.Equal(t, got.ForkedFrom.SessionID, fork.Session.ForkedFrom.SessionID)
			sameTime(t, h, got.ForkedFrom.At, fork.Session.ForkedFrom.At, "stored ForkedFrom.At")
			assert.Equal(t, listMultiAgents(t, ctx, r, sid), listMultiAgents(t, ctx, r, "fork-1"))
			assert.Equal(t, snapshotContents(t, ctx, r, sid), snapshotContents(t, ctx, r, "fork-1"))

			after := dumpSession(t, ctx, r, sid)
			assert.Equal(t, before, after, "the source is unchanged")
			assert.Nil(t, after.Session.ForkedFrom, "the source is not a fork")
		}},
		{"Fork", "AgentUpToMessageCopiesPrefixAndClearsLaterState", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			f := forker(t, r)
			seedForkSource(t, ctx, r)
			src := dumpSession(t, ctx, r, sid)

			got, err := f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: "fork-2", AgentID: aid, MessageID: ptr(2)})
			require.NoError(t, err)
			require.NotNil(t, got.ForkedFrom)
			assert.Equal(t, aid, got.ForkedFrom.AgentID)
			require.NotNil(t, got.ForkedFrom.MessageID)
			assert.Equal(t, 2, *got.ForkedFrom.MessageID)

			fork := dumpSession(t, ctx, r, "fork-2")
			require.Len(t, fork.Agents, 1, "only the named agent")
			a := fork.Agents[0]
			assert.Equal(t, aid, a.ID)
			assert.Equal(t, map[string]any{"key": "value"}, a.State)
			assert.Equal(t, "model-1", a.Config.Model)
			assert.Equal(t, map[string]any{"__name__": "SlidingWindowConversationManager",
				"removed_message_count": int64(0), "model_call_count": int64(0)}, a.ConversationManagerState,
				"the window state describes messages after the cut: a fresh window of the same class")
			assert.Equal(t, map[string]any{
				"interrupt_state": map[string]any{"interrupts": map[string]any{}, "context": map[string]any{}, "activated": false},
				"model_state":     map[string]any{},
			}, a.InternalState, "a fresh agent's internal state")
			assert.Equal(t, src.Messages[aid][:3], fork.Messages[aid])
			assert.Equal(t, src.Metadata, fork.Metadata)
			assert.Empty(t, listMultiAgents(t, ctx, r, "fork-2"))
			assert.Empty(t, snapshotContents(t, ctx, r, "fork-2"))
			n, err := r.CountMessages(ctx, "fork-2", aid)
			require.NoError(t, err)
			assert.Equal(t, 3, n)
			require.NotNil(t, fork.Session.ForkedFrom)
			require.NotNil(t, fork.Session.ForkedFrom.MessageID)
			assert.Equal(t, 2, *fork.Session.ForkedFrom.MessageID)
		}},
		{"Fork", "AgentWithoutMessageIDCopiesWholeLogAndState", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			f := forker(t, r)
			seedForkSource(t, ctx, r)
			src := dumpSession(t, ctx, r, sid)

			got, err := f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: "fork-3", AgentID: aid})
			require.NoError(t, err)
			require.NotNil(t, got.ForkedFrom.MessageID)
			assert.Equal(t, 4, *got.ForkedFrom.MessageID, "the last message copied")
			fork := dumpSession(t, ctx, r, "fork-3")
			require.Len(t, fork.Agents, 1)
			srcAgent, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, srcAgent, fork.Agents[0], "state kept when nothing is cut")
			assert.Equal(t, src.Messages[aid], fork.Messages[aid])

			// The last message is a valid cut too, and keeps the state.
			_, err = f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: "fork-4", AgentID: aid, MessageID: ptr(4)})
			require.NoError(t, err)
			a, err := r.GetAgent(ctx, "fork-4", aid)
			require.NoError(t, err)
			assert.Equal(t, srcAgent, a)
		}},
		{"Fork", "ForkIsIndependentOfSource", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			f := forker(t, r)
			seedForkSource(t, ctx, r)
			_, err := f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: "fork-5", AgentID: aid, MessageID: ptr(1)})
			require.NoError(t, err)

			// The fork's log continues at the next dense id.
			require.NoError(t, r.CreateMessage(ctx, "fork-5", aid, msg(2, "fork-only")))
			requireIs(t, r.CreateMessage(ctx, "fork-5", aid, msg(4, "gap")), session.ErrConflict, "gap in the fork")
			require.NoError(t, r.UpdateMetadata(ctx, "fork-5", map[string]any{"topic": "changed"}))
			require.NoError(t, r.UpdateAgent(ctx, "fork-5", &session.Agent{ID: aid, State: map[string]any{"fork": true}}))

			m, err := r.GetMessage(ctx, sid, aid, 2)
			require.NoError(t, err)
			assert.Equal(t, "m2", textOf(t, m), "the source keeps its own message 2")
			md, err := r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, "billing", md["topic"])
			a, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"key": "value"}, a.State)

			// And the other way: the source moves on, the fork does not.
			appendN(t, ctx, r, sid, aid, 1)
			n, err := r.CountMessages(ctx, "fork-5", aid)
			require.NoError(t, err)
			assert.Equal(t, 3, n)
			require.NoError(t, r.DeleteSession(ctx, sid))
			got, err := r.GetSession(ctx, "fork-5")
			require.NoError(t, err, "deleting the source leaves its forks")
			require.NotNil(t, got.ForkedFrom)
			assert.Equal(t, sid, got.ForkedFrom.SessionID, "and their lineage")
		}},
		{"Fork", "ListSessionsForkedFromListsDirectForks", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			f := forker(t, r)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 2)
			createSession(t, ctx, r, "unrelated")
			var want []string
			for i := range 5 {
				id := fmt.Sprintf("child-%d", i)
				_, err := f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: id})
				require.NoError(t, err)
				want = append(want, id)
			}
			_, err := f.ForkSession(ctx, session.ForkRequest{SourceID: "child-0", ID: "grandchild", AgentID: aid, MessageID: ptr(0)})
			require.NoError(t, err)

			got := listAll(t, ctx, r, session.SessionQuery{ForkedFrom: sid, Limit: 2})
			assert.ElementsMatch(t, want, sessionIDs(got), "paged by the usual cursor")
			for _, s := range got {
				require.NotNil(t, s.ForkedFrom, "ListSessions returns the lineage")
				assert.Equal(t, sid, s.ForkedFrom.SessionID)
			}
			got = listAll(t, ctx, r, session.SessionQuery{ForkedFrom: "child-0"})
			assert.Equal(t, []string{"grandchild"}, sessionIDs(got))
			got = listAll(t, ctx, r, session.SessionQuery{ForkedFrom: "grandchild"})
			assert.Empty(t, got)
			got = listAll(t, ctx, r, session.SessionQuery{ForkedFrom: sid, IDPrefix: "child-3"})
			assert.Equal(t, []string{"child-3"}, sessionIDs(got), "combines with the other filters")
			_, err = r.ListSessions(ctx, session.SessionQuery{ForkedFrom: "a/b"})
			requireIs(t, err, session.ErrInvalidArgument, "bad forked_from")
		}},
		{"Fork", "CreateSessionIgnoresForkedFrom", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			forker(t, r)
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid,
				ForkedFrom: &session.ForkOrigin{SessionID: "elsewhere"}}))
			got, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.Nil(t, got.ForkedFrom, "only ForkSession records lineage")
			assert.Empty(t, listAll(t, ctx, r, session.SessionQuery{ForkedFrom: "elsewhere"}))
		}},
		{"Fork", "ViewerPasswordOfTheRequest", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			f := forker(t, r)
			seed(t, ctx, r)
			hash := driver.HashViewerPassword("fork-password")
			_, err := f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: "fork-pw", ViewerPasswordHash: hash})
			require.NoError(t, err)
			got, err := r.GetSession(ctx, "fork-pw")
			require.NoError(t, err)
			assert.True(t, driver.VerifyViewerPassword(got.ViewerPasswordHash, "fork-password"))
		}},
		{"Fork", "BadRequestsWriteNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			f := forker(t, r)
			seedForkSource(t, ctx, r)
			createSession(t, ctx, r, "taken")
			// One full dump before and after all the requests, and the
			// session list after each (a full dump per request is slow
			// on FerretDB).
			before := dumpStore(t, ctx, r)
			for _, c := range []struct {
				name  string
				req   session.ForkRequest
				want  error
				field string
			}{
				{"missing source", session.ForkRequest{SourceID: "nope", ID: "new"}, session.ErrNotFound, ""},
				{"existing target", session.ForkRequest{SourceID: sid, ID: "taken"}, session.ErrAlreadyExists, ""},
				{"existing target, agent fork", session.ForkRequest{SourceID: sid, ID: "taken", AgentID: aid, MessageID: ptr(1)}, session.ErrAlreadyExists, ""},
				{"missing agent", session.ForkRequest{SourceID: sid, ID: "new", AgentID: "ghost"}, session.ErrNotFound, ""},
				{"message past the end", session.ForkRequest{SourceID: sid, ID: "new", AgentID: aid, MessageID: ptr(5)}, session.ErrNotFound, ""},
				{"negative message", session.ForkRequest{SourceID: sid, ID: "new", AgentID: aid, MessageID: ptr(-1)}, session.ErrInvalidArgument, "message_id"},
				{"message without agent", session.ForkRequest{SourceID: sid, ID: "new", MessageID: ptr(0)}, session.ErrInvalidArgument, "message_id"},
				{"bad agent id", session.ForkRequest{SourceID: sid, ID: "new", AgentID: "a.b"}, session.ErrInvalidArgument, "agent_id"},
				{"empty new id", session.ForkRequest{SourceID: sid}, session.ErrInvalidArgument, "session_id"},
				{"bad new id", session.ForkRequest{SourceID: sid, ID: "a/b"}, session.ErrInvalidArgument, "session_id"},
				{"fork onto itself", session.ForkRequest{SourceID: sid, ID: sid}, session.ErrInvalidArgument, "session_id"},
				{"bad source id", session.ForkRequest{SourceID: "", ID: "new"}, session.ErrInvalidArgument, "session_id"},
			} {
				t.Run(c.name, func(t *testing.T) {
					_, err := f.ForkSession(ctx, c.req)
					requireIs(t, err, c.want, c.name)
					if c.field != "" {
						var fe *session.FieldError
						require.ErrorAs(t, err, &fe)
						assert.Equal(t, c.field, fe.Field)
					}
					assert.Equal(t, before.IDs, sessionIDs(listAll(t, ctx, r, session.SessionQuery{})), "no session created")
				})
			}
			assert.Equal(t, before, dumpStore(t, ctx, r), "nothing written")
		}},
		{"Fork", "ForkOfAForkRecordsTheDirectSource", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			f := forker(t, r)
			seedForkSource(t, ctx, r)
			_, err := f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: "gen-1"})
			require.NoError(t, err)
			_, err = f.ForkSession(ctx, session.ForkRequest{SourceID: "gen-1", ID: "gen-2", AgentID: "other-agent"})
			require.NoError(t, err)
			got, err := r.GetSession(ctx, "gen-2")
			require.NoError(t, err)
			require.NotNil(t, got.ForkedFrom)
			assert.Equal(t, "gen-1", got.ForkedFrom.SessionID)
			assert.Equal(t, "other-agent", got.ForkedFrom.AgentID)
			msgs, err := r.ListMessages(ctx, "gen-2", "other-agent", 0, 0)
			require.NoError(t, err)
			requireIDs(t, seq(0, 2), msgs)
		}},
	}
}
