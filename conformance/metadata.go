package conformance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

func metadataCases() []testCase {
	return []testCase{
		{"Metadata", "UpdateSetsKeysAndLeavesOthers", func(t *testing.T, h Harness) {
			// Original 8.10 #265 and the partial-update rule.
			ctx, r := setup(t, h)
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid, Metadata: map[string]any{"status": "", "priority": ""}}))
			require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"status": "active", "priority": "high"}))
			require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"status": "closed", "count": int64(3)}))
			md, err := r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"status": "closed", "priority": "high", "count": int64(3)}, md)
			s, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, md, s.Metadata, "GetSession carries the metadata")
		}},
		{"Metadata", "NestedValueIsReplacedWhole", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"user": map[string]any{"name": "Ann", "tier": "gold"}}))
			require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"user": map[string]any{"name": "Bob"}}))
			md, err := r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"user": map[string]any{"name": "Bob"}}, md)
		}},
		{"Metadata", "UpdateIsIdempotent", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			for range 2 {
				require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"k": []any{int64(1), "two", 3.0}}))
			}
			md, err := r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"k": []any{int64(1), "two", 3.0}}, md)
		}},
		{"Metadata", "GetOfNewSessionIsEmptyNotNil", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			md, err := r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			require.NotNil(t, md)
			assert.Empty(t, md)
		}},
		{"Metadata", "DeleteRemovesOnlyNamedKeys", func(t *testing.T, h Harness) {
			// Original 8.10 #266; absent keys are ignored.
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"a": "1", "b": "2", "c": "3"}))
			require.NoError(t, r.DeleteMetadata(ctx, sid, []string{"b", "absent"}))
			md, err := r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"a": "1", "c": "3"}, md)
			require.NoError(t, r.DeleteMetadata(ctx, sid, []string{"b"}), "idempotent")
			require.NoError(t, r.DeleteMetadata(ctx, sid, []string{"a", "c"}))
			md, err = r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			require.NotNil(t, md)
			assert.Empty(t, md)
		}},
		{"Metadata", "MissingSessionIsNotFound", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			requireIs(t, r.UpdateMetadata(ctx, sid, map[string]any{"k": "v"}), session.ErrNotFound, "UpdateMetadata")
			_, err := r.GetMetadata(ctx, sid)
			requireIs(t, err, session.ErrNotFound, "GetMetadata")
			requireIs(t, r.DeleteMetadata(ctx, sid, []string{"k"}), session.ErrNotFound, "DeleteMetadata")
			assert.Empty(t, listAll(t, ctx, r, session.SessionQuery{}), "no phantom session (upsert)")
		}},
	}
}

func feedbackCases() []testCase {
	return []testCase{
		{"Feedback", "AddStoresWithIDAndCreatedAt", func(t *testing.T, h Harness) {
			// Original 8.2 #129, 8.10 #267, #268.
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			f1, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, Comment: "great",
				Extra: map[string]any{"user": "ann", "tags": []any{"a", "b"}}})
			require.NoError(t, err)
			assert.NotEmpty(t, f1.ID)
			assert.False(t, f1.CreatedAt.IsZero(), "created_at auto-added")
			f2, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingNone, Comment: "meh", CreatedAt: base})
			require.NoError(t, err)
			sameTime(t, h, base, f2.CreatedAt, "explicit CreatedAt")

			list, err := r.ListFeedback(ctx, sid)
			require.NoError(t, err)
			require.Len(t, list, 2)
			assert.Equal(t, f1.ID, list[0].ID)
			assert.Equal(t, session.RatingUp, list[0].Rating)
			assert.Equal(t, "great", list[0].Comment)
			assert.Equal(t, map[string]any{"user": "ann", "tags": []any{"a", "b"}}, list[0].Extra)
			sameTime(t, h, f1.CreatedAt, list[0].CreatedAt, "listed CreatedAt")
			assert.Equal(t, f2.ID, list[1].ID)
			assert.Equal(t, session.RatingNone, list[1].Rating)
		}},
		{"Feedback", "IDsAreUnique", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			seen := map[string]bool{}
			for range 10 {
				f, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingDown})
				require.NoError(t, err)
				require.False(t, seen[f.ID], "feedback id %q reused", f.ID)
				seen[f.ID] = true
			}
			list, err := r.ListFeedback(ctx, sid)
			require.NoError(t, err)
			assert.Len(t, list, 10)
		}},
		{"Feedback", "PointingAtAMessageRoundTrips", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 2)
			_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingDown, AgentID: aid, MessageID: ptr(1)})
			require.NoError(t, err)
			_, err = r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, AgentID: aid})
			require.NoError(t, err)
			list, err := r.ListFeedback(ctx, sid)
			require.NoError(t, err)
			require.Len(t, list, 2)
			assert.Equal(t, aid, list[0].AgentID)
			require.NotNil(t, list[0].MessageID)
			assert.Equal(t, 1, *list[0].MessageID)
			assert.Equal(t, aid, list[1].AgentID)
			assert.Nil(t, list[1].MessageID)
		}},
		{"Feedback", "MissingTargetIsNotFoundAndWritesNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 1)
			before := dumpSession(t, ctx, r, sid)
			_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, AgentID: "ghost"})
			requireIs(t, err, session.ErrNotFound, "missing agent")
			_, err = r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, AgentID: "ghost", MessageID: ptr(0)})
			requireIs(t, err, session.ErrNotFound, "missing agent with message")
			_, err = r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, AgentID: aid, MessageID: ptr(1)})
			requireIs(t, err, session.ErrNotFound, "missing message")
			assert.Equal(t, before, dumpSession(t, ctx, r, sid))
		}},
		{"Feedback", "MissingSessionIsNotFound", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp})
			requireIs(t, err, session.ErrNotFound, "AddFeedback")
			_, err = r.ListFeedback(ctx, sid)
			requireIs(t, err, session.ErrNotFound, "ListFeedback")
			assert.Empty(t, listAll(t, ctx, r, session.SessionQuery{}), "no phantom session (upsert)")
		}},
		{"Feedback", "ListOfNewSessionIsEmpty", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			list, err := r.ListFeedback(ctx, sid)
			require.NoError(t, err)
			assert.Empty(t, list)
		}},
	}
}

