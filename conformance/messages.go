package conformance

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

func metrics() *session.EventLoopMetrics {
	return &session.EventLoopMetrics{
		AccumulatedUsage:   session.Usage{InputTokens: 10, OutputTokens: 20, TotalTokens: 30, CacheReadInputTokens: 1, CacheWriteInputTokens: 2},
		AccumulatedMetrics: session.LatencyMetrics{LatencyMs: 1234, TimeToFirstByteMs: 56},
		CycleMetrics:       session.CycleMetrics{CycleCount: 2, TotalDuration: 1.5, AverageCycleTime: 0.75},
		ToolUsage: map[string]session.ToolUsage{"calculator": {CallCount: 2, SuccessCount: 1, ErrorCount: 1,
			TotalTime: 0.5, AverageTime: 0.25, SuccessRate: 0.5}},
		InvocationUsage: &session.Usage{InputTokens: 3, OutputTokens: 4, TotalTokens: 7},
	}
}

func guardrailEvent() *session.GuardrailEvent {
	return &session.GuardrailEvent{
		Action:            "BLOCKED",
		Timestamp:         base,
		StopReason:        "guardrail_intervened",
		PoliciesTriggered: map[string][]string{"contentPolicy": {"HATE/HIGH", "VIOLENCE/MEDIUM"}},
		Trace:             map[string]any{"guardrail": map[string]any{"outputAssessments": map[string]any{"gr-1": []any{"x"}}}},
	}
}

