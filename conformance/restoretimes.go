package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// Restoring stored times (session.TimeRestorer), which imports use so that
// an export imported again keeps its times. The cases run only on
// repositories implementing the role and skip with a reason otherwise.

// timeRestorer returns r's TimeRestorer or skips the case: a decorator over
// a repository without the role reports errors.ErrUnsupported (probed on a
// session that does not exist).
func timeRestorer(t *testing.T, r session.Repository) session.TimeRestorer {
	t.Helper()
	tr, ok := r.(session.TimeRestorer)
	if !ok {
		t.Skipf("%T does not implement session.TimeRestorer", r)
	}
	err := tr.RestoreTimes(context.Background(), "conformance-probe-missing", session.StoredTimes{UpdatedAt: time.Now()})
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the repository cannot restore times: %v", err)
	}
	return tr
}

// past is a time no write of the suite stamps, with microseconds.
var past = time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)

func restoreTimeCases() []testCase {
	return []testCase{
		{"RestoreTimes", "SetsSessionAgentAndSnapshotTimesAndNothingElse", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			tr := timeRestorer(t, r)
			seed(t, ctx, r)
			createAgent(t, ctx, r, sid, "other")
			require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(0, "hello")))
			st, hasSnapshots := r.(session.SnapshotStore)
			in := session.StoredTimes{UpdatedAt: past, Agents: map[string]time.Time{aid: past.Add(time.Second)}}
			if hasSnapshots {
				if _, err := st.PutSnapshot(ctx, sid, "a/latest.json", []byte("{}")); errors.Is(err, errors.ErrUnsupported) {
					hasSnapshots = false
				} else {
					require.NoError(t, err)
					in.Snapshots = map[string]time.Time{"a//latest.json": past.Add(2 * time.Second)}
				}
			}
			beforeSession, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			beforeOther, err := r.GetAgent(ctx, sid, "other")
			require.NoError(t, err)
			beforeMsgs, err := r.ListMessages(ctx, sid, aid, 0, 0)
			require.NoError(t, err)

			require.NoError(t, tr.RestoreTimes(ctx, sid, in))
			p := h.Capabilities.TimePrecision
			s, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, past.Truncate(p), s.UpdatedAt, "session updated_at")
			beforeSession.UpdatedAt = s.UpdatedAt
			assert.Equal(t, beforeSession, s, "nothing else of the session changes")
			a, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, past.Add(time.Second).Truncate(p), a.UpdatedAt, "agent updated_at")
			other, err := r.GetAgent(ctx, sid, "other")
			require.NoError(t, err)
			assert.Equal(t, beforeOther, other, "an agent not named keeps its times")
			msgs, err := r.ListMessages(ctx, sid, aid, 0, 0)
			require.NoError(t, err)
			assert.Equal(t, beforeMsgs, msgs, "messages keep their times")
			if hasSnapshots {
				snap, err := st.GetSnapshot(ctx, sid, "a/latest.json")
				require.NoError(t, err)
				assert.Equal(t, past.Add(2*time.Second).Truncate(p), snap.UpdatedAt, "snapshot updated_at")
				assert.Equal(t, []byte("{}"), snap.Data)
				page, err := st.ListSnapshots(ctx, sid, session.SnapshotQuery{})
				require.NoError(t, err)
				require.Len(t, page.Snapshots, 1)
				assert.Equal(t, snap.UpdatedAt, page.Snapshots[0].UpdatedAt, "listing shows the restored time")
			}
		}},
		{"RestoreTimes", "MissingRecordsAreNotFoundAndSetNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			tr := timeRestorer(t, r)
			seed(t, ctx, r)
			err := tr.RestoreTimes(ctx, "no-such-session", session.StoredTimes{UpdatedAt: past})
			assert.ErrorIs(t, err, session.ErrNotFound)
			before, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			err = tr.RestoreTimes(ctx, sid, session.StoredTimes{UpdatedAt: past,
				Agents: map[string]time.Time{aid: past, "ghost": past}})
			require.ErrorIs(t, err, session.ErrNotFound)
			assert.Contains(t, err.Error(), "ghost", "the error names the missing agent")
			after, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, before.UpdatedAt, after.UpdatedAt, "session time untouched")
			a, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.NotEqual(t, past.Truncate(h.Capabilities.TimePrecision), a.UpdatedAt, "agent time untouched")
			if st, ok := r.(session.SnapshotStore); ok {
				if _, err := st.ListSnapshots(ctx, sid, session.SnapshotQuery{}); !errors.Is(err, errors.ErrUnsupported) {
					err = tr.RestoreTimes(ctx, sid, session.StoredTimes{Snapshots: map[string]time.Time{"nope": past}})
					require.ErrorIs(t, err, session.ErrNotFound)
					assert.Contains(t, err.Error(), "nope", "the error names the missing key")
				}
			}
		}},
		{"RestoreTimes", "BadInputIsInvalidArgumentAndWritesNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			tr := timeRestorer(t, r)
			seed(t, ctx, r)
			before, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			for name, in := range map[string]session.StoredTimes{
				"zero agent time": {UpdatedAt: past, Agents: map[string]time.Time{aid: {}}},
				"bad agent id":    {UpdatedAt: past, Agents: map[string]time.Time{"a.b": past}},
				"bad key":         {UpdatedAt: past, Snapshots: map[string]time.Time{"../x": past}},
				"zero key time":   {UpdatedAt: past, Snapshots: map[string]time.Time{"k": {}}},
			} {
				err := tr.RestoreTimes(ctx, sid, in)
				var fe *session.FieldError
				assert.ErrorIs(t, err, session.ErrInvalidArgument, name)
				assert.ErrorAs(t, err, &fe, name)
			}
			err = tr.RestoreTimes(ctx, "a/b", session.StoredTimes{UpdatedAt: past})
			assert.ErrorIs(t, err, session.ErrInvalidArgument, "bad session id")
			after, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, before.UpdatedAt, after.UpdatedAt)
		}},
		{"RestoreTimes", "RestoresLineageBothWays", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			tr := timeRestorer(t, r)
			seed(t, ctx, r)
			msgID := 3
			cases := map[string]*session.ForkOrigin{
				"imported-agent-fork": {SessionID: "gone-source", AgentID: aid, MessageID: &msgID, At: past},
				"imported-whole-fork": {SessionID: "gone-source", At: past.Add(time.Second)},
			}
			for id, origin := range cases {
				require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id}))
				require.NoError(t, tr.RestoreTimes(ctx, id, session.StoredTimes{ForkedFrom: origin}))
				s, err := r.GetSession(ctx, id)
				require.NoError(t, err)
				want := origin.Clone()
				want.At = want.At.Truncate(h.Capabilities.TimePrecision)
				assert.Equal(t, want, s.ForkedFrom, "%s: the lineage an export recorded", id)
			}
			page, err := r.ListSessions(ctx, session.SessionQuery{ForkedFrom: "gone-source"})
			require.NoError(t, err)
			var ids []string
			for _, s := range page.Sessions {
				ids = append(ids, s.ID)
			}
			assert.ElementsMatch(t, []string{"imported-agent-fork", "imported-whole-fork"}, ids, "found by the reverse lookup")

			before, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			for _, bad := range []struct {
				origin *session.ForkOrigin
				field  string
			}{
				{&session.ForkOrigin{SessionID: "", At: past}, "forked_from.session_id"},
				{&session.ForkOrigin{SessionID: "a/b", At: past}, "forked_from.session_id"},
				{&session.ForkOrigin{SessionID: "src", AgentID: "a/b", At: past}, "forked_from.agent_id"},
				{&session.ForkOrigin{SessionID: "src", AgentID: aid, MessageID: new(-1), At: past}, "forked_from.message_id"},
				{&session.ForkOrigin{SessionID: "src", MessageID: new(0), At: past}, "forked_from.message_id"},
				{&session.ForkOrigin{SessionID: "src"}, "forked_from.at"},
			} {
				err := tr.RestoreTimes(ctx, sid, session.StoredTimes{ForkedFrom: bad.origin})
				require.ErrorIs(t, err, session.ErrInvalidArgument, "%+v", bad.origin)
				assert.Contains(t, err.Error(), bad.field)
			}
			after, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, before, after, "a rejected lineage writes nothing")
		}},
	}
}