func guardrailCases() []testCase {
	return []testCase{
		{"Guardrail", "RecordWritesMessageAndSessionLevels", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 2)
			require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 1, guardrailEvent()))
			require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 0, &session.GuardrailEvent{StopReason: "guardrail_intervened"}))

			m, err := r.GetMessage(ctx, sid, aid, 1)
			require.NoError(t, err)
			require.NotNil(t, m.GuardrailEvent)
			assert.Equal(t, guardrailEvent().Trace, m.GuardrailEvent.Trace, "the trace stays on the message")
			assert.Equal(t, "m1", textOf(t, m), "the message itself is untouched")

			events, err := r.ListGuardrailEvents(ctx, sid)
			require.NoError(t, err)
			require.Len(t, events, 2)
			sameTime(t, h, base, events[0].Timestamp, "event timestamp")
			events[0].Timestamp = time.Time{}
			assert.Equal(t, &session.SessionGuardrailEvent{AgentID: aid, MessageID: 1, Action: "BLOCKED",
				StopReason: "guardrail_intervened", PoliciesTriggered: guardrailEvent().PoliciesTriggered}, events[0])
			assert.Equal(t, 0, events[1].MessageID)
			assert.Equal(t, "BLOCKED", events[1].Action, "action defaults to BLOCKED")
			assert.False(t, events[1].Timestamp.IsZero(), "timestamp defaults to now")
			m0, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			require.NotNil(t, m0.GuardrailEvent)
			assert.Equal(t, "BLOCKED", m0.GuardrailEvent.Action)
		}},
		{"Guardrail", "MissingTargetIsNotFoundAndWritesNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			requireIs(t, r.RecordGuardrailEvent(ctx, sid, aid, 0, guardrailEvent()), session.ErrNotFound, "no session")
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 1)
			before := dumpSession(t, ctx, r, sid)
			requireIs(t, r.RecordGuardrailEvent(ctx, sid, "ghost", 0, guardrailEvent()), session.ErrNotFound, "no agent")
			requireIs(t, r.RecordGuardrailEvent(ctx, sid, aid, 1, guardrailEvent()), session.ErrNotFound, "no message")
			assert.Equal(t, before, dumpSession(t, ctx, r, sid))
		}},
		{"Guardrail", "ListOfNewSessionIsEmptyAndOfMissingIsNotFound", func(t *testing.T, h Harness) {
			// Original 8.2 #133, 8.10 #264.
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			events, err := r.ListGuardrailEvents(ctx, sid)
			require.NoError(t, err)
			assert.Empty(t, events)
			_, err = r.ListGuardrailEvents(ctx, "nonexistent")
			requireIs(t, err, session.ErrNotFound, "ListGuardrailEvents")
		}},
	}
}