func messageCases() []testCase {
	return []testCase{
		{"Message", "CreateThenGetRoundTrips", func(t *testing.T, h Harness) {
			// Strands F11, F12, S15, S16; original 8.10 #260.
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			m0 := &session.Message{ID: 0, Message: text(session.RoleUser, "Hello world")}
			require.NoError(t, r.CreateMessage(ctx, sid, aid, m0))
			m1 := &session.Message{ID: 1,
				Message: session.ChatMessage{Role: session.RoleAssistant,
					Content:  []session.ContentBlock{session.TextBlock("Hi"), session.ToolUseBlock("t-1", "calculator", map[string]any{"expr": "1+1"})},
					Metadata: map[string]any{"usage": map[string]any{"inputTokens": int64(3)}},
					Extra:    map[string]any{"tracking_id": "trk-1"}},
				EventLoopMetrics: metrics(),
				GuardrailEvent:   guardrailEvent(),
				CreatedAt:        base,
			}
			require.NoError(t, r.CreateMessage(ctx, sid, aid, m1))
			got, err := r.GetMessage(ctx, sid, aid, 1)
			require.NoError(t, err)
			assert.Equal(t, 1, got.ID)
			assert.Equal(t, session.RoleAssistant, got.Message.Role)
			assert.Equal(t, normalizedBlocks(t, m1.Message.Content), got.Message.Content)
			assert.Equal(t, m1.Message.Metadata, got.Message.Metadata)
			assert.Equal(t, m1.Message.Extra, got.Message.Extra)
			assert.Nil(t, got.RedactMessage)
			assert.Equal(t, metrics(), got.EventLoopMetrics)
			require.NotNil(t, got.GuardrailEvent)
			sameTime(t, h, base, got.GuardrailEvent.Timestamp, "guardrail timestamp")
			got.GuardrailEvent.Timestamp = base
			assert.Equal(t, guardrailEvent(), got.GuardrailEvent)
			sameTime(t, h, base, got.CreatedAt, "message CreatedAt")

			got0, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Equal(t, "Hello world", textOf(t, got0))
			assert.Equal(t, time.UTC, got0.CreatedAt.Location())
		}},
		{"Message", "CreateWithGapIsConflictAndWritesNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			requireIs(t, r.CreateMessage(ctx, sid, aid, msg(1, "gap")), session.ErrConflict, "CreateMessage 1 of 0")
			appendN(t, ctx, r, sid, aid, 2)
			before := dumpSession(t, ctx, r, sid)
			requireIs(t, r.CreateMessage(ctx, sid, aid, msg(5, "gap")), session.ErrConflict, "CreateMessage 5 of 2")
			assert.Equal(t, before, dumpSession(t, ctx, r, sid))
			_, err := r.GetMessage(ctx, sid, aid, 5)
			requireIs(t, err, session.ErrNotFound, "GetMessage of the gap id")
		}},
		{"Message", "CreateTakenIDIsConflictAndKeepsOriginal", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 3)
			before := dumpSession(t, ctx, r, sid)
			for _, id := range []int{0, 1, 2} {
				requireIs(t, r.CreateMessage(ctx, sid, aid, msg(id, "overwrite")), session.ErrConflict, "CreateMessage of a taken id")
			}
			assert.Equal(t, before, dumpSession(t, ctx, r, sid))
		}},
		{"Message", "CreateUnderMissingSessionOrAgentIsNotFound", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			requireIs(t, r.CreateMessage(ctx, sid, aid, msg(0, "x")), session.ErrNotFound, "no session")
			createSession(t, ctx, r, sid)
			requireIs(t, r.CreateMessage(ctx, sid, aid, msg(0, "x")), session.ErrNotFound, "no agent")
			agents, err := r.ListAgents(ctx, sid)
			require.NoError(t, err)
			assert.Empty(t, agents, "no phantom agent")
		}},
		{"Message", "GetMissingIsNotFound", func(t *testing.T, h Harness) {
			// Strands F13, F14, S17.
			ctx, r := setup(t, h)
			_, err := r.GetMessage(ctx, sid, aid, 999)
			requireIs(t, err, session.ErrNotFound, "no session")
			createSession(t, ctx, r, sid)
			_, err = r.GetMessage(ctx, sid, aid, 999)
			requireIs(t, err, session.ErrNotFound, "no agent")
			createAgent(t, ctx, r, sid, aid)
			_, err = r.GetMessage(ctx, sid, aid, 999)
			requireIs(t, err, session.ErrNotFound, "no message")
			appendN(t, ctx, r, sid, aid, 1)
			_, err = r.GetMessage(ctx, sid, aid, 1)
			requireIs(t, err, session.ErrNotFound, "next id")
		}},
		{"Message", "UpdateReplacesContent", func(t *testing.T, h Harness) {
			// Strands F19, S22.
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 2)
			require.NoError(t, r.UpdateMessage(ctx, sid, aid, msg(1, "Updated content")))
			got, err := r.GetMessage(ctx, sid, aid, 1)
			require.NoError(t, err)
			assert.Equal(t, "Updated content", textOf(t, got))
			other, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Equal(t, "m0", textOf(t, other))
		}},
		{"Message", "UpdateMissingIsNotFound", func(t *testing.T, h Harness) {
			// Strands F20, S23; original 8.2 #121.
			ctx, r := setup(t, h)
			requireIs(t, r.UpdateMessage(ctx, sid, aid, msg(0, "x")), session.ErrNotFound, "no session")
			seed(t, ctx, r)
			requireIs(t, r.UpdateMessage(ctx, sid, aid, msg(0, "x")), session.ErrNotFound, "no message")
			appendN(t, ctx, r, sid, aid, 1)
			requireIs(t, r.UpdateMessage(ctx, sid, aid, msg(99, "x")), session.ErrNotFound, "message 99")
			n, err := r.CountMessages(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "UpdateMessage never appends")
		}},
		{"Message", "UpdateKeepsCreatedAtMetricsAndGuardrailWhenNil", func(t *testing.T, h Harness) {
			// Original bug B5: update_message wiped metrics and guardrail.
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			require.NoError(t, r.CreateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: text(session.RoleAssistant, "a"),
				EventLoopMetrics: metrics(), GuardrailEvent: guardrailEvent(), CreatedAt: base}))
			require.NoError(t, r.UpdateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: text(session.RoleAssistant, "b"),
				CreatedAt: base.Add(time.Hour)}))
			got, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Equal(t, "b", textOf(t, got))
			sameTime(t, h, base, got.CreatedAt, "CreatedAt after update")
			assert.True(t, got.UpdatedAt.After(base), "UpdatedAt moves")
			assert.Equal(t, metrics(), got.EventLoopMetrics, "metrics kept")
			require.NotNil(t, got.GuardrailEvent, "guardrail event kept")
			assert.Equal(t, "guardrail_intervened", got.GuardrailEvent.StopReason)

			// Non-nil values replace them.
			newMetrics := &session.EventLoopMetrics{AccumulatedUsage: session.Usage{TotalTokens: 99}}
			require.NoError(t, r.UpdateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: text(session.RoleAssistant, "c"),
				EventLoopMetrics: newMetrics, GuardrailEvent: &session.GuardrailEvent{Action: "NONE", Timestamp: base}}))
			got, err = r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Equal(t, int64(99), got.EventLoopMetrics.AccumulatedUsage.TotalTokens)
			assert.Empty(t, got.EventLoopMetrics.ToolUsage)
			assert.Equal(t, "NONE", got.GuardrailEvent.Action)
		}},
		{"Message", "RedactionPersistsAndEffectiveReturnsIt", func(t *testing.T, h Harness) {
			// Original 8.10 #262, #263; Strands A4.
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(0, "CACTUS")))
			redacted := text(session.RoleUser, "***")
			require.NoError(t, r.UpdateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: text(session.RoleUser, "CACTUS"), RedactMessage: &redacted}))
			got, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			require.NotNil(t, got.RedactMessage)
			s, _ := got.RedactMessage.Content[0].Text()
			assert.Equal(t, "***", s)
			eff := got.Effective()
			s, _ = eff.Content[0].Text()
			assert.Equal(t, "***", s, "Effective returns the redaction")
			assert.Equal(t, "CACTUS", textOf(t, got), "the original is kept for audit")
			list, err := r.ListMessages(ctx, sid, aid, 0, 0)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.NotNil(t, list[0].RedactMessage, "ListMessages returns the redaction too")

			// A nil RedactMessage clears it.
			require.NoError(t, r.UpdateMessage(ctx, sid, aid, msg(0, "CACTUS")))
			got, err = r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			assert.Nil(t, got.RedactMessage)
		}},
		{"Message", "CountIsTheNextID", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			for want := range 4 {
				n, err := r.CountMessages(ctx, sid, aid)
				require.NoError(t, err)
				require.Equal(t, want, n)
				require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(n, "x")))
			}
			_, err := r.CountMessages(ctx, sid, "nonexistent")
			requireIs(t, err, session.ErrNotFound, "CountMessages without agent")
			_, err = r.CountMessages(ctx, "nonexistent", aid)
			requireIs(t, err, session.ErrNotFound, "CountMessages without session")
		}},
		{"Message", "AgentsHaveIndependentLogs", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			createAgent(t, ctx, r, sid, "second")
			appendN(t, ctx, r, sid, aid, 3)
			appendN(t, ctx, r, sid, "second", 1)
			require.NoError(t, r.CreateMessage(ctx, sid, "second", msg(1, "second-1")))
			a, err := r.ListMessages(ctx, sid, aid, 0, 0)
			require.NoError(t, err)
			requireIDs(t, seq(0, 3), a)
			b, err := r.ListMessages(ctx, sid, "second", 0, 0)
			require.NoError(t, err)
			requireIDs(t, seq(0, 2), b)
			assert.Equal(t, "second-1", textOf(t, b[1]))
		}},
	}
}

