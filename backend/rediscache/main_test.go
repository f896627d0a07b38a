package rediscache

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// retry loop must stop at Close, and no Redis call may be left running.
// Ignored: go-redis's background redial of a node that refused 5 dials (a
// Redis killed by a test), which sleeps a second before it sees its closed
// pool and exits.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}
