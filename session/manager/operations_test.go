package manager_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

func TestAgentConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m := newManager(t, repo, "s", manager.Options{})
	initAgent(t, m, "a1", manager.AgentOptions{Config: session.AgentConfig{Model: "claude-3", SystemPrompt: "helpful"}})
	initAgent(t, m, "a2", manager.AgentOptions{})

	cfg, err := m.GetAgentConfig(ctx, "a1")
	require.NoError(t, err)
	assert.Equal(t, "claude-3", cfg.Model)
	assert.Nil(t, cfg.PromptMetadata)

	temp := 0.7
	require.NoError(t, m.SetPromptMetadata(ctx, "a1", session.PromptMetadata{PromptID: "p1", PromptVersion: "1.0.0", Temperature: &temp}))
	model := "new-model"
	require.NoError(t, m.UpdateAgentConfig(ctx, "a1", session.AgentConfigPatch{Model: &model}))
	cfg, err = m.GetAgentConfig(ctx, "a1")
	require.NoError(t, err)
	assert.Equal(t, "new-model", cfg.Model)
	assert.Equal(t, "helpful", cfg.SystemPrompt)
	require.NotNil(t, cfg.PromptMetadata)
	assert.InDelta(t, 0.7, *cfg.PromptMetadata.Temperature, 1e-9)

	agents, err := m.ListAgents(ctx)
	require.NoError(t, err)
	require.Len(t, agents, 2)
	assert.Equal(t, "a1", agents[0].AgentID)
	assert.Equal(t, "p1", agents[0].Config.PromptMetadata.PromptID)
	assert.Nil(t, agents[1].Config.PromptMetadata)

	n, err := m.MessageCount(ctx, "a1")
	require.NoError(t, err)
	assert.Zero(t, n)

	for _, tc := range []struct {
		name string
		err  error
		call func() error
	}{
		{"unknown agent", session.ErrNotFound, func() error { return m.UpdateAgentConfig(ctx, "ghost", session.AgentConfigPatch{Model: &model}) }},
		{"unknown agent prompt metadata", session.ErrNotFound, func() error { return m.SetPromptMetadata(ctx, "ghost", session.PromptMetadata{PromptID: "p"}) }},
		{"get unknown agent", session.ErrNotFound, func() error { _, err := m.GetAgentConfig(ctx, "ghost"); return err }},
		{"temperature above 2", session.ErrInvalidArgument, func() error {
			hot := 2.5
			return m.SetPromptMetadata(ctx, "a1", session.PromptMetadata{Temperature: &hot})
		}},
		{"empty patch", session.ErrInvalidArgument, func() error { return m.UpdateAgentConfig(ctx, "a1", session.AgentConfigPatch{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.call(), tc.err)
		})
	}
	agents, err = m.ListAgents(ctx)
	require.NoError(t, err)
	assert.Len(t, agents, 2, "no phantom agent (B8)")
}

func TestMetadataAndFeedback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, newMemory(), "s", manager.Options{})
	md, err := m.GetMetadata(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{}, md, "the map itself, never an {_id, metadata} wrapper (B10)")
	require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"a": 1, "b": "x"}))
	require.NoError(t, m.DeleteMetadata(ctx, []string{"a", "absent"}))
	md, err = m.GetMetadata(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"b": "x"}, md)
	require.ErrorIs(t, m.UpdateMetadata(ctx, map[string]any{"$bad": 1}), session.ErrInvalidArgument)
	require.ErrorIs(t, m.DeleteMetadata(ctx, nil), session.ErrInvalidArgument)

	f, err := m.AddFeedback(ctx, &session.Feedback{Rating: session.RatingUp, Comment: "great"})
	require.NoError(t, err)
	assert.NotEmpty(t, f.ID)
	_, err = m.AddFeedback(ctx, &session.Feedback{Rating: "meh"})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	list, err := m.ListFeedback(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "great", list[0].Comment)
}