func listMessageCases() []testCase {
	// withMessages returns a repository whose agent holds n messages.
	withMessages := func(t *testing.T, h Harness, n int) session.Repository {
		t.Helper()
		ctx, r := setup(t, h)
		seed(t, ctx, r)
		appendN(t, ctx, r, sid, aid, n)
		return r
	}
	list := func(t *testing.T, r session.Repository, offset, limit int) []*session.Message {
		t.Helper()
		ctx, cancel := contextFor(t)
		defer cancel()
		msgs, err := r.ListMessages(ctx, sid, aid, offset, limit)
		require.NoError(t, err)
		return msgs
	}
	return []testCase{
		{"ListMessages", "All", func(t *testing.T, h Harness) {
			// Strands F15, S18.
			r := withMessages(t, h, 5)
			msgs := list(t, r, 0, 0)
			requireIDs(t, seq(0, 5), msgs)
			for i, m := range msgs {
				assert.Equal(t, "m"+strconv.Itoa(i), textOf(t, m))
			}
		}},
		{"ListMessages", "Single", func(t *testing.T, h Harness) {
			// Strands S19.
			requireIDs(t, []int{0}, list(t, withMessages(t, h, 1), 0, 0))
		}},
		{"ListMessages", "NewAgentHasNone", func(t *testing.T, h Harness) {
			// Strands F18, S20.
			msgs := list(t, withMessages(t, h, 0), 0, 0)
			require.NotNil(t, msgs)
			assert.Empty(t, msgs)
		}},
		{"ListMessages", "LimitAndOffsetArePositional", func(t *testing.T, h Harness) {
			// Strands F16, F17, S21; original 8.2 #123, 8.10 #261.
			r := withMessages(t, h, 10)
			requireIDs(t, seq(0, 3), list(t, r, 0, 3))
			requireIDs(t, seq(5, 10), list(t, r, 5, 0))
			requireIDs(t, []int{1, 2}, list(t, r, 1, 2))
			requireIDs(t, []int{8, 9}, list(t, r, 8, 5))
		}},
		{"ListMessages", "OffsetPastEndIsEmpty", func(t *testing.T, h Harness) {
			r := withMessages(t, h, 3)
			requireIDs(t, nil, list(t, r, 3, 0))
			requireIDs(t, nil, list(t, r, 4, 2))
			requireIDs(t, nil, list(t, r, 1000, 0))
		}},
		{"ListMessages", "LimitZeroOrNegativeMeansAll", func(t *testing.T, h Harness) {
			r := withMessages(t, h, 4)
			requireIDs(t, seq(0, 4), list(t, r, 0, 0))
			requireIDs(t, seq(0, 4), list(t, r, 0, -1))
			requireIDs(t, seq(2, 4), list(t, r, 2, -7))
		}},
		{"ListMessages", "NumericOrderPastTen", func(t *testing.T, h Harness) {
			// Ids sort as numbers, not strings ("10" < "2").
			r := withMessages(t, h, 12)
			msgs := list(t, r, 0, 0)
			requireIDs(t, seq(0, 12), msgs)
			for _, m := range msgs {
				assert.Equal(t, "m"+strconv.Itoa(m.ID), textOf(t, m))
			}
			requireIDs(t, []int{9, 10, 11}, list(t, r, 9, 0))
		}},
		{"ListMessages", "MissingSessionOrAgentIsNotFound", func(t *testing.T, h Harness) {
			// Unlike the Python original (8.2 #124, #125 return []), a
			// missing parent is reported.
			ctx, r := setup(t, h)
			_, err := r.ListMessages(ctx, sid, aid, 0, 0)
			requireIs(t, err, session.ErrNotFound, "no session")
			createSession(t, ctx, r, sid)
			_, err = r.ListMessages(ctx, sid, aid, 0, 0)
			requireIs(t, err, session.ErrNotFound, "no agent")
		}},
	}
}
