package session

import "maps"

// Clone returns a deep copy of s.
func (s *Session) Clone() *Session {
	if s == nil {
		return nil
	}
	out := *s
	out.Metadata = cloneMap(s.Metadata)
	out.ForkedFrom = s.ForkedFrom.Clone()
	return &out
}

// Clone returns a deep copy of a.
func (a *Agent) Clone() *Agent {
	if a == nil {
		return nil
	}
	out := *a
	out.State = cloneMap(a.State)
	out.ConversationManagerState = cloneMap(a.ConversationManagerState)
	out.InternalState = cloneMap(a.InternalState)
	out.Config = cloneConfig(a.Config)
	return &out
}

// Clone returns a deep copy of m.
func (m *Message) Clone() *Message {
	if m == nil {
		return nil
	}
	out := *m
	out.Message = m.Message.Clone()
	if m.RedactMessage != nil {
		r := m.RedactMessage.Clone()
		out.RedactMessage = &r
	}
	if m.EventLoopMetrics != nil {
		em := cloneMetrics(*m.EventLoopMetrics)
		out.EventLoopMetrics = &em
	}
	out.GuardrailEvent = m.GuardrailEvent.Clone()
	return &out
}

// Clone returns a deep copy of c.
func (c ChatMessage) Clone() ChatMessage {
	out := ChatMessage{Role: c.Role, Metadata: cloneMap(c.Metadata), Extra: cloneMap(c.Extra)}
	if c.Content != nil {
		out.Content = make([]ContentBlock, len(c.Content))
		for i, b := range c.Content {
			out.Content[i] = ContentBlock(cloneMap(b))
		}
	}
	return out
}

// Clone returns a deep copy of ev.
func (ev *GuardrailEvent) Clone() *GuardrailEvent {
	if ev == nil {
		return nil
	}
	out := *ev
	out.PoliciesTriggered = clonePolicies(ev.PoliciesTriggered)
	out.Trace = cloneMap(ev.Trace)
	return &out
}

// Clone returns a deep copy of ev.
func (ev *SessionGuardrailEvent) Clone() *SessionGuardrailEvent {
	if ev == nil {
		return nil
	}
	out := *ev
	out.PoliciesTriggered = clonePolicies(ev.PoliciesTriggered)
	return &out
}

// Clone returns a deep copy of f.
func (f *Feedback) Clone() *Feedback {
	if f == nil {
		return nil
	}
	out := *f
	if f.MessageID != nil {
		id := *f.MessageID
		out.MessageID = &id
	}
	out.Extra = cloneMap(f.Extra)
	return &out
}

func cloneConfig(c AgentConfig) AgentConfig {
	if c.PromptMetadata != nil {
		p := *c.PromptMetadata
		if p.Temperature != nil {
			t := *p.Temperature
			p.Temperature = &t
		}
		c.PromptMetadata = &p
	}
	return c
}

func cloneMetrics(m EventLoopMetrics) EventLoopMetrics {
	if m.ToolUsage != nil {
		tu := make(map[string]ToolUsage, len(m.ToolUsage))
		for k, v := range m.ToolUsage {
			tu[k] = v
		}
		m.ToolUsage = tu
	}
	if m.InvocationUsage != nil {
		u := *m.InvocationUsage
		m.InvocationUsage = &u
	}
	return m
}

func clonePolicies(p map[string][]string) map[string][]string {
	if p == nil {
		return nil
	}
	out := make(map[string][]string, len(p))
	for k, v := range p {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Clone returns a deep copy of b.
func (b ContentBlock) Clone() ContentBlock { return ContentBlock(cloneMap(b)) }

// cloneValue deep-copies a canonical value (see driver.Normalize):
// containers are copied, scalars returned as they are.
func cloneValue(v any) any {
	switch x := v.(type) {
	case []byte:
		out := make([]byte, len(x))
		copy(out, x)
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	case map[string]any:
		return cloneMap(x)
	case ContentBlock:
		return ContentBlock(cloneMap(x))
	}
	return v
}

// cloneMap deep-copies a canonical map; nil stays nil.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	// maps.Clone copies the table in bulk, far cheaper than re-inserting
	// every key; only nested containers then need their own copies.
	out := maps.Clone(m)
	for k, v := range out {
		switch v.(type) {
		case []byte, []any, map[string]any, ContentBlock:
			out[k] = cloneValue(v)
		}
	}
	return out
}
