package conformance

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// richSession stores one of everything, with nested values that a careless
// backend would share with its callers.
func richSession(t *testing.T, ctx context.Context, r session.Repository) {
	t.Helper()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid, Metadata: map[string]any{"nested": map[string]any{"k": "v"}}}))
	require.NoError(t, r.CreateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"list": []any{"a"}, "bytes": []byte("abc")},
		Config: session.AgentConfig{PromptMetadata: promptMetadata()}}))
	redacted := text(session.RoleUser, "***")
	require.NoError(t, r.CreateMessage(ctx, sid, aid, &session.Message{ID: 0,
		Message:          session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.ToolUseBlock("t", "n", map[string]any{"in": []any{"x"}})}},
		RedactMessage:    &redacted,
		EventLoopMetrics: metrics(),
		GuardrailEvent:   guardrailEvent(),
	}))
	_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, AgentID: aid, MessageID: ptr(0),
		Extra: map[string]any{"tags": []any{"t"}}})
	require.NoError(t, err)
	require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 0, guardrailEvent()))
}

// scribble mutates everything reachable from d.
func scribble(d sessionDump) {
	d.Session.Metadata["nested"].(map[string]any)["k"] = "changed"
	d.Session.Metadata["added"] = true
	d.Metadata["added"] = true
	for _, a := range d.Agents {
		scribbleAgent(a)
	}
	for _, msgs := range d.Messages {
		for _, m := range msgs {
			scribbleMessage(m)
		}
	}
	for _, f := range d.Feedback {
		*f.MessageID = 99
		f.Extra["tags"].([]any)[0] = "changed"
	}
	for _, g := range d.Guardrails {
		g.PoliciesTriggered["contentPolicy"][0] = "changed"
	}
}

func scribbleAgent(a *session.Agent) {
	a.State["list"].([]any)[0] = "changed"
	a.State["bytes"].([]byte)[0] = 'X'
	*a.Config.PromptMetadata.Temperature = 1.9
	a.Config.PromptMetadata.PromptID = "changed"
}

func scribbleMessage(m *session.Message) {
	m.Message.Content[0]["toolUse"].(map[string]any)["input"].(map[string]any)["in"].([]any)[0] = "changed"
	m.Message.Content[0]["added"] = true
	m.Message.Content = append(m.Message.Content[:0], session.TextBlock("replaced"))
	m.RedactMessage.Content[0]["text"] = "changed"
	m.EventLoopMetrics.ToolUsage["calculator"] = session.ToolUsage{}
	m.EventLoopMetrics.InvocationUsage.TotalTokens = -1
	m.GuardrailEvent.PoliciesTriggered["contentPolicy"][0] = "changed"
	m.GuardrailEvent.Trace["added"] = true
}

func copyCases() []testCase {
	return []testCase{
		{"Copies", "ReturnedValuesAreTheCallersToMutate", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			richSession(t, ctx, r)
			want := dumpSession(t, ctx, r, sid)
			scribble(dumpSession(t, ctx, r, sid))
			a, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			scribbleAgent(a)
			m, err := r.GetMessage(ctx, sid, aid, 0)
			require.NoError(t, err)
			scribbleMessage(m)
			s, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			s.Metadata["nested"].(map[string]any)["k"] = "changed"
			page, err := r.ListSessions(ctx, session.SessionQuery{})
			require.NoError(t, err)
			page.Sessions[0].Metadata["nested"].(map[string]any)["k"] = "changed"
			fb, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingDown, Extra: map[string]any{"l": []any{"x"}}})
			require.NoError(t, err)
			fb.Extra["l"].([]any)[0] = "changed"

			got := dumpSession(t, ctx, r, sid)
			require.Len(t, got.Feedback, 2)
			assert.Equal(t, map[string]any{"l": []any{"x"}}, got.Feedback[1].Extra, "AddFeedback's result is a copy")
			got.Feedback = got.Feedback[:1]
			got.Session.UpdatedAt = want.Session.UpdatedAt
			assert.Equal(t, want, got)
		}},
		{"Copies", "ArgumentsAreCopiedOnWrite", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			nestedMD := map[string]any{"k": "v"}
			s := &session.Session{ID: sid, Metadata: map[string]any{"nested": nestedMD}}
			require.NoError(t, r.CreateSession(ctx, s))
			s.Metadata["added"] = true
			nestedMD["k"] = "changed"

			blob := []byte("abc")
			list := []any{"a"}
			pm := promptMetadata()
			a := &session.Agent{ID: aid, State: map[string]any{"list": list, "bytes": blob}, Config: session.AgentConfig{PromptMetadata: pm}}
			require.NoError(t, r.CreateAgent(ctx, sid, a))
			blob[0] = 'X'
			list[0] = "changed"
			*pm.Temperature = 1.9
			a.State["added"] = true

			input := map[string]any{"in": []any{"x"}}
			m := &session.Message{ID: 0, Message: session.ChatMessage{Role: session.RoleUser,
				Content: []session.ContentBlock{session.ToolUseBlock("t", "n", input)}}, EventLoopMetrics: metrics(), GuardrailEvent: guardrailEvent()}
			require.NoError(t, r.CreateMessage(ctx, sid, aid, m))
			input["in"].([]any)[0] = "changed"
			m.Message.Content[0] = session.TextBlock("replaced")
			m.EventLoopMetrics.ToolUsage["calculator"] = session.ToolUsage{}
			m.GuardrailEvent.PoliciesTriggered["contentPolicy"][0] = "changed"

			md := map[string]any{"m": []any{"v"}}
			require.NoError(t, r.UpdateMetadata(ctx, sid, md))
			md["m"].([]any)[0] = "changed"
			md["other"] = "x"

			f := &session.Feedback{Rating: session.RatingUp, AgentID: aid, MessageID: ptr(0), Extra: map[string]any{"tags": []any{"t"}}}
			_, err := r.AddFeedback(ctx, sid, f)
			require.NoError(t, err)
			*f.MessageID = 5
			f.Extra["tags"].([]any)[0] = "changed"

			ev := guardrailEvent()
			require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 0, ev))
			ev.PoliciesTriggered["contentPolicy"][0] = "changed"
			ev.Trace["added"] = true

			got := dumpSession(t, ctx, r, sid)
			assert.Equal(t, map[string]any{"nested": map[string]any{"k": "v"}, "m": []any{"v"}}, got.Metadata)
			require.Len(t, got.Agents, 1)
			assert.Equal(t, map[string]any{"list": []any{"a"}, "bytes": []byte("abc")}, got.Agents[0].State)
			assert.Equal(t, promptMetadata(), got.Agents[0].Config.PromptMetadata)
			stored := got.Messages[aid][0]
			assert.Equal(t, normalizedBlocks(t, []session.ContentBlock{session.ToolUseBlock("t", "n", map[string]any{"in": []any{"x"}})}), stored.Message.Content)
			assert.Equal(t, metrics(), stored.EventLoopMetrics)
			assert.Equal(t, guardrailEvent().PoliciesTriggered, stored.GuardrailEvent.PoliciesTriggered)
			assert.Equal(t, guardrailEvent().Trace, stored.GuardrailEvent.Trace)
			require.Len(t, got.Feedback, 1)
			assert.Equal(t, 0, *got.Feedback[0].MessageID)
			assert.Equal(t, map[string]any{"tags": []any{"t"}}, got.Feedback[0].Extra)
			require.Len(t, got.Guardrails, 1)
			assert.Equal(t, guardrailEvent().PoliciesTriggered, got.Guardrails[0].PoliciesTriggered)
		}},
	}
}
