package server

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A flood of made-up keys (failures against ids that do not exist) fills
// the table; the bucket dropped to make room is never the spent bucket of
// the target under attack, so the flood cannot reset its limit.
func TestLimiter_FullTableNeverForgetsASpentBucket(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	l := newLimiter(Rate{PerSecond: 0.01, Burst: 3}, func() time.Time { return now })
	for range 3 {
		require.True(t, l.take("session\x00victim"))
	}
	require.False(t, l.take("session\x00victim"), "the victim's budget is spent")
	for i := range 2 * maxBuckets {
		l.take("session\x00made-up-" + strconv.Itoa(i))
	}
	assert.LessOrEqual(t, len(l.buckets), maxBuckets, "memory stays bounded")
	assert.False(t, l.take("session\x00victim"), "the flood did not reset the victim's budget")
}
