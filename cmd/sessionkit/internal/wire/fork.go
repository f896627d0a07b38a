package wire

import (
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// ForkOrigin is the JSON form of session.ForkOrigin: where a forked session
// was copied from. AgentID and MessageID are absent for a fork of the whole
// session.
type ForkOrigin struct {
	SessionID string    `json:"session_id"`
	AgentID   string    `json:"agent_id,omitempty"`
	MessageID *int      `json:"message_id,omitempty"`
	At        time.Time `json:"at"`
}

// FromForkOrigin converts o; nil stays nil.
func FromForkOrigin(o *session.ForkOrigin) *ForkOrigin {
	if o == nil {
		return nil
	}
	c := o.Clone()
	return &ForkOrigin{SessionID: c.SessionID, AgentID: c.AgentID, MessageID: c.MessageID, At: c.At.UTC()}
}
