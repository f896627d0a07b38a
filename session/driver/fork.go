package driver

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// PrepareFork validates req, the checks every backend makes before reading
// anything: both ids valid and different, a valid agent id when set, and a
// message id only with an agent id and never negative. The errors name
// "session_id", "agent_id" and "message_id", as the HTTP API's fields.
func PrepareFork(req session.ForkRequest) (session.ForkRequest, error) {
	if err := ValidateSessionID(req.SourceID); err != nil {
		return req, err
	}
	if err := ValidateSessionID(req.ID); err != nil {
		return req, err
	}
	if req.ID == req.SourceID {
		return req, InvalidArgument("session_id", "%q is the source session itself", req.ID)
	}
	if req.AgentID != "" {
		if err := ValidateAgentID(req.AgentID); err != nil {
			return req, err
		}
	}
	if req.MessageID != nil {
		if req.AgentID == "" {
			return req, InvalidArgument("message_id", "requires agent_id")
		}
		if err := ValidateMessageID(*req.MessageID); err != nil {
			return req, err
		}
		id := *req.MessageID
		req.MessageID = &id
	}
	return req, nil
}

// ForkCut says how many of an agent's count messages an agent fork of req
// copies, and whether the agent's conversation-manager and internal state
// are cleared (the fork stops before the last message). It reports
// ErrNotFound, wrapped with the ids, when req.MessageID is not one of the
// agent's messages. req must come from PrepareFork and name an agent.
func ForkCut(req session.ForkRequest, count int) (n int, truncated bool, err error) {
	if req.MessageID == nil {
		return count, false, nil
	}
	if *req.MessageID >= count {
		return 0, false, MessageError(req.SourceID, req.AgentID, *req.MessageID,
			fmt.Errorf("%w: the agent holds %d messages", session.ErrNotFound, count))
	}
	return *req.MessageID + 1, *req.MessageID+1 < count, nil
}

// ForkCutAgent returns a copy of a as an agent fork that stops before its
// last message stores it: ConversationManagerState becomes the state
// Strands' get_state() gives a fresh conversation manager of the same class
// (nil when a has none, or no "__name__"), and InternalState that of a fresh
// agent (an inactive interrupt state, an empty model state).
func ForkCutAgent(a *session.Agent) *session.Agent {
	out := a.Clone()
	out.ConversationManagerState = nil
	if name, ok := a.ConversationManagerState["__name__"].(string); ok {
		out.ConversationManagerState = FreshConversationManagerState(name)
	}
	out.InternalState = FreshInternalState()
	return out
}

// FreshConversationManagerState returns the state Strands' get_state()
// gives a fresh conversation manager of the named Python class (the
// sliding window's and the summarizing manager's own keys, and
// removed_message_count for any other class).
func FreshConversationManagerState(name string) map[string]any {
	switch name {
	case "SlidingWindowConversationManager":
		return map[string]any{"__name__": name, "removed_message_count": int64(0), "model_call_count": int64(0)}
	case "SummarizingConversationManager":
		return map[string]any{"summary_message": nil, "__name__": name, "removed_message_count": int64(0)}
	}
	return map[string]any{"__name__": name, "removed_message_count": int64(0)}
}

// FreshInternalState returns Strands' _internal_state of a fresh agent: an
// inactive interrupt state and an empty model state.
func FreshInternalState() map[string]any {
	return map[string]any{
		"interrupt_state": map[string]any{"interrupts": map[string]any{}, "context": map[string]any{}, "activated": false},
		"model_state":     map[string]any{},
	}
}

// NewForkOrigin returns the lineage of a fork of req made at now that copied
// n messages of req.AgentID (n is ignored for a whole-session fork).
func NewForkOrigin(req session.ForkRequest, n int, now time.Time) *session.ForkOrigin {
	o := &session.ForkOrigin{SessionID: req.SourceID, AgentID: req.AgentID, At: now}
	if req.AgentID != "" && n > 0 {
		last := n - 1
		o.MessageID = &last
	}
	return o
}

// ForkError wraps err with the source and new session ids of a fork:
// `fork "src" to "dst": <err>`.
func ForkError(req session.ForkRequest, err error) error {
	return fmt.Errorf("fork %q to %q: %w", req.SourceID, req.ID, err)
}
