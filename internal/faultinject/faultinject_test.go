package faultinject_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// With no faults configured the wrapper is transparent: it passes the whole
// conformance suite.
func TestConformance_NoFaults(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		NewRepository: func(t *testing.T) session.Repository {
			r := faultinject.New(memory.New(memory.Options{}), faultinject.Options{})
			t.Cleanup(func() { _ = r.Close() })
			return r
		},
		NewRepositoryAt: func(t *testing.T, now func() time.Time) session.Repository {
			r := faultinject.New(memory.New(memory.Options{Now: now}), faultinject.Options{})
			t.Cleanup(func() { _ = r.Close() })
			return r
		},
	})
}

// The expiry calls pass through the wrapper (so the Expiry conformance
// cases run on it) and get its faults like every other call.
func TestExpiry_PassesThroughAndIsInjected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := conformance.NewClock(time.Now().UTC())
	r := faultinject.New(memory.New(memory.Options{Now: clock.Now, Sweep: session.SweeperOptions{Interval: -1}}), faultinject.Options{})
	t.Cleanup(func() { _ = r.Close() })
	e, err := session.ExpiryOf(r)
	require.NoError(t, err, "the wrapper is an ExpiryStore over one")
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
	require.NoError(t, e.SetSessionExpiry(ctx, "s", clock.Now().Add(time.Minute)))
	r.SetDown(true)
	require.ErrorIs(t, e.SetSessionExpiry(ctx, "s", time.Time{}), faultinject.ErrInjected)
	_, err = e.SweepExpired(ctx, 10)
	require.ErrorIs(t, err, faultinject.ErrInjected)
	r.SetDown(false)
	clock.Advance(time.Minute)
	n, err := e.SweepExpired(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	if e, err := session.ExpiryOf(faultinject.New(plainRepository{memory.New(memory.Options{})}, faultinject.Options{})); err == nil {
		assert.ErrorIs(t, e.SetSessionExpiry(ctx, "s", time.Time{}), errors.ErrUnsupported, "an inner repository without expiry")
		_, err = e.SweepExpired(ctx, 1)
		assert.ErrorIs(t, err, errors.ErrUnsupported, "an inner repository without expiry")
	}
}

func TestDown_FailsEveryCallUntilRestored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := faultinject.New(memory.New(memory.Options{}), faultinject.Options{})
	r.SetDown(true)
	err := r.CreateSession(ctx, &session.Session{ID: "s"})
	require.ErrorIs(t, err, faultinject.ErrInjected)
	r.SetDown(false)
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
	_, err = r.GetSession(ctx, "s")
	require.NoError(t, err)
	assert.Equal(t, float64(1), r.Stats()["faultinject_failed_total"])
}

func TestErrorRate_IsApproximatelyHonoured(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := faultinject.New(memory.New(memory.Options{}), faultinject.Options{ErrorRate: 0.3, Seed: 7})
	failed := 0
	const n = 2000
	for range n {
		if _, err := r.GetSession(ctx, "missing"); errors.Is(err, faultinject.ErrInjected) {
			failed++
		}
	}
	assert.InDelta(t, 0.3, float64(failed)/n, 0.05)
}

// WriteErrorAfter reports a failure for a write that was applied: the data
// is there although the caller saw an error.
func TestWriteErrorAfter_AppliesThenFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := faultinject.New(memory.New(memory.Options{}), faultinject.Options{WriteErrorAfter: 1})
	err := r.CreateSession(ctx, &session.Session{ID: "s"})
	require.ErrorIs(t, err, faultinject.ErrInjected)
	_, err = r.GetSession(ctx, "s")
	require.NoError(t, err, "the write was applied")
}

func TestLatency_RespectsContextDeadline(t *testing.T) {
	t.Parallel()
	r := faultinject.New(memory.New(memory.Options{}), faultinject.Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.GetSession(ctx, "s")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second)
}

// plainRepository hides every optional capability of the repository it
// embeds, as a third-party repository without AppendMessage would be.
type plainRepository struct{ session.Repository }

func TestAppendMessage_DelegatesOrReportsUnsupported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		inner   session.Repository
		wantErr error
		wantID  int
	}{
		{"memory assigns the id", memory.New(memory.Options{}), nil, 0},
		{"a repository without the capability", plainRepository{memory.New(memory.Options{})}, errors.ErrUnsupported, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := faultinject.New(tt.inner, faultinject.Options{})
			t.Cleanup(func() { _ = r.Close() })
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
			require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
			id, err := r.AppendMessage(ctx, "s", "a", &session.Message{Message: session.ChatMessage{Role: session.RoleUser}})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				n, err := r.CountMessages(ctx, "s", "a")
				require.NoError(t, err)
				assert.Zero(t, n, "an unsupported append wrote")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, id)
			r.SetDown(true)
			_, err = r.AppendMessage(ctx, "s", "a", &session.Message{Message: session.ChatMessage{Role: session.RoleUser}})
			require.ErrorIs(t, err, faultinject.ErrInjected)
		})
	}
}

// Over a repository without AppendMessage the suite's append cases skip,
// and everything else passes.
func TestConformance_InnerWithoutAppendMessage(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		NewRepository: func(t *testing.T) session.Repository {
			r := faultinject.New(plainRepository{memory.New(memory.Options{})}, faultinject.Options{})
			t.Cleanup(func() { _ = r.Close() })
			return r
		},
	})
}

// AppendPrepared delegates the validate-once append with AppendMessage's
// faults, and over a repository that cannot append reports
// errors.ErrUnsupported, writing nothing.
func TestAppendPrepared_DelegatesWithFaultsOrReportsUnsupported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		inner   session.Repository
		wantErr error
	}{
		{"memory assigns the id", memory.New(memory.Options{}), nil},
		{"a repository without the capability", plainRepository{memory.New(memory.Options{})}, errors.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := faultinject.New(tt.inner, faultinject.Options{})
			t.Cleanup(func() { _ = r.Close() })
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
			require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
			p, err := driver.NewPreparedMessage(&session.Message{Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("hi")}}}, time.Now())
			require.NoError(t, err)
			id, err := r.AppendPrepared(ctx, "s", "a", p)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				n, err := r.CountMessages(ctx, "s", "a")
				require.NoError(t, err)
				assert.Zero(t, n, "an unsupported append wrote")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 0, id)
			r.SetDown(true)
			_, err = r.AppendPrepared(ctx, "s", "a", p)
			require.ErrorIs(t, err, faultinject.ErrInjected)
			r.SetDown(false)
			n, err := r.CountMessages(ctx, "s", "a")
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the injected failure wrote nothing")
		})
	}
}
