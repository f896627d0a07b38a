package rediscache

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// retry loop must stop at Close, and no Redis call may be left running.
// Ignored: go-redis's background redial of a node that refused 5 dials (a
// Redis killed by a test), which sleeps a second before it sees its closed
// pool and exits. go-redis's own log (a line per failed redial of a killed
// node, dozens per fault test) is silenced: the tests assert on the cache's
// counters instead.
func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
