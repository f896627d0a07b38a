package driver_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func TestFieldError(t *testing.T) {
	t.Parallel()
	err := driver.InvalidArgument("agent_id", "%q must not contain %q", "a.b", ".")
	assert.Equal(t, `invalid argument: agent_id: "a.b" must not contain "."`, err.Error())
	assert.ErrorIs(t, err, session.ErrInvalidArgument)
	for _, other := range []error{session.ErrNotFound, session.ErrAlreadyExists, session.ErrConflict,
		session.ErrTooLarge, session.ErrClosed} {
		assert.NotErrorIs(t, err, other)
	}
	var fe *session.FieldError
	require.ErrorAs(t, fmt.Errorf("outer: %w", err), &fe)
	assert.Equal(t, "agent_id", fe.Field)
}

func TestErrorWrappers_KeepKindAndNameIDs(t *testing.T) {
	t.Parallel()
	kinds := []error{session.ErrNotFound, session.ErrAlreadyExists, session.ErrConflict,
		session.ErrInvalidArgument, session.ErrTooLarge, session.ErrClosed}
	for _, kind := range kinds {
		t.Run(kind.Error(), func(t *testing.T) {
			t.Parallel()
			tests := []struct {
				err  error
				text string
			}{
				{driver.SessionError("s1", kind), `session "s1": ` + kind.Error()},
				{driver.AgentError("s1", "a\"1", kind), `session "s1": agent "a\"1": ` + kind.Error()},
				{driver.MessageError("s1", "a1", 7, kind), `session "s1": agent "a1": message 7: ` + kind.Error()},
			}
			for _, tt := range tests {
				assert.ErrorIs(t, tt.err, kind)
				assert.Equal(t, tt.text, tt.err.Error())
				for _, other := range kinds {
					if other != kind {
						assert.False(t, errors.Is(tt.err, other), "%v is not %v", tt.err, other)
					}
				}
			}
		})
	}
}
