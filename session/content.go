package session

import "fmt"

// TextBlock returns a {"text": text} content block.
func TextBlock(text string) ContentBlock { return ContentBlock{"text": text} }

// ToolUseBlock returns a {"toolUse": {toolUseId, name, input}} content block.
// input must be canonical (see driver.Normalize) or nil.
func ToolUseBlock(toolUseID, name string, input map[string]any) ContentBlock {
	if input == nil {
		input = map[string]any{}
	}
	return ContentBlock{"toolUse": map[string]any{"toolUseId": toolUseID, "name": name, "input": input}}
}

// ToolResultBlock returns a {"toolResult": {toolUseId, status, content}}
// content block; status is "success" or "error".
func ToolResultBlock(toolUseID, status string, content ...ContentBlock) ContentBlock {
	items := make([]any, len(content))
	for i, c := range content {
		items[i] = map[string]any(c)
	}
	return ContentBlock{"toolResult": map[string]any{"toolUseId": toolUseID, "status": status, "content": items}}
}

// Text returns the block's text and whether it is a text block.
func (b ContentBlock) Text() (string, bool) {
	s, ok := b["text"].(string)
	return s, ok
}

// ToolUse returns the block's toolUse id and tool name, and whether it is a
// toolUse block.
func (b ContentBlock) ToolUse() (id, name string, ok bool) {
	m, ok := b["toolUse"].(map[string]any)
	if !ok {
		return "", "", false
	}
	id, _ = m["toolUseId"].(string)
	name, _ = m["name"].(string)
	return id, name, true
}

// ToolResult returns the block's toolUse id and status, and whether it is a
// toolResult block.
func (b ContentBlock) ToolResult() (id, status string, ok bool) {
	m, ok := b["toolResult"].(map[string]any)
	if !ok {
		return "", "", false
	}
	id, _ = m["toolUseId"].(string)
	status, _ = m["status"].(string)
	return id, status, true
}

// Map returns the Strands dict form of c: {"role", "content", "metadata"?}
// plus any extra keys. The result shares values with c; clone it before
// mutating.
func (c ChatMessage) Map() map[string]any {
	out := make(map[string]any, 3+len(c.Extra))
	for k, v := range c.Extra {
		out[k] = v
	}
	out["role"] = string(c.Role)
	content := make([]any, len(c.Content))
	for i, b := range c.Content {
		content[i] = map[string]any(b)
	}
	out["content"] = content
	if c.Metadata != nil {
		out["metadata"] = c.Metadata
	}
	return out
}

// ChatMessageFromMap builds a ChatMessage from its Strands dict form (as
// Map returns it, or as decoded from JSON or BSON and normalized). Unknown
// keys go to Extra.
func ChatMessageFromMap(m map[string]any) (ChatMessage, error) {
	var c ChatMessage
	role, ok := m["role"].(string)
	if !ok {
		return c, fmt.Errorf("message role: %w", invalidArgument("role", "missing or not a string"))
	}
	c.Role = Role(role)
	switch content := m["content"].(type) {
	case nil:
	case []any:
		c.Content = make([]ContentBlock, len(content))
		for i, e := range content {
			b, ok := e.(map[string]any)
			if !ok {
				return c, invalidArgument(fmt.Sprintf("content[%d]", i), "is %T, not an object", e)
			}
			c.Content[i] = b
		}
	default:
		return c, invalidArgument("content", "is %T, not a list", content)
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		c.Metadata = md
	}
	for k, v := range m {
		switch k {
		case "role", "content", "metadata":
			continue
		}
		if c.Extra == nil {
			c.Extra = map[string]any{}
		}
		c.Extra[k] = v
	}
	return c, nil
}