func TestHooks_RunInOrderAroundEveryOperation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var trace []string
	record := func(name string) manager.Hook {
		return func(ctx context.Context, ev *manager.Event, next manager.Next) error {
			trace = append(trace, name+">"+string(ev.Operation))
			err := next(ctx, ev)
			trace = append(trace, name+"<"+string(ev.Operation))
			return err
		}
	}
	var seen []*manager.Event
	capture := func(ctx context.Context, ev *manager.Event, next manager.Next) error {
		err := next(ctx, ev)
		assert.Equal(t, "s", ev.SessionID)
		seen = append(seen, ev)
		return err
	}
	m := newManager(t, newMemory(), "s", manager.Options{Hooks: []manager.Hook{record("h1"), record("h2"), capture}})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	trace, seen = nil, nil

	require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"key": "val"}))
	_, err := m.GetMetadata(ctx)
	require.NoError(t, err)
	require.NoError(t, m.DeleteMetadata(ctx, []string{"key"}))
	_, err = m.AddFeedback(ctx, &session.Feedback{Rating: session.RatingDown})
	require.NoError(t, err)
	_, err = a.Append(ctx, userText("hi"))
	require.NoError(t, err)
	require.NoError(t, a.RedactLatest(ctx, userText("x"), manager.Redaction{}))

	assert.Equal(t, []string{
		"h1>update", "h2>update", "h2<update", "h1<update",
		"h1>get", "h2>get", "h2<get", "h1<get",
		"h1>delete", "h2>delete", "h2<delete", "h1<delete",
		"h1>add", "h2>add", "h2<add", "h1<add",
		"h1>append", "h2>append", "h2<append", "h1<append",
		"h1>redact", "h2>redact", "h2<redact", "h1<redact",
	}, trace)
	require.Len(t, seen, 6)
	assert.Equal(t, map[string]any{"key": "val"}, seen[0].Metadata)
	assert.Equal(t, map[string]any{"key": "val"}, seen[1].Metadata, "a get hook sees the metadata map itself")
	assert.Equal(t, []string{"key"}, seen[2].Keys)
	assert.NotEmpty(t, seen[3].Feedback.ID, "after next, the stored feedback")
	assert.Equal(t, manager.KindMessage, seen[4].Kind)
	assert.Equal(t, "a", seen[4].AgentID)
	assert.Equal(t, 0, seen[4].Message.ID)
	assert.Equal(t, userText("x"), *seen[5].Message.RedactMessage)
	assert.Equal(t, "BLOCKED", seen[5].Guardrail.Action)
}

func TestHooks_CanRewriteVetoHandleAndLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	veto := errors.New("vetoed")
	hooks := []manager.Hook{
		// Handles errors from later hooks for deletes only.
		func(ctx context.Context, ev *manager.Event, next manager.Next) error {
			err := next(ctx, ev)
			if ev.Operation == manager.OpDelete && errors.Is(err, veto) {
				return nil
			}
			return err
		},
		// Vetoes deletes and updates of "locked"; stamps every update;
		// hides "secret" from gets; reads stored state after an update.
		func(ctx context.Context, ev *manager.Event, next manager.Next) error {
			switch ev.Operation {
			case manager.OpDelete:
				return veto
			case manager.OpUpdate:
				if _, ok := ev.Metadata["locked"]; ok {
					return veto
				}
				ev.Metadata["stamped"] = true
				if err := next(ctx, ev); err != nil {
					return err
				}
				stored, err := ev.LoadMetadata(ctx)
				if err != nil {
					return err
				}
				if stored["stamped"] != true {
					return errors.New("LoadMetadata did not see the write")
				}
				return nil
			case manager.OpGet:
				if err := next(ctx, ev); err != nil {
					return err
				}
				delete(ev.Metadata, "secret")
				return nil
			}
			return next(ctx, ev)
		},
	}
	m := newManager(t, newMemory(), "s", manager.Options{Hooks: hooks})
	require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"a": 1, "secret": "s"}))
	require.ErrorIs(t, m.UpdateMetadata(ctx, map[string]any{"locked": 1}), veto, "a hook's error reaches the caller")
	require.NoError(t, m.DeleteMetadata(ctx, []string{"a"}), "an earlier hook handled the error")
	md, err := m.GetMetadata(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": int64(1), "stamped": true}, md)
}

func TestManager_ClosedRejectsCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m, err := manager.New(ctx, repo, "s", manager.Options{CloseRepository: true})
	require.NoError(t, err)
	a := initAgent(t, m, "a", manager.AgentOptions{})
	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "idempotent")
	_, err = a.Append(ctx, userText("x"))
	require.ErrorIs(t, err, manager.ErrManagerClosed)
	_, err = m.GetMetadata(ctx)
	require.ErrorIs(t, err, manager.ErrManagerClosed)
	_, err = repo.GetSession(ctx, "s")
	require.ErrorIs(t, err, session.ErrClosed, "CloseRepository closes the repository")
}
