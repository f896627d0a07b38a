package driver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// A Graph state as strands-agents 1.62 writes it (keys in its order, two
// spaces, no trailing newline) is read and written back byte for byte.
func TestStrandsMultiAgent_GraphFileRoundTripsByteForByte(t *testing.T) {
	t.Parallel()
	file := `{
  "type": "graph",
  "id": "default_graph",
  "status": "completed",
  "completed_nodes": [
    "research"
  ],
  "failed_nodes": [],
  "interrupted_nodes": [],
  "node_results": {
    "research": {
      "result": {
        "type": "agent_result",
        "message": {
          "role": "assistant",
          "content": [
            {
              "text": "done"
            }
          ]
        },
        "stop_reason": "end_turn"
      },
      "execution_time": 12,
      "status": "completed",
      "accumulated_usage": {
        "inputTokens": 1,
        "outputTokens": 2,
        "totalTokens": 3
      },
      "accumulated_metrics": {
        "latencyMs": 5
      },
      "execution_count": 1,
      "interrupts": []
    }
  },
  "next_nodes_to_execute": [],
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
    "inputTokens": 1,
    "outputTokens": 2,
    "totalTokens": 3
  },
  "accumulated_metrics": {
    "latencyMs": 5
  },
  "execution_count": 1,
  "execution_time": 12,
  "_internal_state": {
    "interrupt_state": {
      "interrupts": {},
      "context": {},
      "activated": false
    }
  }
}`
	m, err := driver.UnmarshalStrandsMultiAgent("default_graph", []byte(file))
	require.NoError(t, err)
	img := m.State["current_task"].([]any)[0].(map[string]any)["image"].(map[string]any)
	assert.Equal(t, []byte{0, 1, 2}, img["source"].(map[string]any)["bytes"])
	out, err := driver.MarshalStrandsMultiAgent(m)
	require.NoError(t, err)
	assert.Equal(t, file, string(out))
}

func TestStrandsMultiAgent_BadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id, data, field string
	}{
		{"id mismatch", "g", `{"id":"other"}`, "id"},
		{"not an object", "g", `[1]`, "multi_agent.json"},
		{"bad directory id", "a/b", `{}`, "multi_agent_id"},
		{"not json", "g", `{`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.UnmarshalStrandsMultiAgent(tt.id, []byte(tt.data))
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
	_, err := driver.MarshalStrandsMultiAgent(&session.MultiAgent{ID: "a/b"})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	b, err := driver.MarshalStrandsMultiAgent(&session.MultiAgent{ID: "g"})
	require.NoError(t, err)
	assert.Equal(t, "{}", string(b))
}
