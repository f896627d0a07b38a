package driver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// PrepareExpiry validates an expiry for CreateSession or SetSessionExpiry
// and returns it in UTC at microsecond precision. Zero (never) passes;
// an instant that is not after now is ErrInvalidArgument naming
// "expires_at": a session cannot be born expired.
func PrepareExpiry(expiresAt, now time.Time) (time.Time, error) {
	if expiresAt.IsZero() {
		return time.Time{}, nil
	}
	expiresAt = UTCMicro(expiresAt)
	if !expiresAt.After(now) {
		return time.Time{}, InvalidArgument("expires_at", "%s is not in the future", expiresAt.Format(time.RFC3339Nano))
	}
	return expiresAt, nil
}

// maxBatchesPerPass bounds one sweeper pass, so that a huge backlog is
// worked off over several passes instead of one long one.
const maxBatchesPerPass = 100

// Sweeper runs SweepExpired in the background for a backend: one
// goroutine, started by the backend's constructor and stopped by its
// Close, with bounded batches and its own deadline per pass. A nil
// *Sweeper (disabled) is valid and does nothing.
type Sweeper struct {
	sweep func(context.Context, int) (int, error)
	opts  session.SweeperOptions

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	passes, swept, failures, lastPass atomic.Int64
}

// StartSweeper starts a sweeper calling sweep, or returns nil when
// opts.Interval is negative.
func StartSweeper(sweep func(ctx context.Context, limit int) (int, error), opts session.SweeperOptions) *Sweeper {
	if opts.Interval < 0 {
		return nil
	}
	if opts.Interval == 0 {
		opts.Interval = session.DefaultSweepInterval
	}
	if opts.Batch <= 0 {
		opts.Batch = session.DefaultSweepBatch
	}
	if opts.Timeout <= 0 {
		opts.Timeout = session.DefaultSweepTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sweeper{sweep: sweep, opts: opts, cancel: cancel, done: make(chan struct{})}
	go s.loop(ctx)
	return s
}

func (s *Sweeper) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = s.Pass(ctx)
		}
	}
}

// Pass runs one bounded pass now: SweepExpired in batches until one
// comes back short, an error, the pass deadline or 100 batches. It
// returns how many sessions it removed. The background loop calls it;
// tests call it to sweep without waiting.
func (s *Sweeper) Pass(ctx context.Context) (int, error) {
	if s == nil {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	s.passes.Add(1)
	defer func() { s.lastPass.Store(time.Now().Unix()) }()
	total := 0
	for range maxBatchesPerPass {
		n, err := s.sweep(ctx, s.opts.Batch)
		total += n
		s.swept.Add(int64(n))
		if err != nil {
			if ctx.Err() == nil || !errors.Is(err, context.Canceled) {
				s.failures.Add(1)
			}
			return total, err
		}
		if n < s.opts.Batch {
			break
		}
	}
	return total, nil
}

// Close stops the sweeper and waits for a pass in progress to end (its
// context is cancelled). Idempotent; nil-safe.
func (s *Sweeper) Close() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		s.cancel()
		<-s.done
	})
}

// Stats returns the sweeper's counters for /metrics:
// expiry_sweeps_total, expiry_sessions_swept_total,
// expiry_sweep_errors_total and expiry_last_sweep_timestamp_seconds (0
// before the first pass). A nil sweeper reports nothing.
func (s *Sweeper) Stats() map[string]float64 {
	if s == nil {
		return map[string]float64{}
	}
	return map[string]float64{
		"expiry_sweeps_total":                 float64(s.passes.Load()),
		"expiry_sessions_swept_total":         float64(s.swept.Load()),
		"expiry_sweep_errors_total":           float64(s.failures.Load()),
		"expiry_last_sweep_timestamp_seconds": float64(s.lastPass.Load()),
	}
}

// ValidateSweepLimit checks SweepExpired's limit.
func ValidateSweepLimit(limit int) error {
	if limit < 1 {
		return InvalidArgument("limit", "must be at least 1, got %d", limit)
	}
	return nil
}
