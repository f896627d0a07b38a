package manager

import (
	"context"

	"github.com/sessionkit/sessionkit/session"
)

// Kind says what an Event is about.
type Kind string

// Event kinds.
const (
	KindMetadata Kind = "metadata"
	KindFeedback Kind = "feedback"
	KindMessage  Kind = "message"
)

// Operation says what is being done; the metadata and feedback names are
// the Python original's hook actions.
type Operation string

// Operations.
const (
	OpUpdate Operation = "update" // metadata update
	OpGet    Operation = "get"    // metadata get
	OpDelete Operation = "delete" // metadata key delete
	OpAdd    Operation = "add"    // feedback add
	OpAppend Operation = "append" // message append
	OpRedact Operation = "redact" // latest-message redaction
)

// Event is what a Hook sees: the operation, the session and the payload.
// Hooks may read and change the payload before calling next (to validate or
// rewrite) and read the result after it returns.
type Event struct {
	Kind      Kind
	Operation Operation
	SessionID string
	// AgentID is set for message events and for feedback that points at a
	// message.
	AgentID string
	// Metadata is the update payload for OpUpdate and, once next has
	// returned, the stored metadata map itself for OpGet (a get hook may
	// filter it before returning).
	Metadata map[string]any
	// Keys are the keys being removed, for OpDelete.
	Keys []string
	// Feedback is the feedback being added, for OpAdd; after next returns
	// it is the stored copy, with its id and creation time.
	Feedback *session.Feedback
	// Message is the message appended or redacted (after next returns, as
	// stored), for OpAppend and OpRedact.
	Message *session.Message
	// Guardrail is the guardrail event recorded with an OpRedact, if any.
	Guardrail *session.GuardrailEvent
	// LoadMetadata reads the session's stored metadata. Hooks that need
	// stored state (a WebSocket connection id, say) call it outside the
	// write path — after next returns, or later from their own worker.
	LoadMetadata func(ctx context.Context) (map[string]any, error)

	// do performs message operations at the end of the chain, with the
	// payload as the hooks left it.
	do func(ctx context.Context, ev *Event) error
}

// Next continues the hook chain; the last Next performs the operation.
type Next func(ctx context.Context, ev *Event) error

// Hook is session-manager middleware. Hooks run in registration order; each
// decides whether and when to call next. An error a hook returns reaches the
// caller unless an earlier hook handles it. A hook that only observes calls
// next and then acts on its result:
//
//	func audit(ctx context.Context, ev *manager.Event, next manager.Next) error {
//		if err := next(ctx, ev); err != nil {
//			return err
//		}
//		log.Printf("%s %s on %s", ev.Kind, ev.Operation, ev.SessionID)
//		return nil
//	}
type Hook func(ctx context.Context, ev *Event, next Next) error

// chain runs hooks in order around final.
func chain(hooks []Hook, final Next) Next {
	next := final
	for i := len(hooks) - 1; i >= 0; i-- {
		h, inner := hooks[i], next
		next = func(ctx context.Context, ev *Event) error { return h(ctx, ev, inner) }
	}
	return next
}
