package transfer_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/session"
)

// Orchestrator ids with "." or "$", which the SDK's identifier validation
// allows, import from a Strands tree and export back under the same
// directory names.
func TestStrands_OrchestratorIDsTheSDKAllowsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := t.TempDir()
	files := map[string]string{
		"session_g1/session.json": `{
  "session_id": "g1",
  "session_type": "AGENT",
  "created_at": "2026-05-15T10:46:33.123456+00:00",
  "updated_at": "2026-05-15T10:46:34.123456+00:00"
}`,
		"session_g1/multi_agents/multi_agent_graph.v2/multi_agent.json": `{"type": "graph", "id": "graph.v2"}`,
		"session_g1/multi_agents/multi_agent_$swarm/multi_agent.json":   `{"type": "swarm", "id": "$swarm"}`,
	}
	for p, body := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(in, p)), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(in, p), []byte(body), 0o600))
	}
	repo := memory.New(memory.Options{})
	sum, err := transfer.ImportStrands(ctx, repo, in, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, sum.MultiAgents)
	got, err := repo.GetMultiAgent(ctx, "g1", "graph.v2")
	require.NoError(t, err)
	assert.Equal(t, "graph.v2", got.State["id"])
	out := t.TempDir()
	_, err = transfer.ExportStrands(ctx, repo, session.SessionQuery{}, out, nil)
	require.NoError(t, err)
	for _, id := range []string{"graph.v2", "$swarm"} {
		_, err := os.Stat(filepath.Join(out, "session_g1", "multi_agents", "multi_agent_"+id, "multi_agent.json"))
		assert.NoError(t, err, id)
	}
}
