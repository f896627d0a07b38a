package manager_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

func TestRedactLatest_KeepsOriginalAndRecordsGuardrailEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	_, err := a.Append(ctx, userText("CACTUS"))
	require.NoError(t, err)
	trace := map[string]any{"inputAssessment": map[string]any{"gr-1": map[string]any{"contentPolicy": map[string]any{"filters": []any{
		map[string]any{"type": "HATE", "confidence": "HIGH", "action": "BLOCKED"},
	}}}}}
	require.NoError(t, a.RedactLatest(ctx, userText("BLOCKED!"), manager.Redaction{Action: "ANONYMIZED", StopReason: "guardrail_intervened", Trace: trace}))

	stored, err := repo.GetMessage(ctx, "s", "a", 0)
	require.NoError(t, err)
	assert.Equal(t, userText("CACTUS"), stored.Message, "the original stays for audit")
	assert.Equal(t, userText("BLOCKED!"), stored.Effective())
	require.NotNil(t, stored.GuardrailEvent)
	assert.Equal(t, "ANONYMIZED", stored.GuardrailEvent.Action)
	assert.Equal(t, "guardrail_intervened", stored.GuardrailEvent.StopReason)
	assert.Equal(t, map[string][]string{"contentPolicy": {"HATE/HIGH"}}, stored.GuardrailEvent.PoliciesTriggered)
	assert.Equal(t, trace, stored.GuardrailEvent.Trace)
	assert.Equal(t, fixedNow, stored.GuardrailEvent.Timestamp)

	events, err := m.ListGuardrailEvents(ctx)
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, &session.SessionGuardrailEvent{AgentID: "a", MessageID: 0, Action: "ANONYMIZED", Timestamp: fixedNow, StopReason: "guardrail_intervened",
		PoliciesTriggered: map[string][]string{"contentPolicy": {"HATE/HIGH"}}}, events[0])

	assert.Equal(t, []session.ChatMessage{userText("BLOCKED!")}, a.Messages(), "the agent sees the redaction")
	// A4: a resumed agent sees the redaction too.
	m2 := newManager(t, repo, "s", manager.Options{})
	a2 := initAgent(t, m2, "a", manager.AgentOptions{})
	assert.Equal(t, a.Messages(), a2.Messages())
}

func TestRedactLatest_DefaultsAndErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newCounting(newMemory())
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	err := a.RedactLatest(ctx, userText("x"), manager.Redaction{})
	require.ErrorIs(t, err, session.ErrNotFound, "no message to redact")

	_, err = a.Append(ctx, userText("hi"))
	require.NoError(t, err)
	repo.reset()
	err = a.RedactLatest(ctx, userText("x"), manager.Redaction{Trace: map[string]any{"bad": struct{}{}}})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	err = a.RedactLatest(ctx, session.ChatMessage{Role: "robot"}, manager.Redaction{})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	assert.Zero(t, repo.count("UpdateMessage")+repo.count("RecordGuardrailEvent"), "bad input writes nothing")

	require.NoError(t, a.RedactLatest(ctx, userText("x"), manager.Redaction{}))
	stored, err := repo.GetMessage(ctx, "s", "a", 0)
	require.NoError(t, err)
	assert.Equal(t, "BLOCKED", stored.GuardrailEvent.Action)
	assert.Empty(t, stored.GuardrailEvent.PoliciesTriggered)
	assert.Empty(t, stored.GuardrailEvent.Trace)
}

func TestRedactLatest_MalformedTraceShapeNeverFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, newMemory(), "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	_, err := a.Append(ctx, userText("hi"))
	require.NoError(t, err)
	for _, trace := range []map[string]any{
		{"inputAssessment": "nonsense"},
		{"outputAssessments": map[string]any{"g": []any{1, "x", nil}}},
		{"inputAssessment": map[string]any{"contentPolicy": map[string]any{"filters": "nope"}}},
		{"outputAssessments": []any{map[string]any{"wordPolicy": []any{}}}},
	} {
		require.NoError(t, a.RedactLatest(ctx, userText("x"), manager.Redaction{Trace: trace}))
	}
}

func TestRedactLatest_KeepsMetricsOfTheMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	_, err := a.Append(ctx, assistantText("secret"))
	require.NoError(t, err)
	require.NoError(t, a.EndInvocation(ctx, metricsWith(10, session.Usage{TotalTokens: 3})))
	require.NoError(t, a.RedactLatest(ctx, assistantText("[redacted]"), manager.Redaction{}))
	stored, err := repo.GetMessage(ctx, "s", "a", 0)
	require.NoError(t, err)
	assert.NotNil(t, stored.EventLoopMetrics, "bug B5: redaction keeps the metrics")
	assert.NotNil(t, stored.GuardrailEvent)
}

