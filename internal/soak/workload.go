package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// Result is what a run did: its counters, its ledger and the faults it
// applied.
type Result struct {
	// Config is the configuration the run used, defaults filled in.
	Config Config
	// Ledger holds every write the workers attempted.
	Ledger *Ledger
	// Stats counts calls, acknowledgements and errors.
	Stats Stats
	// Faults records each scheduled fault, in order.
	Faults []FaultRecord
}

// Stats are a run's counters.
type Stats struct {
	// Ops counts every call made, setup (manager.New, Initialize) included.
	Ops int64
	// Acks counts calls that returned nil.
	Acks int64
	// Errors counts failed calls by kind (see ErrorKind).
	Errors map[string]int64
	// ByOp counts calls by operation name ("append", "metadata",
	// "feedback", "open", "initialize").
	ByOp map[string]int64
	// Overruns counts calls that returned later than their deadline plus
	// Config.Slack; OverrunSamples describes the first few.
	Overruns       int64
	OverrunSamples []string
	// Panics counts recovered panics; PanicSamples describes the first few.
	Panics       int64
	PanicSamples []string
	// Unexpected counts errors no fault explains: invalid argument, not
	// found, too large or closed, which would mean the workload or the
	// store is broken rather than unavailable.
	Unexpected        int64
	UnexpectedSamples []string
	// P50, P99 and Max are call latencies.
	P50, P99, Max time.Duration
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
}

// unexpectedKinds are error kinds an outage never explains.
var unexpectedKinds = map[string]bool{"invalid_argument": true, "not_found": true, "too_large": true, "closed": true}

// ErrorKind classifies err for the summary: "deadline", "canceled",
// "injected" (internal/faultinject), "conflict", "not_found",
// "already_exists", "invalid_argument", "too_large", "closed", "network",
// or "backend" for anything else.
func ErrorKind(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, faultinject.ErrInjected):
		return "injected"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, session.ErrConflict):
		return "conflict"
	case errors.Is(err, session.ErrNotFound):
		return "not_found"
	case errors.Is(err, session.ErrAlreadyExists):
		return "already_exists"
	case errors.Is(err, session.ErrInvalidArgument):
		return "invalid_argument"
	case errors.Is(err, session.ErrTooLarge):
		return "too_large"
	case errors.Is(err, session.ErrClosed), errors.Is(err, manager.ErrManagerClosed):
		return "closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "deadline"
	case errors.As(err, &ne):
		return "network"
	}
	return "backend"
}

const maxSamples = 8

// recorder collects the counters of all workers.
type recorder struct {
	slack time.Duration

	mu        sync.Mutex
	stats     Stats
	latencies []time.Duration
	progress  atomic.Int64 // workload operations attempted
}

func (r *recorder) observe(op string, d time.Duration, deadline time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.stats
	s.Ops++
	s.ByOp[op]++
	r.latencies = append(r.latencies, d)
	if d > deadline+r.slack {
		s.Overruns++
		if len(s.OverrunSamples) < maxSamples {
			s.OverrunSamples = append(s.OverrunSamples, fmt.Sprintf("%s took %s (deadline %s): %v", op, d.Round(time.Millisecond), deadline, err))
		}
	}
	if err == nil {
		s.Acks++
		return
	}
	kind := ErrorKind(err)
	s.Errors[kind]++
	if unexpectedKinds[kind] {
		s.Unexpected++
		if len(s.UnexpectedSamples) < maxSamples {
			s.UnexpectedSamples = append(s.UnexpectedSamples, fmt.Sprintf("%s: %v", op, err))
		}
	}
}

func (r *recorder) panicked(op string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Panics++
	if len(r.stats.PanicSamples) < maxSamples {
		r.stats.PanicSamples = append(r.stats.PanicSamples, fmt.Sprintf("%s: %v\n%s", op, v, debug.Stack()))
	}
}

func (r *recorder) finish(elapsed time.Duration) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Elapsed = elapsed
	if n := len(r.latencies); n > 0 {
		sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
		s.P50 = r.latencies[n*50/100]
		s.P99 = r.latencies[min(n-1, n*99/100)]
		s.Max = r.latencies[n-1]
	}
	return s
}

// Run runs the workload against repo until every worker has attempted its
// operations or ctx is done, applying cfg.Faults on the calling goroutine
// (so a Fault may call t.Fatal). It returns an error only for a bad Config
// or when ctx ended the run early; failed calls are counted, not returned.
// repo is not closed.
func Run(ctx context.Context, repo session.Repository, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if repo == nil {
		return nil, driver.InvalidArgument("repository", "is nil")
	}
	res := &Result{Config: cfg, Ledger: NewLedger(cfg.RunID)}
	rec := &recorder{slack: cfg.Slack, stats: Stats{Errors: map[string]int64{}, ByOp: map[string]int64{}}}
	start := time.Now()

	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	done := make(chan struct{})
	// Deferred so that a Fault calling t.Fatal (runtime.Goexit) still stops
	// and waits for the workers.
	defer func() {
		cancel()
		wg.Wait()
	}()
	for w := range cfg.Agents {
		wk := &worker{cfg: cfg, id: w, repo: repo, rec: rec, ledger: res.Ledger,
			rnd: rand.New(rand.NewPCG(cfg.Seed, uint64(w)+1))}
		wg.Go(func() { wk.run(wctx) })
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	total := int64(cfg.Agents * cfg.Ops)
	res.Faults = runFaults(ctx, cfg.Faults, func() float64 { return float64(rec.progress.Load()) / float64(total) }, done)
	select {
	case <-done:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	res.Stats = rec.finish(time.Since(start))
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("soak: run %s stopped early: %w", cfg.RunID, err)
	}
	return res, nil
}

// worker is one simulated agent.
type worker struct {
	cfg    Config
	id     int
	repo   session.Repository
	rec    *recorder
	ledger *Ledger
	rnd    *rand.Rand

	failures int // consecutive failed calls, for the pause after an error
}

// call runs fn under the operation deadline, times it and recovers a panic
// (reported as an error so the caller treats the outcome as unknown).
func (w *worker) call(ctx context.Context, op string, fn func(context.Context) error) (err error) {
	cctx, cancel := context.WithTimeout(ctx, w.cfg.OpTimeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			w.rec.panicked(op, v)
			err = fmt.Errorf("soak: %s panicked: %v", op, v)
		}
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return // the run was stopped: not the store's doing
		}
		w.rec.observe(op, time.Since(start), w.cfg.OpTimeout, err)
	}()
	return fn(cctx)
}

// pause sleeps between operations: Think normally, a growing pause after
// failures so an outage is not hammered. It returns false when ctx is done.
func (w *worker) pause(ctx context.Context, failed bool) bool {
	var d time.Duration
	if failed {
		w.failures++
		d = w.cfg.RetryPause << min(w.failures-1, 4)
	} else {
		w.failures = 0
		if w.cfg.Think > 0 {
			d = time.Duration(w.rnd.Int64N(int64(2 * w.cfg.Think)))
		}
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (w *worker) run(ctx context.Context) {
	sid := SessionID(w.cfg.RunID, w.id%w.cfg.Sessions)
	aid := w.cfg.agentID(w.id)
	var m *manager.Manager
	for m == nil {
		err := w.call(ctx, "open", func(ctx context.Context) error {
			var err error
			m, err = manager.New(ctx, w.repo, sid, manager.Options{ApplicationName: w.cfg.ApplicationName, Hooks: w.cfg.Hooks})
			return err
		})
		if !w.pause(ctx, err != nil) {
			return
		}
	}
	defer m.Close()
	var a *manager.AgentSession
	for a == nil {
		err := w.call(ctx, "initialize", func(ctx context.Context) error {
			var err error
			a, err = m.Initialize(ctx, aid, manager.AgentOptions{})
			return err
		})
		if !w.pause(ctx, err != nil) {
			return
		}
	}
	mix := w.cfg.Mix
	weight := mix.Append + mix.Metadata + mix.Feedback
	for seq := range w.cfg.Ops {
		w.rec.progress.Add(1)
		var err error
		switch n := w.rnd.IntN(weight); {
		case n < mix.Append:
			err = w.appendMessage(ctx, a, sid, aid, seq)
		case n < mix.Append+mix.Metadata:
			err = w.updateMetadata(ctx, m, sid, seq)
		default:
			err = w.addFeedback(ctx, m, sid, seq)
		}
		if !w.pause(ctx, err != nil) {
			return
		}
	}
}

// record notes the write unless the run was stopped before it could
// complete, in which case it is still recorded as unknown.
func (w *worker) record(wr Write, err error) {
	wr.Acked = err == nil
	w.ledger.Record(wr)
}

func (w *worker) appendMessage(ctx context.Context, a *manager.AgentSession, sid, aid string, seq int) error {
	text := payload(w.cfg.RunID, KindMessage, w.id, seq)
	role := session.RoleUser
	if seq%2 == 1 {
		role = session.RoleAssistant
	}
	err := w.call(ctx, "append", func(ctx context.Context) error {
		_, err := a.Append(ctx, session.ChatMessage{Role: role, Content: []session.ContentBlock{session.TextBlock(text)}})
		return err
	})
	w.record(Write{Kind: KindMessage, SessionID: sid, AgentID: aid, Worker: w.id, Seq: seq, Payload: text}, err)
	return err
}

func (w *worker) updateMetadata(ctx context.Context, m *manager.Manager, sid string, seq int) error {
	key, value := metadataKey(w.id, seq), payload(w.cfg.RunID, KindMetadata, w.id, seq)
	err := w.call(ctx, "metadata", func(ctx context.Context) error {
		return m.UpdateMetadata(ctx, map[string]any{key: value})
	})
	w.record(Write{Kind: KindMetadata, SessionID: sid, Worker: w.id, Seq: seq, Key: key, Payload: value}, err)
	return err
}

func (w *worker) addFeedback(ctx context.Context, m *manager.Manager, sid string, seq int) error {
	comment := payload(w.cfg.RunID, KindFeedback, w.id, seq)
	rating := session.RatingUp
	if seq%3 == 0 {
		rating = session.RatingDown
	}
	err := w.call(ctx, "feedback", func(ctx context.Context) error {
		_, err := m.AddFeedback(ctx, &session.Feedback{Rating: rating, Comment: comment})
		return err
	})
	w.record(Write{Kind: KindFeedback, SessionID: sid, Worker: w.id, Seq: seq, Payload: comment}, err)
	return err
}
