package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errThrottled = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}

func TestDispatcher_KeepsPerSessionOrderAcrossRetries(t *testing.T) {
	t.Parallel()
	opts := fastDelivery(nil)
	opts.QueueSize = 32 // all three sessions may hash onto one worker
	d := newDispatcher("test", opts)
	t.Cleanup(func() { _ = d.close(context.Background()) })
	var mu sync.Mutex
	got := map[string][]int{}
	failedOnce := map[string]bool{}
	for i := range 20 {
		sid := fmt.Sprintf("s%d", i%3)
		require.NoError(t, d.enqueue(job{sessionID: sid, send: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			key := fmt.Sprint(sid, i)
			if i%4 == 0 && !failedOnce[key] { // every fourth event is throttled once
				failedOnce[key] = true
				return errThrottled
			}
			got[sid] = append(got[sid], i)
			return nil
		}}))
	}
	closeHook(t, closerFunc(d.close))
	for sid, seq := range got {
		assert.IsIncreasing(t, seq, "session %s out of order", sid)
	}
	assert.Equal(t, Stats{Sent: 20, Retried: 5}, d.stats())
}

func TestDispatcher_RetriesOnlyRetryableErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantCalls int
		want      Stats
	}{
		{"throttling is retried to the limit", errThrottled, 4, Stats{Retried: 3, Failed: 1}},
		{"5xx is retried", &StatusError{StatusCode: 503}, 4, Stats{Retried: 3, Failed: 1}},
		{"permanent error is not retried", errors.New("InvalidParameter"), 1, Stats{Failed: 1}},
		{"gone is dropped, not retried", ErrGone, 1, Stats{Dropped: 1}},
		{"nothing to send is skipped", errSkipped, 1, Stats{Skipped: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newLogger()
			d := newDispatcher("test", fastDelivery(logger))
			calls := 0
			require.NoError(t, d.enqueue(job{sessionID: "s", send: func(context.Context) error {
				calls++
				return tt.err
			}}))
			closeHook(t, closerFunc(d.close))
			assert.Equal(t, tt.wantCalls, calls)
			assert.Equal(t, tt.want, d.stats())
			if tt.want.Failed > 0 {
				assert.Contains(t, logs.String(), "delivery failed")
			}
		})
	}
}

func TestDispatcher_FullQueueDropsWithoutBlocking(t *testing.T) {
	t.Parallel()
	opts := fastDelivery(nil)
	opts.Workers, opts.QueueSize = 1, 2
	d := newDispatcher("test", opts)
	release := make(chan struct{})
	started := make(chan struct{})
	block := job{sessionID: "s", send: func(context.Context) error {
		close(started)
		<-release
		return nil
	}}
	require.NoError(t, d.enqueue(block))
	<-started // the worker is busy; the queue is empty
	ok := job{sessionID: "s", send: func(context.Context) error { return nil }}
	require.NoError(t, d.enqueue(ok))
	require.NoError(t, d.enqueue(ok))
	for range 3 {
		assert.ErrorIs(t, d.enqueue(ok), ErrQueueFull)
	}
	close(release)
	closeHook(t, closerFunc(d.close))
	assert.Equal(t, Stats{Sent: 3, Dropped: 3}, d.stats())
}

func TestDispatcher_CloseGivesUpAtDeadlineAndCountsDropped(t *testing.T) {
	t.Parallel()
	opts := fastDelivery(nil)
	opts.Workers = 1
	d := newDispatcher("test", opts)
	hang := job{sessionID: "s", send: func(ctx context.Context) error {
		<-ctx.Done() // an endpoint that never answers
		return ctx.Err()
	}}
	for range 3 {
		require.NoError(t, d.enqueue(hang))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := d.close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "3 events dropped")
	assert.Equal(t, Stats{Dropped: 3}, d.stats())
	assert.ErrorIs(t, d.enqueue(hang), ErrClosed, "enqueue after close")
	assert.NoError(t, d.close(context.Background()), "second close")
}

func TestDispatcher_BackoffGrowsWithJitterUpToMax(t *testing.T) {
	t.Parallel()
	d := &dispatcher{opts: DeliveryOptions{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	for attempt, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 20 {
			b := d.backoff(attempt)
			assert.GreaterOrEqual(t, b, ceiling/2, "attempt %d", attempt)
			assert.LessOrEqual(t, b, ceiling, "attempt %d", attempt)
		}
	}
}

func TestRateLimitedLog_OneRecordPerIntervalCountingSuppressed(t *testing.T) {
	t.Parallel()
	logger, logs := newLogger()
	now := time.Unix(1000, 0)
	l := newRateLimitedLog(logger, 10*time.Second, "test")
	l.now = func() time.Time { return now }
	for range 5 {
		l.error("delivery failed", errThrottled)
	}
	now = now.Add(11 * time.Second)
	l.error("delivery failed", errThrottled)
	l.error("delivery failed", errThrottled)
	l.flush()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], "suppressed=0")
	assert.Contains(t, lines[1], "suppressed=4")
	assert.Contains(t, lines[2], "suppressed=1")
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"throttling code", fmt.Errorf("wrap: %w", errThrottled), true},
		{"http 503", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: httpResponse(503)}, Err: errors.New("x")}, true},
		{"http 429", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: httpResponse(429)}, Err: errors.New("x")}, true},
		{"http 400", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: httpResponse(400)}, Err: errors.New("x")}, false},
		{"send error inside a status-0 response error", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: httpResponse(0)}, Err: &smithyhttp.RequestSendError{Err: errors.New("connection refused")}}, true},
		{"connection refused", &smithyhttp.RequestSendError{Err: errors.New("dial tcp: connection refused")}, true},
		{"attempt timeout", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"gone", fmt.Errorf("x: %w", ErrGone), false},
		{"api gateway 500", &StatusError{StatusCode: 500}, true},
		{"api gateway 400 throttling", &StatusError{StatusCode: 400, Code: "ThrottlingException"}, true},
		{"api gateway 403", &StatusError{StatusCode: 403, Code: "ForbiddenException"}, false},
		{"not found", &smithy.GenericAPIError{Code: "NotFound"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, retryable(tt.err))
		})
	}
}

type closerFunc func(context.Context) error

func (f closerFunc) Close(ctx context.Context) error { return f(ctx) }
