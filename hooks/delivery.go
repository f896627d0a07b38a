package hooks

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ErrQueueFull is what Stats counts as Dropped when an event arrives while its
// shard's queue is full. The storage write it follows has already succeeded;
// only the notification is lost.
var ErrQueueFull = errors.New("hooks: delivery queue full")

// ErrClosed reports an event that arrived after Close.
var ErrClosed = errors.New("hooks: closed")

// DeliveryOptions tunes the asynchronous delivery every hook in this package
// uses. The zero value is useful: every zero field takes the default named
// in its comment.
type DeliveryOptions struct {
	// Workers is the number of delivery goroutines (default 2). Events are
	// sharded onto workers by session id, so one session's events are sent
	// in the order its writes succeeded.
	Workers int
	// QueueSize is the number of events each worker may hold waiting
	// (default 256). An event that finds its worker's queue full is dropped
	// and counted; the storage write never waits.
	QueueSize int
	// MaxAttempts bounds the sends per event, first try included (default 5).
	// Only throttling, 5xx and transport errors are retried.
	MaxAttempts int
	// BaseBackoff is the wait before the first retry (default 100ms); it
	// doubles per retry up to MaxBackoff (default 5s); each wait is drawn
	// between half and all of that (equal jitter).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// AttemptTimeout bounds one send (default 10s).
	AttemptTimeout time.Duration
	// Logger receives delivery errors (default slog.Default()). Errors are
	// rate-limited to one record per LogInterval (default 10s) per hook,
	// each naming how many were suppressed since the last one.
	Logger      *slog.Logger
	LogInterval time.Duration
}

func (o DeliveryOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

func (o DeliveryOptions) withDefaults() DeliveryOptions {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LogInterval <= 0 {
		o.LogInterval = 10 * time.Second
	}
	return o
}

// Stats are a hook's delivery counters since it was created.
type Stats struct {
	// Sent counts events delivered.
	Sent uint64
	// Retried counts retries (a send attempt after a failed one).
	Retried uint64
	// Dropped counts events not delivered for a reason other than an
	// error: the queue was full, the hook was closed, Close gave up at its
	// deadline, or the WebSocket connection was gone.
	Dropped uint64
	// Failed counts events given up on: a permanent error, or retries
	// exhausted.
	Failed uint64
	// Skipped counts events that turned out to have nothing to send, such
	// as a WebSocket update for a session with no stored connection id.
	Skipped uint64
}

// errSkipped is returned by a job that decided there was nothing to send.
var errSkipped = errors.New("hooks: nothing to send")

// job is one notification: prepared lazily by the worker so the storage
// path only pays for copying its inputs.
type job struct {
	sessionID string
	send      func(ctx context.Context) error
}

// dispatcher is a bounded, sharded queue with a small worker pool.
type dispatcher struct {
	name string
	opts DeliveryOptions
	log  *rateLimitedLog
	seed maphash.Seed

	mu     sync.RWMutex // guards closed and sends on shards against Close
	closed bool
	shards []chan job

	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sent, retried, dropped, failed, skipped atomic.Uint64

	sleep func(ctx context.Context, d time.Duration) error // replaced in tests
}

func newDispatcher(name string, opts DeliveryOptions) *dispatcher {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	d := &dispatcher{
		name:   name,
		opts:   opts,
		log:    newRateLimitedLog(opts.Logger, opts.LogInterval, name),
		seed:   maphash.MakeSeed(),
		shards: make([]chan job, opts.Workers),
		ctx:    ctx,
		cancel: cancel,
		sleep:  sleepCtx,
	}
	for i := range d.shards {
		d.shards[i] = make(chan job, opts.QueueSize)
		d.wg.Add(1)
		go d.work(d.shards[i])
	}
	return d
}

// full reports whether sessionID's queue is full right now, so that a hook
// can drop an event before paying to copy it. A racy answer is harmless:
// enqueue decides for real.
func (d *dispatcher) full(sessionID string) bool {
	shard := d.shards[maphash.String(d.seed, sessionID)%uint64(len(d.shards))]
	if len(shard) < cap(shard) {
		return false
	}
	d.dropped.Add(1)
	d.log.error("event dropped", ErrQueueFull, "session_id", sessionID)
	return true
}

// enqueue hands j to its session's worker without ever blocking. It reports
// ErrQueueFull or ErrClosed (already counted as dropped) for the caller's
// information; hooks ignore it because storage already succeeded.
func (d *dispatcher) enqueue(j job) error {
	shard := d.shards[maphash.String(d.seed, j.sessionID)%uint64(len(d.shards))]
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.dropped.Add(1)
		d.log.error("event dropped", ErrClosed, "session_id", j.sessionID)
		return ErrClosed
	}
	select {
	case shard <- j:
		return nil
	default:
		d.dropped.Add(1)
		d.log.error("event dropped", ErrQueueFull, "session_id", j.sessionID)
		return ErrQueueFull
	}
}

func (d *dispatcher) work(queue <-chan job) {
	defer d.wg.Done()
	for j := range queue {
		if d.ctx.Err() != nil {
			d.dropped.Add(1) // Close gave up: drain without sending
			continue
		}
		d.deliver(j)
	}
}

func (d *dispatcher) deliver(j job) {
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(d.ctx, d.opts.AttemptTimeout)
		err := j.send(ctx)
		cancel()
		switch {
		case err == nil:
			d.sent.Add(1)
			return
		case errors.Is(err, errSkipped):
			d.skipped.Add(1)
			return
		case errors.Is(err, ErrGone):
			d.dropped.Add(1) // the hook logs each gone connection once
			return
		case d.ctx.Err() != nil:
			d.dropped.Add(1)
			return
		case !retryable(err) || attempt >= d.opts.MaxAttempts:
			d.failed.Add(1)
			d.log.error("delivery failed", err, "session_id", j.sessionID, "attempts", attempt)
			return
		}
		d.retried.Add(1)
		if d.sleep(d.ctx, d.backoff(attempt)) != nil {
			d.dropped.Add(1)
			return
		}
	}
}

// backoff is "equal jitter" over an exponentially growing cap: half the
// cap plus a random share of the other half, so a retry never comes sooner
// than half the nominal wait yet retries from many sessions spread out.
func (d *dispatcher) backoff(attempt int) time.Duration {
	ceiling := d.opts.BaseBackoff << min(attempt-1, 30)
	if ceiling <= 0 || ceiling > d.opts.MaxBackoff {
		ceiling = d.opts.MaxBackoff
	}
	return ceiling/2 + rand.N(ceiling/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops accepting events and waits for the queued ones to be
// delivered. When ctx ends first it aborts in-flight sends and backoffs,
// counts everything left as dropped, waits for the workers to exit and
// returns ctx's error. Either way no worker outlives close. Calling close
// again returns nil at once.
func (d *dispatcher) close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for _, s := range d.shards {
		close(s)
	}
	d.mu.Unlock()

	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		d.cancel()
		<-done
		err = fmt.Errorf("hooks: %s: close: %w (%d events dropped in total)", d.name, ctx.Err(), d.dropped.Load())
	}
	d.cancel()
	d.log.flush()
	return err
}

func (d *dispatcher) stats() Stats {
	return Stats{
		Sent:    d.sent.Load(),
		Retried: d.retried.Load(),
		Dropped: d.dropped.Load(),
		Failed:  d.failed.Load(),
		Skipped: d.skipped.Load(),
	}
}
