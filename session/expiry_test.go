package session_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var fe *session.FieldError
	require.ErrorAs(t, err, &fe)
	return fe.Field
}

func TestParseRetentionPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    session.RetentionPolicy
		invalid bool
	}{
		{in: "", want: session.RetentionPolicy{}},
		{in: "bot=30d, *=12h", want: session.RetentionPolicy{"bot": 30 * 24 * time.Hour, "*": 12 * time.Hour}},
		{in: "bot=0d", invalid: true},
		{in: "bot=-1h", invalid: true},
		{in: "bot", invalid: true},
		{in: "=1h", invalid: true},
		{in: "bot=soon", invalid: true},
	} {
		got, err := session.ParseRetentionPolicy(tc.in)
		if tc.invalid {
			assert.Equal(t, "retention", fieldOf(t, err), tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestRetentionPolicy_Apply(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	p := session.RetentionPolicy{"bot": time.Hour, "*": 24 * time.Hour}
	for _, tc := range []struct {
		s    session.Session
		want time.Time
	}{
		{session.Session{ApplicationName: "bot"}, now.Add(time.Hour)},
		{session.Session{ApplicationName: "other"}, now.Add(24 * time.Hour)},
		{session.Session{ApplicationName: "bot", ExpiresAt: now.Add(time.Minute)}, now.Add(time.Minute)},
	} {
		s := tc.s
		require.NoError(t, p.Apply(&s, now))
		assert.Equal(t, tc.want, s.ExpiresAt, tc.s.ApplicationName)
	}
	s := session.Session{ApplicationName: "x"}
	require.NoError(t, session.RetentionPolicy{"bot": time.Hour}.Apply(&s, now))
	assert.True(t, s.ExpiresAt.IsZero(), "no entry, no expiry")
	assert.Equal(t, "retention", fieldOf(t, session.RetentionPolicy{"bot": 0}.Apply(&session.Session{ApplicationName: "bot"}, now)))
	_, err := session.ExpiryAfter(now, 0)
	assert.Equal(t, "retention", fieldOf(t, err))
}

func TestPrepareExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	got, err := driver.PrepareExpiry(time.Time{}, now)
	require.NoError(t, err)
	assert.True(t, got.IsZero())
	got, err = driver.PrepareExpiry(now.Add(time.Nanosecond*1500), now)
	require.NoError(t, err)
	assert.Equal(t, now.Add(time.Microsecond), got, "microsecond precision")
	for _, at := range []time.Time{now, now.Add(-time.Hour)} {
		_, err := driver.PrepareExpiry(at, now)
		assert.Equal(t, "expires_at", fieldOf(t, err))
	}
	_, err = driver.PrepareSession(&session.Session{ID: "s", ExpiresAt: now}, now)
	assert.Equal(t, "expires_at", fieldOf(t, err), "CreateSession refuses a past expiry")
}

func TestParseDuration_Days(t *testing.T) {
	t.Parallel()
	d, err := session.ParseDuration("30d")
	require.NoError(t, err)
	assert.Equal(t, 720*time.Hour, d)
	d, err = session.ParseDuration("90m")
	require.NoError(t, err)
	assert.Equal(t, 90*time.Minute, d)
	_, err = session.ParseDuration("1.5d")
	assert.Error(t, err)
}

// A pass sweeps in batches until one comes back short, counts what it did,
// and reports errors; Close stops the loop and is idempotent; a disabled
// sweeper is nil and harmless.
func TestSweeper_PassBatchesAndStats(t *testing.T) {
	t.Parallel()
	left := atomic.Int64{}
	left.Store(7)
	sweep := func(ctx context.Context, limit int) (int, error) {
		n := min(int(left.Load()), limit)
		left.Add(-int64(n))
		return n, nil
	}
	s := driver.StartSweeper(sweep, session.SweeperOptions{Interval: time.Hour, Batch: 3})
	t.Cleanup(s.Close)
	n, err := s.Pass(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 7, n, "3 + 3 + 1: stops at the short batch")
	st := s.Stats()
	assert.Equal(t, 7.0, st["expiry_sessions_swept_total"])
	assert.Equal(t, 1.0, st["expiry_sweeps_total"])
	assert.Positive(t, st["expiry_last_sweep_timestamp_seconds"])

	failing := driver.StartSweeper(func(context.Context, int) (int, error) { return 0, errors.New("down") },
		session.SweeperOptions{Interval: time.Hour})
	_, err = failing.Pass(context.Background())
	assert.Error(t, err)
	assert.Equal(t, 1.0, failing.Stats()["expiry_sweep_errors_total"])
	failing.Close()
	failing.Close()

	disabled := driver.StartSweeper(sweep, session.SweeperOptions{Interval: -1})
	assert.Nil(t, disabled)
	n, err = disabled.Pass(context.Background())
	assert.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, disabled.Stats())
	disabled.Close()
}

// The background loop runs passes on its own until Close, which waits for
// it.
func TestSweeper_RunsInTheBackgroundUntilClose(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	s := driver.StartSweeper(func(context.Context, int) (int, error) { calls.Add(1); return 0, nil },
		session.SweeperOptions{Interval: time.Millisecond})
	require.Eventually(t, func() bool { return calls.Load() >= 2 }, 10*time.Second, time.Millisecond)
	s.Close()
	after := calls.Load()
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, after, calls.Load(), "no pass after Close")
}
