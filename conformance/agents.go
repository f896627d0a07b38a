package conformance

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

func promptMetadata() *session.PromptMetadata {
	return &session.PromptMetadata{PromptID: "p-1", PromptName: "support", PromptVersion: "3",
		DeploymentID: "d-1", DeploymentName: "prod", Temperature: ptr(0.7)}
}

func agentCases() []testCase {
	return []testCase{
		{"Agent", "CreateThenGetRoundTrips", func(t *testing.T, h Harness) {
			// Strands F6, F7, S10, S11; original 8.10 create/read agent.
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			in := &session.Agent{
				ID:                       aid,
				State:                    map[string]any{"key": "value", "n": int64(2)},
				ConversationManagerState: map[string]any{"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(0)},
				InternalState:            map[string]any{"interrupt_state": map[string]any{"activated": false}},
				Config:                   session.AgentConfig{Model: "model-x", SystemPrompt: "be brief", PromptMetadata: promptMetadata()},
			}
			require.NoError(t, r.CreateAgent(ctx, sid, in))
			got, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, aid, got.ID)
			assert.Equal(t, in.State, got.State)
			assert.Equal(t, in.ConversationManagerState, got.ConversationManagerState)
			assert.Equal(t, in.InternalState, got.InternalState)
			assert.Equal(t, in.Config, got.Config)
			assert.False(t, got.CreatedAt.IsZero())
			assert.Equal(t, time.UTC, got.CreatedAt.Location())
		}},
		{"Agent", "CreateInMissingSessionIsNotFound", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			requireIs(t, r.CreateAgent(ctx, "nonexistent", &session.Agent{ID: aid}), session.ErrNotFound, "CreateAgent")
			assert.Empty(t, listAll(t, ctx, r, session.SessionQuery{}), "no phantom session")
		}},
		{"Agent", "CreateExistingIsAlreadyExistsAndKeepsStateAndMessages", func(t *testing.T, h Harness) {
			// Original bug B7: create_agent overwrote the agent and lost its
			// messages.
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 3)
			before := dumpSession(t, ctx, r, sid)
			err := r.CreateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"key": "other"}})
			requireIs(t, err, session.ErrAlreadyExists, "second CreateAgent")
			assert.Equal(t, before, dumpSession(t, ctx, r, sid))
		}},
		{"Agent", "GetMissingIsNotFound", func(t *testing.T, h Harness) {
			// Strands F8, S12.
			ctx, r := setup(t, h)
			_, err := r.GetAgent(ctx, sid, "nonexistent_agent")
			requireIs(t, err, session.ErrNotFound, "GetAgent without session")
			createSession(t, ctx, r, sid)
			_, err = r.GetAgent(ctx, sid, "nonexistent_agent")
			requireIs(t, err, session.ErrNotFound, "GetAgent without agent")
		}},
		{"Agent", "UpdateReplacesState", func(t *testing.T, h Harness) {
			// Strands F9, S13.
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			require.NoError(t, r.UpdateAgent(ctx, sid, &session.Agent{ID: aid,
				State:                    map[string]any{"updated": "value"},
				ConversationManagerState: map[string]any{"__name__": "NullConversationManager"},
				InternalState:            map[string]any{"model_state": map[string]any{"k": int64(1)}},
			}))
			got, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"updated": "value"}, got.State, "state is replaced, not merged")
			assert.Equal(t, map[string]any{"__name__": "NullConversationManager"}, got.ConversationManagerState)
			assert.Equal(t, map[string]any{"model_state": map[string]any{"k": int64(1)}}, got.InternalState)
		}},
		{"Agent", "UpdateMissingIsNotFound", func(t *testing.T, h Harness) {
			// Strands F10, S14.
			ctx, r := setup(t, h)
			requireIs(t, r.UpdateAgent(ctx, sid, &session.Agent{ID: aid}), session.ErrNotFound, "UpdateAgent without session")
			createSession(t, ctx, r, sid)
			requireIs(t, r.UpdateAgent(ctx, sid, &session.Agent{ID: aid}), session.ErrNotFound, "UpdateAgent without agent")
			agents, err := r.ListAgents(ctx, sid)
			require.NoError(t, err)
			assert.Empty(t, agents, "no phantom agent")
		}},
		{"Agent", "UpdateKeepsCreatedAtConfigAndPromptMetadata", func(t *testing.T, h Harness) {
			// Original 8.10 #258 and bug B1 (prompt_metadata wiped on sync).
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			cfg := session.AgentConfig{Model: "m", SystemPrompt: "sp", PromptMetadata: promptMetadata()}
			require.NoError(t, r.CreateAgent(ctx, sid, &session.Agent{ID: aid, Config: cfg, CreatedAt: base}))
			appendN(t, ctx, r, sid, aid, 2)
			require.NoError(t, r.UpdateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"x": true},
				Config: session.AgentConfig{Model: "ignored"}, CreatedAt: base.Add(time.Hour)}))
			got, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			sameTime(t, h, base, got.CreatedAt, "agent CreatedAt")
			assert.Equal(t, cfg, got.Config, "UpdateAgent must not touch the config")
			assert.True(t, got.UpdatedAt.After(base), "UpdatedAt moves")
			n, err := r.CountMessages(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, 2, n, "messages survive UpdateAgent")
		}},
		{"Agent", "UpdateConfigSetsOnlyGivenFields", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			require.NoError(t, r.CreateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"keep": "me"},
				Config: session.AgentConfig{Model: "m1", SystemPrompt: "sp1"}}))
			require.NoError(t, r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{Model: ptr("m2")}))
			got, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, session.AgentConfig{Model: "m2", SystemPrompt: "sp1"}, got.Config)

			pm := promptMetadata()
			require.NoError(t, r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{PromptMetadata: pm}))
			require.NoError(t, r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{SystemPrompt: ptr("")}))
			got, err = r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, session.AgentConfig{Model: "m2", SystemPrompt: "", PromptMetadata: promptMetadata()}, got.Config)
			assert.Equal(t, map[string]any{"keep": "me"}, got.State, "state untouched")

			// Prompt metadata is replaced as a whole.
			require.NoError(t, r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{PromptMetadata: &session.PromptMetadata{PromptID: "p-2"}}))
			got, err = r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, &session.PromptMetadata{PromptID: "p-2"}, got.Config.PromptMetadata)
		}},
		{"Agent", "UpdateConfigOfMissingAgentIsNotFoundWithoutPhantom", func(t *testing.T, h Harness) {
			// Original bug B8.
			ctx, r := setup(t, h)
			err := r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{Model: ptr("m")})
			requireIs(t, err, session.ErrNotFound, "UpdateAgentConfig without session")
			createSession(t, ctx, r, sid)
			err = r.UpdateAgentConfig(ctx, sid, "ghost", session.AgentConfigPatch{PromptMetadata: promptMetadata()})
			requireIs(t, err, session.ErrNotFound, "UpdateAgentConfig without agent")
			_, err = r.GetAgent(ctx, sid, "ghost")
			requireIs(t, err, session.ErrNotFound, "GetAgent of the phantom")
			agents, err := r.ListAgents(ctx, sid)
			require.NoError(t, err)
			assert.Empty(t, agents)
			// The agent can still be created normally afterwards.
			createAgent(t, ctx, r, sid, "ghost")
		}},
		{"Agent", "ListIsOrderedByID", func(t *testing.T, h Harness) {
			// Original 8.10 #259.
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			for _, id := range []string{"b", "c", "a", "agent-10", "agent-9"} {
				createAgent(t, ctx, r, sid, id)
			}
			appendN(t, ctx, r, sid, "a", 2)
			agents, err := r.ListAgents(ctx, sid)
			require.NoError(t, err)
			got := []string{}
			for _, a := range agents {
				got = append(got, a.ID)
				assert.Equal(t, map[string]any{"key": "value"}, a.State)
			}
			assert.Equal(t, []string{"a", "agent-10", "agent-9", "b", "c"}, got)
		}},
		{"Agent", "ListInMissingSessionIsNotFound", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			_, err := r.ListAgents(ctx, "nonexistent")
			requireIs(t, err, session.ErrNotFound, "ListAgents")
		}},
		{"Agent", "ConcurrentCreatesOfOneIDExactlyOneWins", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			createSession(t, ctx, r, sid)
			const n = 16
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = r.CreateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"writer": int64(i)}})
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					require.Equal(t, -1, winner, "writers %d and %d both succeeded", winner, i)
					winner = i
					continue
				}
				requireIs(t, err, session.ErrAlreadyExists, "losing CreateAgent")
			}
			require.NotEqual(t, -1, winner, "no writer succeeded")
			got, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"writer": int64(winner)}, got.State)
		}},
		{"Agent", "SameAgentIDInTwoSessionsIsIndependent", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			createSession(t, ctx, r, "other")
			createAgent(t, ctx, r, "other", aid)
			appendN(t, ctx, r, sid, aid, 3)
			require.NoError(t, r.UpdateAgent(ctx, "other", &session.Agent{ID: aid, State: map[string]any{"k": "other"}}))
			n, err := r.CountMessages(ctx, "other", aid)
			require.NoError(t, err)
			assert.Zero(t, n)
			got, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"key": "value"}, got.State)
		}},
	}
}
