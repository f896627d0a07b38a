package transfer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/session"
)

// graphFile is a Graph's multi_agent.json as strands-agents writes it, with
// bytes in current_task.
const graphFile = `{
  "type": "graph",
  "id": "default_graph",
  "status": "interrupted",
  "completed_nodes": [
    "research"
  ],
  "failed_nodes": [],
  "interrupted_nodes": [
    "write"
  ],
  "node_results": {},
  "next_nodes_to_execute": [
    "write"
  ],
  "current_task": [
    {
      "image": {
        "format": "png",
        "source": {
          "bytes": {
            "__bytes_encoded__": true,
            "data": "AAEC"
          }
        }
      }
    }
  ],
  "execution_order": [
    "research"
  ],
  "accumulated_usage": {
    "inputTokens": 0,
    "outputTokens": 0,
    "totalTokens": 0
  },
  "accumulated_metrics": {
    "latencyMs": 0
  },
  "execution_count": 1,
  "execution_time": 3,
  "_internal_state": {
    "interrupt_state": {
      "interrupts": {},
      "context": {
        "completed_nodes": [
          "research"
        ]
      },
      "activated": true
    }
  }
}`

// writeTree writes a Strands FileSessionManager tree holding one session
// with only orchestrators (its agents/ folder empty), as a Graph or Swarm
// run leaves it.
func writeTree(t *testing.T, dir string) {
	t.Helper()
	root := filepath.Join(dir, "session_g1")
	files := map[string]string{
		"session.json": `{
  "session_id": "g1",
  "session_type": "AGENT",
  "created_at": "2026-05-15T10:46:33.123456+00:00",
  "updated_at": "2026-05-15T10:46:33.123456+00:00"
}`,
		"multi_agents/multi_agent_default_graph/multi_agent.json": graphFile,
		"multi_agents/multi_agent_default_swarm/multi_agent.json": `{"type": "swarm", "id": "default_swarm", "status": "completed", "node_history": []}`,
	}
	for p, body := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o700))
		require.NoError(t, os.WriteFile(full, []byte(body), 0o600))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "agents"), 0o700))
}

// Observed: import --format strands silently dropped every
// multi_agents/…/multi_agent.json and the export wrote an empty
// multi_agents/ folder, so a resumed Graph failed. Every record is now
// imported and exported.
func TestStrands_MultiAgentFilesImportAndExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := t.TempDir()
	writeTree(t, src)

	for name, repo := range map[string]session.Repository{"memory": memory.New(memory.Options{}), "sqlite": openSQLite(t)} {
		t.Run(name, func(t *testing.T) {
			sum, err := transfer.ImportStrands(ctx, repo, src, transfer.ImportOptions{})
			require.NoError(t, err)
			assert.Equal(t, 1, sum.Sessions)
			assert.Equal(t, 2, sum.MultiAgents)

			ma := repo.(session.MultiAgentStore)
			g, err := ma.GetMultiAgent(ctx, "g1", "default_graph")
			require.NoError(t, err, "the Graph's state was not imported")
			assert.Equal(t, "interrupted", g.State["status"])
			img := g.State["current_task"].([]any)[0].(map[string]any)["image"].(map[string]any)
			assert.Equal(t, []byte{0, 1, 2}, img["source"].(map[string]any)["bytes"])
			_, err = ma.GetMultiAgent(ctx, "g1", "default_swarm")
			require.NoError(t, err)

			out := t.TempDir()
			esum, err := transfer.ExportStrands(ctx, repo, session.SessionQuery{}, out, nil)
			require.NoError(t, err)
			assert.Equal(t, 2, esum.MultiAgents)
			got, err := os.ReadFile(filepath.Join(out, "session_g1/multi_agents/multi_agent_default_graph/multi_agent.json"))
			require.NoError(t, err)
			assert.Equal(t, graphFile, string(got), "the Graph file is written back byte for byte")
			got, err = os.ReadFile(filepath.Join(out, "session_g1/multi_agents/multi_agent_default_swarm/multi_agent.json"))
			require.NoError(t, err)
			var want, have any
			require.NoError(t, json.Unmarshal([]byte(`{"type": "swarm", "id": "default_swarm", "status": "completed", "node_history": []}`), &want))
			require.NoError(t, json.Unmarshal(got, &have))
			assert.Equal(t, want, have, "the Swarm file is written back JSON-equal")
		})
	}
}

