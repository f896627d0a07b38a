package mongo

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockSession_SerializesHoldersOfOneKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			unlock, err := lockSession(ctx, "test-serialize")
			if !assert.NoError(t, err) {
				return
			}
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), maxInside.Load())
	assertNoLockEntry(t, "test-serialize")
}

func TestLockSession_WaiterGivesUpWithItsContext(t *testing.T) {
	t.Parallel()
	unlock, err := lockSession(context.Background(), "test-cancel")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = lockSession(ctx, "test-cancel")
	require.ErrorIs(t, err, context.DeadlineExceeded, "a waiter returns when its context ends, not when the holder unlocks")

	other, err := lockSession(context.Background(), "test-cancel-other")
	require.NoError(t, err, "other keys are independent")
	other()

	unlock()
	again, err := lockSession(context.Background(), "test-cancel")
	require.NoError(t, err, "the waiter that gave up left the lock free")
	again()
	assertNoLockEntry(t, "test-cancel")
}

func assertNoLockEntry(t *testing.T, key string) {
	t.Helper()
	sessionLocks.Lock()
	defer sessionLocks.Unlock()
	assert.NotContains(t, sessionLocks.m, key, "entries nobody holds or waits on are removed")
}
