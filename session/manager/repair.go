package manager

import (
	"slices"

	"github.com/sessionkit/sessionkit/session"
)

// InterruptedToolText is the text of the error toolResult RepairToolUse adds
// for a toolUse that never got its result.
const InterruptedToolText = "Tool was interrupted."

// RepairToolUse returns msgs with broken toolUse/toolResult pairs repaired,
// as Strands' _fix_broken_tool_use does, without touching msgs or the store:
//
//   - a leading user message holding toolResults (its toolUse was cut off by
//     the window) is dropped;
//   - for every message but the last, each toolUse without a toolResult in
//     the next message gets an error toolResult "Tool was interrupted.",
//     appended to the next message when it already holds toolResults,
//     otherwise in a new user message inserted after it.
//
// Unlike Strands, the added results follow the toolUse order, so the repair
// is deterministic. A toolUse in the last message is left alone: the agent
// is still waiting for its result.
func RepairToolUse(msgs []session.ChatMessage) []session.ChatMessage {
	out := make([]session.ChatMessage, len(msgs), len(msgs)+1)
	for i, c := range msgs {
		out[i] = c.Clone()
	}
	return repairToolUse(out)
}

// repairToolUse is RepairToolUse without the copy, on a slice the caller
// owns: it reorders and extends out's elements (in its backing array) but
// never changes the contents they point to: a repaired message gets a new
// content slice. The contents may therefore be the store's immutable
// values, as in resume.
func repairToolUse(out []session.ChatMessage) []session.ChatMessage {
	if len(out) > 0 && out[0].Role == session.RoleUser && hasToolResult(out[0]) {
		out = out[1:]
	}
	for i := 0; i < len(out)-1; i++ {
		uses := toolUseIDs(out[i])
		if len(uses) == 0 {
			continue
		}
		answered := map[string]bool{}
		for _, b := range out[i+1].Content {
			if id, _, ok := b.ToolResult(); ok {
				answered[id] = true
			}
		}
		var missing []session.ContentBlock
		for _, id := range uses {
			if !answered[id] {
				answered[id] = true
				missing = append(missing, session.ToolResultBlock(id, "error", session.TextBlock(InterruptedToolText)))
			}
		}
		if len(missing) == 0 {
			continue
		}
		if hasToolResult(out[i+1]) {
			// A new slice: the old one may be shared with msgs.
			out[i+1].Content = append(slices.Clip(out[i+1].Content), missing...)
			continue
		}
		inserted := session.ChatMessage{Role: session.RoleUser, Content: missing}
		out = append(out[:i+1], append([]session.ChatMessage{inserted}, out[i+1:]...)...)
		i++ // the inserted message answers msgs[i]; continue after it
	}
	return out
}

func hasToolResult(c session.ChatMessage) bool {
	for _, b := range c.Content {
		if _, _, ok := b.ToolResult(); ok {
			return true
		}
	}
	return false
}

func toolUseIDs(c session.ChatMessage) []string {
	var ids []string
	for _, b := range c.Content {
		if id, _, ok := b.ToolUse(); ok {
			ids = append(ids, id)
		}
	}
	return ids
}