// Anything in a Strands tree the importer cannot map is an error naming the
// file, and nothing of that session is written.
func TestStrands_UnmappableFilesAreErrorsNamingTheFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, body string
		dir              bool
	}{
		{"stray file in the session", "session_g1/notes.txt", "x", false},
		{"stray file in multi_agents", "session_g1/multi_agents/readme.md", "x", false},
		{"orchestrator folder without its file", "session_g1/multi_agents/multi_agent_empty", "", true},
		{"stray file in an orchestrator folder", "session_g1/multi_agents/multi_agent_default_graph/multi_agent.json.tmp", "{}", false},
		{"orchestrator id not allowed", "session_g1/multi_agents/multi_agent_a\x01b/multi_agent.json", "{}", false},
		{"orchestrator file that is not an object", "session_g1/multi_agents/multi_agent_x/multi_agent.json", "[]", false},
		{"stray file in agents", "session_g1/agents/agent.json", "{}", false},
		{"stray file in messages", "session_g1/agents/agent_a/messages/message_0.json.tmp", "{}", false},
		{"stray entry at the root", "other", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			writeTree(t, dir)
			if filepath.Base(filepath.Dir(tt.path)) == "messages" {
				adir := filepath.Join(dir, "session_g1/agents/agent_a")
				require.NoError(t, os.MkdirAll(filepath.Join(adir, "messages"), 0o700))
				require.NoError(t, os.WriteFile(filepath.Join(adir, "agent.json"),
					[]byte(`{"agent_id":"a","state":{},"conversation_manager_state":{}}`), 0o600))
			}
			full := filepath.Join(dir, filepath.FromSlash(tt.path))
			if tt.dir {
				require.NoError(t, os.MkdirAll(full, 0o700))
			} else {
				require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o700))
				require.NoError(t, os.WriteFile(full, []byte(tt.body), 0o600))
			}
			repo := memory.New(memory.Options{})
			_, err := transfer.ImportStrands(ctx, repo, dir, transfer.ImportOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Base(tt.path), "the error names the file")
			_, err = repo.GetSession(ctx, "g1")
			assert.ErrorIs(t, err, session.ErrNotFound, "nothing of the session is written")
		})
	}
}

// The JSON Lines export carries orchestrator records too, with their times.
func TestJSONL_MultiAgentsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := filled(t)
	created := time.Date(2026, 3, 4, 5, 6, 7, 891000000, time.UTC)
	state := map[string]any{"type": "swarm", "id": "default_swarm", "blob": []byte{0, 0xff}, "n": int64(2), "f": 2.0}
	require.NoError(t, src.CreateMultiAgent(ctx, "demo-x-support", &session.MultiAgent{ID: "default_swarm", State: state,
		CreatedAt: created, UpdatedAt: created.Add(time.Minute)}))
	var buf bytes.Buffer
	sum, err := transfer.ExportJSONL(ctx, src, session.SessionQuery{}, &buf, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.MultiAgents)

	dst := openSQLite(t)
	isum, err := transfer.ImportJSONL(ctx, dst, &buf, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, sum, isum)
	got, err := dst.(session.MultiAgentStore).GetMultiAgent(ctx, "demo-x-support", "default_swarm")
	require.NoError(t, err)
	assert.Equal(t, state, got.State)
	assert.True(t, created.Equal(got.CreatedAt), "CreatedAt %s", got.CreatedAt)
	assert.True(t, created.Add(time.Minute).Equal(got.UpdatedAt), "UpdatedAt %s", got.UpdatedAt)
	assert.Equal(t, readAll(t, src), readAll(t, dst))

	// A bad orchestrator id in a line is refused before anything is written.
	line := `{"session":{"session_id":"z"},"agents":[],"feedback":[],"guardrail_events":[],"multi_agents":[{"multi_agent_id":"a\u0001b","state":{}}]}`
	_, err = transfer.ImportJSONL(ctx, dst, strings.NewReader(line), transfer.ImportOptions{})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "multi_agent_id")
	_, err = dst.GetSession(ctx, "z")
	require.ErrorIs(t, err, session.ErrNotFound)
}