func TestGuardrailSummary(t *testing.T) {
	t.Parallel()
	filter := func(typ, conf, action string) map[string]any {
		return map[string]any{"type": typ, "confidence": conf, "action": action}
	}
	for _, tc := range []struct {
		name  string
		trace map[string]any
		want  map[string][]string
	}{
		{"nil", nil, nil},
		{"empty", map[string]any{}, nil},
		{"original list shape: content policy", map[string]any{"inputAssessment": map[string]any{"contentPolicy": map[string]any{"filters": []any{
			filter("HATE", "HIGH", "BLOCKED"), filter("VIOLENCE", "MEDIUM", "BLOCKED")}}}},
			map[string][]string{"contentPolicy": {"HATE/HIGH", "VIOLENCE/MEDIUM"}}},
		{"multiple policies", map[string]any{"inputAssessment": map[string]any{
			"contentPolicy":              map[string]any{"filters": []any{filter("HATE", "HIGH", "BLOCKED")}},
			"topicPolicy":                map[string]any{"topics": []any{map[string]any{"name": "financial-advice", "action": "DENY", "type": "DENY"}}},
			"sensitiveInformationPolicy": map[string]any{"piiEntities": []any{map[string]any{"type": "EMAIL", "action": "ANONYMIZED"}}, "regexes": []any{map[string]any{"name": "acct", "action": "BLOCKED"}}},
		}}, map[string][]string{"contentPolicy": {"HATE/HIGH"}, "topicPolicy": {"financial-advice/DENY"}, "sensitiveInformationPolicy": {"EMAIL/ANONYMIZED", "acct/BLOCKED"}}},
		{"contextual grounding in an outputAssessments list", map[string]any{"outputAssessments": []any{map[string]any{"contextualGroundingPolicy": map[string]any{"filters": []any{
			map[string]any{"type": "GROUNDING", "score": 0.3, "threshold": 0.7, "action": "BLOCKED"}}}}}},
			map[string][]string{"contextualGroundingPolicy": {"GROUNDING/0.3/0.7"}}},
		{"word policy", map[string]any{"inputAssessment": map[string]any{"wordPolicy": map[string]any{
			"customWords":      []any{map[string]any{"match": "badword", "action": "BLOCKED"}},
			"managedWordLists": []any{map[string]any{"type": "PROFANITY", "match": "damnit", "action": "BLOCKED"}}}}},
			map[string][]string{"wordPolicy": {"badword", "PROFANITY/damnit"}}},
		{"real Bedrock maps keyed by guardrail id", map[string]any{
			"inputAssessment": map[string]any{"gr-b": map[string]any{"contentPolicy": map[string]any{"filters": []any{filter("INSULTS", "LOW", "BLOCKED")}}},
				"gr-a": map[string]any{"contentPolicy": map[string]any{"filters": []any{filter("HATE", "HIGH", "BLOCKED")}}}},
			"outputAssessments": map[string]any{"gr-a": []any{map[string]any{"topicPolicy": map[string]any{"topics": []any{map[string]any{"name": "politics", "action": "BLOCKED"}}}}}},
		}, map[string][]string{"contentPolicy": {"HATE/HIGH", "INSULTS/LOW"}, "topicPolicy": {"politics/BLOCKED"}}},
		{"wrapped in guardrail", map[string]any{"guardrail": map[string]any{"inputAssessment": map[string]any{"g": map[string]any{"contentPolicy": map[string]any{"filters": []any{filter("SEXUAL", "HIGH", "BLOCKED")}}}}}},
			map[string][]string{"contentPolicy": {"SEXUAL/HIGH"}}},
		{"detect-only items do not count", map[string]any{"inputAssessment": map[string]any{"g": map[string]any{
			"contentPolicy":              map[string]any{"filters": []any{filter("HATE", "LOW", "NONE"), map[string]any{"type": "VIOLENCE", "confidence": "LOW", "action": "BLOCKED", "detected": false}}},
			"sensitiveInformationPolicy": map[string]any{"piiEntities": []any{map[string]any{"type": "NAME", "action": "NONE", "detected": true}}},
		}}}, nil},
		{"missing fields are UNKNOWN", map[string]any{"inputAssessment": map[string]any{"contentPolicy": map[string]any{"filters": []any{map[string]any{"type": "HATE"}}}}},
			map[string][]string{"contentPolicy": {"HATE/UNKNOWN"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := driver.NormalizeMap("trace", tc.trace)
			require.NoError(t, err)
			assert.Equal(t, tc.want, manager.GuardrailSummary(n))
		})
	}
}
