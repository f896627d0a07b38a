package driver

import (
	"fmt"

	"github.com/sessionkit/sessionkit/session"
)

// InvalidArgument returns an error that matches ErrInvalidArgument and names
// the offending field, for example `invalid argument: agent_id "a.b": must not
// contain "."`.
func InvalidArgument(field, format string, args ...any) error {
	return &session.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// SessionError wraps err with the session id it concerns:
// `session "abc": <err>`.
func SessionError(sessionID string, err error) error {
	return fmt.Errorf("session %q: %w", sessionID, err)
}

// AgentError wraps err with the session and agent ids it concerns:
// `session "abc": agent "x": <err>`.
func AgentError(sessionID, agentID string, err error) error {
	return fmt.Errorf("session %q: agent %q: %w", sessionID, agentID, err)
}

// MessageError wraps err with the session, agent and message ids it concerns.
func MessageError(sessionID, agentID string, messageID int, err error) error {
	return fmt.Errorf("session %q: agent %q: message %d: %w", sessionID, agentID, messageID, err)
}
