package demo_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func TestRun_WritesEveryFeatureAndResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	var out bytes.Buffer
	res, err := demo.Run(ctx, repo, demo.Options{RunID: "t1", Out: &out})
	require.NoError(t, err)
	require.Equal(t, []string{"demo-t1-support", "demo-t1-travel", "demo-t1-billing"}, res.SessionIDs)
	assert.Equal(t, "demo-t1-support", res.Resumed)

	support, err := repo.GetSession(ctx, "demo-t1-support")
	require.NoError(t, err)
	assert.Equal(t, demo.AppSupport, support.ApplicationName)
	assert.Equal(t, map[string]any{"status": "resolved", "priority": "high"}, support.Metadata)
	assert.True(t, driver.VerifyViewerPassword(support.ViewerPasswordHash, res.ViewerPasswords["demo-t1-support"]))

	msgs, err := repo.ListMessages(ctx, "demo-t1-support", "support-agent", 0, 0)
	require.NoError(t, err)
	var toolCalls, redacted, withMetrics int
	for _, m := range msgs {
		for _, b := range m.Message.Content {
			if _, name, ok := b.ToolUse(); ok && name == demo.ToolLookupOrder {
				toolCalls++
			}
		}
		if m.RedactMessage != nil {
			redacted++
			require.NotNil(t, m.GuardrailEvent)
		}
		if m.EventLoopMetrics != nil {
			withMetrics++
		}
	}
	assert.Equal(t, 1, toolCalls)
	assert.Equal(t, 1, redacted)
	assert.Positive(t, withMetrics)
	guards, err := repo.ListGuardrailEvents(ctx, "demo-t1-support")
	require.NoError(t, err)
	assert.Len(t, guards, 1)
	fb, err := repo.ListFeedback(ctx, "demo-t1-support")
	require.NoError(t, err)
	require.Len(t, fb, 2)
	require.NotNil(t, fb[0].MessageID)
	assert.Equal(t, "support-agent", fb[0].AgentID)

	agents, err := repo.ListAgents(ctx, "demo-t1-travel")
	require.NoError(t, err)
	assert.Len(t, agents, 2)

	text := out.String()
	for _, want := range []string{"tool call lookup_order", "REDACTED", "GUARDRAIL BLOCKED", "feedback up", "metrics:", "INSULTS/HIGH", "Has the refund arrived?"} {
		assert.Contains(t, text, want)
	}
}

func TestRun_TwiceIntoOneStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	_, err := demo.Run(ctx, repo, demo.Options{})
	require.NoError(t, err)
	_, err = demo.Run(ctx, repo, demo.Options{})
	require.NoError(t, err, "fresh run ids never collide")
	page, err := repo.ListSessions(ctx, session.SessionQuery{})
	require.NoError(t, err)
	assert.Len(t, page.Sessions, 6)

	_, err = demo.Run(ctx, repo, demo.Options{RunID: "same"})
	require.NoError(t, err)
	_, err = demo.Run(ctx, repo, demo.Options{RunID: "same"})
	require.ErrorIs(t, err, session.ErrAlreadyExists, "a reused run id is refused, nothing overwritten")
}
