package rediscache

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// retry loop must stop at Close, and no Redis call may be left running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
