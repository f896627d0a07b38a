package session_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessionkit/sessionkit/session"
)

func TestSnapshotsOf(t *testing.T) {
	t.Parallel()
	_, err := session.SnapshotsOf(struct{}{})
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}
