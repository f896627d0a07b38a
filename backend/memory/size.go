package memory

import (
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// The size estimates below add up driver.ValueSize of every free-form value
// plus the lengths of the string fields and a fixed allowance per record for
// field names, ids and times. They only need to be monotonic in what a
// caller stores and cheap to compute: they bound memory, not bytes on disk.

// recordOverhead is the allowance per stored record for its fixed fields.
const recordOverhead = 64

func sessionSize(s *session.Session) int {
	return recordOverhead + len(s.ID) + len(s.Type) + len(s.ApplicationName) +
		len(s.ViewerPasswordHash) + driver.ValueSize(s.Metadata)
}

func agentSize(a *session.Agent) int {
	n := recordOverhead + len(a.ID) + driver.ValueSize(a.State) +
		driver.ValueSize(a.ConversationManagerState) + driver.ValueSize(a.InternalState) +
		len(a.Config.Model) + len(a.Config.SystemPrompt)
	if p := a.Config.PromptMetadata; p != nil {
		n += recordOverhead + len(p.PromptID) + len(p.PromptName) + len(p.PromptVersion) +
			len(p.DeploymentID) + len(p.DeploymentName)
	}
	return n
}

func chatSize(c *session.ChatMessage) int {
	if c == nil {
		return 0
	}
	n := recordOverhead + len(c.Role) + driver.ValueSize(c.Metadata) + driver.ValueSize(c.Extra)
	for _, b := range c.Content {
		n += 8 + driver.ValueSize(map[string]any(b))
	}
	return n
}

func messageSize(m *session.Message) int {
	n := recordOverhead + chatSize(&m.Message) + chatSize(m.RedactMessage)
	if em := m.EventLoopMetrics; em != nil {
		n += 4 * recordOverhead
		for name := range em.ToolUsage {
			n += recordOverhead + len(name)
		}
	}
	if ev := m.GuardrailEvent; ev != nil {
		n += recordOverhead + len(ev.Action) + len(ev.StopReason) +
			policiesSize(ev.PoliciesTriggered) + driver.ValueSize(ev.Trace)
	}
	return n
}

func policiesSize(p map[string][]string) int {
	n := 0
	for k, v := range p {
		n += len(k) + 8
		for _, s := range v {
			n += len(s) + 8
		}
	}
	return n
}

func feedbackSize(f *session.Feedback) int {
	return recordOverhead + len(f.ID) + len(f.Rating) + len(f.Comment) + len(f.AgentID) +
		driver.ValueSize(f.Extra)
}

func guardrailAuditSize(ev *session.SessionGuardrailEvent) int {
	return recordOverhead + len(ev.AgentID) + len(ev.Action) + len(ev.StopReason) +
		policiesSize(ev.PoliciesTriggered)
}
