package driver

import (
	"fmt"

	"github.com/sessionkit/sessionkit/session"
)

// MarshalStrandsMultiAgent encodes m as Strands' FileSessionManager writes
// multi_agent.json: the orchestrator's serialize_state() object itself,
// with json.dump(indent=2, ensure_ascii=False) formatting (see the package
// documentation). The file has no timestamps, so CreatedAt and UpdatedAt are
// not written. Graph and Swarm states (by their "type") keep the key order
// strands-agents 1.62 writes for their top level, node results and usage;
// other dicts are written with sorted keys, so the file is JSON-equal to
// the SDK's and byte-identical when the SDK's own free-form dicts are
// sorted. []byte values become {"__bytes_encoded__": true, "data": ...}.
// An invalid id or a value Normalize rejects is ErrInvalidArgument.
func MarshalStrandsMultiAgent(m *session.MultiAgent) ([]byte, error) {
	if m == nil {
		return nil, InvalidArgument("multi_agent", "is nil")
	}
	if err := ValidateMultiAgentID(m.ID); err != nil {
		return nil, err
	}
	state, err := normalizeObject("state", m.State)
	if err != nil {
		return nil, MultiAgentError("", m.ID, err)
	}
	return encodeStrands(state, multiAgentStateShape), nil
}

// UnmarshalStrandsMultiAgent decodes a Strands multi_agent.json stored under
// the orchestrator id id (the file lives in multi_agents/multi_agent_<id>/).
// The whole object is the state; bytes-encoded objects become []byte. The
// object's own "id", when present, must be id. The times are left zero.
// Errors are ErrInvalidArgument naming the field.
func UnmarshalStrandsMultiAgent(id string, data []byte) (*session.MultiAgent, error) {
	if err := ValidateMultiAgentID(id); err != nil {
		return nil, err
	}
	doc, err := decodeStrandsObject("multi_agent.json", data)
	if err != nil {
		return nil, err
	}
	if v, ok := doc["id"]; ok && v != id {
		return nil, InvalidArgument("id", "%v does not match the multi-agent id %q", v, id)
	}
	state, err := normalizeObject("state", doc)
	if err != nil {
		return nil, fmt.Errorf("multi-agent %q: %w", id, err)
	}
	return &session.MultiAgent{ID: id, State: state}, nil
}

// The key orders of Graph.serialize_state() and Swarm.serialize_state() as
// strands-agents 1.62 writes them (strands-2026.md, "Multi-agent record").
var multiAgentStateShape = &shape{}

func init() {
	usage := &shape{first: []string{"inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens", "cacheWriteInputTokens"}}
	metrics := &shape{first: []string{"latencyMs", "timeToFirstByteMs"}}
	nodeResult := &shape{
		first:  []string{"result", "execution_time", "status", "accumulated_usage", "accumulated_metrics", "execution_count", "interrupts"},
		fields: map[string]*shape{"accumulated_usage": usage, "accumulated_metrics": metrics},
	}
	nodeResult.fields["result"] = &shape{
		firstFor: func(r map[string]any) []string {
			switch r["type"] {
			case "agent_result":
				return []string{"type", "message", "stop_reason"}
			case "exception":
				return []string{"type", "message"}
			}
			return []string{"type", "status", "results", "accumulated_usage", "accumulated_metrics", "execution_count", "execution_time", "interrupts"}
		},
		fields: map[string]*shape{
			"message": messageShape, "results": {values: nodeResult},
			"accumulated_usage": usage, "accumulated_metrics": metrics,
		},
	}
	multiAgentStateShape.firstFor = func(m map[string]any) []string {
		switch m["type"] {
		case "graph":
			return []string{"type", "id", "status", "completed_nodes", "failed_nodes", "interrupted_nodes", "node_results",
				"next_nodes_to_execute", "current_task", "execution_order", "accumulated_usage", "accumulated_metrics",
				"execution_count", "execution_time", "_internal_state"}
		case "swarm":
			return []string{"type", "id", "status", "node_history", "node_results", "next_nodes_to_execute", "current_task",
				"accumulated_usage", "accumulated_metrics", "execution_time", "context", "_internal_state"}
		}
		return []string{"type", "id"}
	}
	multiAgentStateShape.fields = map[string]*shape{
		"node_results":        {values: nodeResult},
		"current_task":        {elems: contentBlockShape},
		"accumulated_usage":   usage,
		"accumulated_metrics": metrics,
		"context":             {first: []string{"shared_context", "handoff_node", "handoff_message"}},
		"_internal_state":     {first: []string{"interrupt_state"}, fields: map[string]*shape{"interrupt_state": {first: []string{"interrupts", "context", "activated"}}}},
	}
}
