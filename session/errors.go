package session

import (
	"errors"
	"fmt"
)

// The closed set of error kinds every Repository reports. Backends translate
// their native errors into these, wrapped with context, so callers and the
// conformance suite can test which error happened with errors.Is.
var (
	// ErrNotFound reports that a session, agent, message or feedback target
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists reports a create of a session or agent that already
	// exists. Nothing is overwritten.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict reports a write that lost a race or broke an ordering rule,
	// such as creating message N when the agent does not hold exactly N
	// messages. Re-read and retry.
	ErrConflict = errors.New("conflict")
	// ErrInvalidArgument reports bad input: an empty or malformed id, a
	// forbidden key, a value that cannot be encoded. Nothing was written.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrTooLarge reports a write that would push a value or a session past
	// the backend's size limit. Nothing was written.
	ErrTooLarge = errors.New("too large")
	// ErrClosed reports a call on a repository that has been closed.
	ErrClosed = errors.New("repository closed")
)

// invalidArgument is driver.InvalidArgument for this package's own checks.
func invalidArgument(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// FieldError is the error behind driver.InvalidArgument: it names the field that was
// rejected and why. It matches ErrInvalidArgument with errors.Is.
type FieldError struct {
	// Field is the name of the rejected input, e.g. "agent_id" or
	// "metadata key".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid argument: %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidArgument }
