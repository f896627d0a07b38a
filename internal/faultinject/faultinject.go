// Package faultinject wraps any session.Repository with injected latency and
// errors, in the manner of Vault's sdk/physical error and latency injectors,
// so reliability tests can make a healthy backend slow or flaky without a
// special server. The wrapper satisfies session.Repository itself, so it
// composes with every other decorator.
//
//	flaky := faultinject.New(repo, faultinject.Options{ErrorRate: 0.2, Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond})
//	flaky.SetDown(true)  // every call fails with ErrInjected until SetDown(false)
package faultinject

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// ErrInjected is the error injected calls return (wrapped with the
// operation name).
var ErrInjected = errors.New("faultinject: injected failure")

// Options configures the faults. The zero value injects nothing.
type Options struct {
	// ErrorRate is the probability in [0, 1] that a call fails with
	// ErrInjected before reaching the backend.
	ErrorRate float64
	// WriteErrorAfter makes a write fail with ErrInjected AFTER the backend
	// applied it, with this probability in [0, 1]: the caller sees an error
	// although the write happened (an acknowledgement lost in transit).
	WriteErrorAfter float64
	// Latency is added before every call; Jitter adds up to that much more,
	// uniformly. The wait ends early when ctx is done.
	Latency, Jitter time.Duration
	// Seed makes the random choices reproducible; 0 picks a random seed.
	Seed uint64
}

// Repository is a session.Repository with injected faults.
type Repository struct {
	inner session.Repository
	opts  Options
	down  atomic.Bool

	mu  sync.Mutex
	rnd *rand.Rand

	calls, failed atomic.Int64
}

var (
	_ session.Repository      = (*Repository)(nil)
	_ session.MessageAppender = (*Repository)(nil)
	_ driver.PreparedAppender = (*Repository)(nil)

	_ driver.SharedMessageLister = (*Repository)(nil)
)

// New wraps inner. Closing the wrapper closes inner.
func New(inner session.Repository, opts Options) *Repository {
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Repository{inner: inner, opts: opts, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// SetDown makes every call fail (true) or restores normal behaviour (false),
// simulating an outage of the backend.
func (r *Repository) SetDown(down bool) { r.down.Store(down) }

// Stats reports calls seen and calls failed by injection.
func (r *Repository) Stats() map[string]float64 {
	return map[string]float64{
		"faultinject_calls_total":  float64(r.calls.Load()),
		"faultinject_failed_total": float64(r.failed.Load()),
	}
}

func (r *Repository) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rnd.Float64() < p
}

// before applies latency and decides whether the call fails up front.
func (r *Repository) before(ctx context.Context, op string) error {
	r.calls.Add(1)
	if d := r.delay(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("faultinject %s: %w", op, ctx.Err())
		case <-t.C:
		}
	}
	if r.down.Load() || r.chance(r.opts.ErrorRate) {
		r.failed.Add(1)
		return fmt.Errorf("%s: %w", op, ErrInjected)
	}
	return nil
}

// afterWrite may turn a successful write into a reported failure.
func (r *Repository) afterWrite(op string, err error) error {
	if err == nil && r.chance(r.opts.WriteErrorAfter) {
		r.failed.Add(1)
		return fmt.Errorf("%s (applied): %w", op, ErrInjected)
	}
	return err
}

func (r *Repository) delay() time.Duration {
	d := r.opts.Latency
	if r.opts.Jitter > 0 {
		r.mu.Lock()
		d += time.Duration(r.rnd.Int64N(int64(r.opts.Jitter)))
		r.mu.Unlock()
	}
	return d
}

// CreateSession implements session.Repository.
func (r *Repository) CreateSession(ctx context.Context, s *session.Session) error {
	if err := r.before(ctx, "CreateSession"); err != nil {
		return err
	}
	return r.afterWrite("CreateSession", r.inner.CreateSession(ctx, s))
}

// GetSession implements session.Repository.
func (r *Repository) GetSession(ctx context.Context, id string) (*session.Session, error) {
	if err := r.before(ctx, "GetSession"); err != nil {
		return nil, err
	}
	return r.inner.GetSession(ctx, id)
}

// DeleteSession implements session.Repository.
func (r *Repository) DeleteSession(ctx context.Context, id string) error {
	if err := r.before(ctx, "DeleteSession"); err != nil {
		return err
	}
	return r.afterWrite("DeleteSession", r.inner.DeleteSession(ctx, id))
}

// ListSessions implements session.Repository.
func (r *Repository) ListSessions(ctx context.Context, q session.SessionQuery) (session.SessionPage, error) {
	if err := r.before(ctx, "ListSessions"); err != nil {
		return session.SessionPage{}, err
	}
	return r.inner.ListSessions(ctx, q)
}

// CreateAgent implements session.Repository.
func (r *Repository) CreateAgent(ctx context.Context, sid string, a *session.Agent) error {
	if err := r.before(ctx, "CreateAgent"); err != nil {
		return err
	}
	return r.afterWrite("CreateAgent", r.inner.CreateAgent(ctx, sid, a))
}

// GetAgent implements session.Repository.
func (r *Repository) GetAgent(ctx context.Context, sid, aid string) (*session.Agent, error) {
	if err := r.before(ctx, "GetAgent"); err != nil {
		return nil, err
	}
	return r.inner.GetAgent(ctx, sid, aid)
}

// UpdateAgent implements session.Repository.
func (r *Repository) UpdateAgent(ctx context.Context, sid string, a *session.Agent) error {
	if err := r.before(ctx, "UpdateAgent"); err != nil {
		return err
	}
	return r.afterWrite("UpdateAgent", r.inner.UpdateAgent(ctx, sid, a))
}

// UpdateAgentConfig implements session.Repository.
func (r *Repository) UpdateAgentConfig(ctx context.Context, sid, aid string, p session.AgentConfigPatch) error {
	if err := r.before(ctx, "UpdateAgentConfig"); err != nil {
		return err
	}
	return r.afterWrite("UpdateAgentConfig", r.inner.UpdateAgentConfig(ctx, sid, aid, p))
}

// ListAgents implements session.Repository.
func (r *Repository) ListAgents(ctx context.Context, sid string) ([]*session.Agent, error) {
	if err := r.before(ctx, "ListAgents"); err != nil {
		return nil, err
	}
	return r.inner.ListAgents(ctx, sid)
}

// CreateMessage implements session.Repository.
func (r *Repository) CreateMessage(ctx context.Context, sid, aid string, m *session.Message) error {
	if err := r.before(ctx, "CreateMessage"); err != nil {
		return err
	}
	return r.afterWrite("CreateMessage", r.inner.CreateMessage(ctx, sid, aid, m))
}

// AppendMessage implements session.MessageAppender by delegation, with the
// same injected faults as CreateMessage. A wrapper is one type whatever it
// wraps, so it always has the method: when the inner repository is not a
// MessageAppender, the call fails with an error matching
// errors.ErrUnsupported before reaching it (and injects nothing), and
// callers fall back to CreateMessage.
func (r *Repository) AppendMessage(ctx context.Context, sid, aid string, m *session.Message) (int, error) {
	inner, ok := r.inner.(session.MessageAppender)
	if !ok {
		return 0, fmt.Errorf("faultinject AppendMessage: %T: %w", r.inner, errors.ErrUnsupported)
	}
	if err := r.before(ctx, "AppendMessage"); err != nil {
		return 0, err
	}
	id, err := inner.AppendMessage(ctx, sid, aid, m)
	return id, r.afterWrite("AppendMessage", err)
}

// AppendPrepared implements driver.PreparedAppender by delegation, so a
// message the session manager validated is not validated again below the
// wrapper. It injects the same faults as AppendMessage, under that name.
// When the inner repository is not a PreparedAppender it is AppendMessage
// (the inner repository then validates, as it must).
func (r *Repository) AppendPrepared(ctx context.Context, sid, aid string, m *driver.PreparedMessage) (int, error) {
	inner, ok := r.inner.(driver.PreparedAppender)
	if !ok || m == nil {
		var msg *session.Message
		if m != nil {
			msg = m.Message()
		}
		return r.AppendMessage(ctx, sid, aid, msg)
	}
	if err := r.before(ctx, "AppendMessage"); err != nil {
		return 0, err
	}
	id, err := inner.AppendPrepared(ctx, sid, aid, m)
	return id, r.afterWrite("AppendMessage", err)
}

// GetMessage implements session.Repository.
func (r *Repository) GetMessage(ctx context.Context, sid, aid string, id int) (*session.Message, error) {
	if err := r.before(ctx, "GetMessage"); err != nil {
		return nil, err
	}
	return r.inner.GetMessage(ctx, sid, aid, id)
}

// UpdateMessage implements session.Repository.
func (r *Repository) UpdateMessage(ctx context.Context, sid, aid string, m *session.Message) error {
	if err := r.before(ctx, "UpdateMessage"); err != nil {
		return err
	}
	return r.afterWrite("UpdateMessage", r.inner.UpdateMessage(ctx, sid, aid, m))
}

// ListMessages implements session.Repository.
func (r *Repository) ListMessages(ctx context.Context, sid, aid string, offset, limit int) ([]*session.Message, error) {
	if err := r.before(ctx, "ListMessages"); err != nil {
		return nil, err
	}
	return r.inner.ListMessages(ctx, sid, aid, offset, limit)
}

// ListMessagesShared implements driver.SharedMessageLister by delegation,
// with ListMessages' faults. Over a repository without it, it is the inner
// ListMessages, whose fresh copies satisfy the shared contract too.
func (r *Repository) ListMessagesShared(ctx context.Context, sid, aid string, offset, limit int) ([]*session.Message, error) {
	if err := r.before(ctx, "ListMessages"); err != nil {
		return nil, err
	}
	if sl, ok := r.inner.(driver.SharedMessageLister); ok {
		return sl.ListMessagesShared(ctx, sid, aid, offset, limit)
	}
	return r.inner.ListMessages(ctx, sid, aid, offset, limit)
}

// CountMessages implements session.Repository.
func (r *Repository) CountMessages(ctx context.Context, sid, aid string) (int, error) {
	if err := r.before(ctx, "CountMessages"); err != nil {
		return 0, err
	}
	return r.inner.CountMessages(ctx, sid, aid)
}

// UpdateMetadata implements session.Repository.
func (r *Repository) UpdateMetadata(ctx context.Context, sid string, m map[string]any) error {
	if err := r.before(ctx, "UpdateMetadata"); err != nil {
		return err
	}
	return r.afterWrite("UpdateMetadata", r.inner.UpdateMetadata(ctx, sid, m))
}

// GetMetadata implements session.Repository.
func (r *Repository) GetMetadata(ctx context.Context, sid string) (map[string]any, error) {
	if err := r.before(ctx, "GetMetadata"); err != nil {
		return nil, err
	}
	return r.inner.GetMetadata(ctx, sid)
}

// DeleteMetadata implements session.Repository.
func (r *Repository) DeleteMetadata(ctx context.Context, sid string, keys []string) error {
	if err := r.before(ctx, "DeleteMetadata"); err != nil {
		return err
	}
	return r.afterWrite("DeleteMetadata", r.inner.DeleteMetadata(ctx, sid, keys))
}

// AddFeedback implements session.Repository.
func (r *Repository) AddFeedback(ctx context.Context, sid string, f *session.Feedback) (*session.Feedback, error) {
	if err := r.before(ctx, "AddFeedback"); err != nil {
		return nil, err
	}
	out, err := r.inner.AddFeedback(ctx, sid, f)
	if err = r.afterWrite("AddFeedback", err); err != nil {
		return nil, err
	}
	return out, nil
}

// ListFeedback implements session.Repository.
func (r *Repository) ListFeedback(ctx context.Context, sid string) ([]*session.Feedback, error) {
	if err := r.before(ctx, "ListFeedback"); err != nil {
		return nil, err
	}
	return r.inner.ListFeedback(ctx, sid)
}

// RecordGuardrailEvent implements session.Repository.
func (r *Repository) RecordGuardrailEvent(ctx context.Context, sid, aid string, mid int, ev *session.GuardrailEvent) error {
	if err := r.before(ctx, "RecordGuardrailEvent"); err != nil {
		return err
	}
	return r.afterWrite("RecordGuardrailEvent", r.inner.RecordGuardrailEvent(ctx, sid, aid, mid, ev))
}

// ListGuardrailEvents implements session.Repository.
func (r *Repository) ListGuardrailEvents(ctx context.Context, sid string) ([]*session.SessionGuardrailEvent, error) {
	if err := r.before(ctx, "ListGuardrailEvents"); err != nil {
		return nil, err
	}
	return r.inner.ListGuardrailEvents(ctx, sid)
}

// Close closes the wrapped repository.
func (r *Repository) Close() error { return r.inner.Close() }
