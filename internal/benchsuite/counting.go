package benchsuite

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/sessionkit/sessionkit/session"
)

// Counting is a session.Repository decorator that counts the calls made to
// the repository it wraps, by method name. The manager's round-trip budget
// is stated in repository calls, so a benchmark wraps the repository it
// measures in a Counting and reports Calls per operation. Safe for
// concurrent use; the count is taken before the call, so failed calls count
// too.
type Counting struct {
	inner session.Repository

	total atomic.Int64
	mu    sync.Mutex
	calls map[string]int64
}

var _ session.Repository = (*Counting)(nil)

// NewCounting wraps inner. Closing the Counting closes inner.
func NewCounting(inner session.Repository) *Counting {
	return &Counting{inner: inner, calls: map[string]int64{}}
}

// Inner returns the wrapped repository.
func (c *Counting) Inner() session.Repository { return c.inner }

// Calls returns how many repository calls were made so far.
func (c *Counting) Calls() int64 { return c.total.Load() }

// ByMethod returns a snapshot of the calls per method name
// ("CreateMessage", ...); methods never called are absent.
func (c *Counting) ByMethod() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// Methods returns the names of the methods called so far, sorted.
func (c *Counting) Methods() []string {
	m := c.ByMethod()
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (c *Counting) hit(method string) {
	c.total.Add(1)
	c.mu.Lock()
	c.calls[method]++
	c.mu.Unlock()
}

// CreateSession implements session.Repository.
func (c *Counting) CreateSession(ctx context.Context, s *session.Session) error {
	c.hit("CreateSession")
	return c.inner.CreateSession(ctx, s)
}

// GetSession implements session.Repository.
func (c *Counting) GetSession(ctx context.Context, id string) (*session.Session, error) {
	c.hit("GetSession")
	return c.inner.GetSession(ctx, id)
}

// DeleteSession implements session.Repository.
func (c *Counting) DeleteSession(ctx context.Context, id string) error {
	c.hit("DeleteSession")
	return c.inner.DeleteSession(ctx, id)
}

// ListSessions implements session.Repository.
func (c *Counting) ListSessions(ctx context.Context, q session.SessionQuery) (session.SessionPage, error) {
	c.hit("ListSessions")
	return c.inner.ListSessions(ctx, q)
}

// CreateAgent implements session.Repository.
func (c *Counting) CreateAgent(ctx context.Context, sid string, a *session.Agent) error {
	c.hit("CreateAgent")
	return c.inner.CreateAgent(ctx, sid, a)
}

// GetAgent implements session.Repository.
func (c *Counting) GetAgent(ctx context.Context, sid, aid string) (*session.Agent, error) {
	c.hit("GetAgent")
	return c.inner.GetAgent(ctx, sid, aid)
}

// UpdateAgent implements session.Repository.
func (c *Counting) UpdateAgent(ctx context.Context, sid string, a *session.Agent) error {
	c.hit("UpdateAgent")
	return c.inner.UpdateAgent(ctx, sid, a)
}

// UpdateAgentConfig implements session.Repository.
func (c *Counting) UpdateAgentConfig(ctx context.Context, sid, aid string, p session.AgentConfigPatch) error {
	c.hit("UpdateAgentConfig")
	return c.inner.UpdateAgentConfig(ctx, sid, aid, p)
}

// ListAgents implements session.Repository.
func (c *Counting) ListAgents(ctx context.Context, sid string) ([]*session.Agent, error) {
	c.hit("ListAgents")
	return c.inner.ListAgents(ctx, sid)
}

// CreateMessage implements session.Repository.
func (c *Counting) CreateMessage(ctx context.Context, sid, aid string, m *session.Message) error {
	c.hit("CreateMessage")
	return c.inner.CreateMessage(ctx, sid, aid, m)
}

// GetMessage implements session.Repository.
func (c *Counting) GetMessage(ctx context.Context, sid, aid string, id int) (*session.Message, error) {
	c.hit("GetMessage")
	return c.inner.GetMessage(ctx, sid, aid, id)
}

// UpdateMessage implements session.Repository.
func (c *Counting) UpdateMessage(ctx context.Context, sid, aid string, m *session.Message) error {
	c.hit("UpdateMessage")
	return c.inner.UpdateMessage(ctx, sid, aid, m)
}

// ListMessages implements session.Repository.
func (c *Counting) ListMessages(ctx context.Context, sid, aid string, offset, limit int) ([]*session.Message, error) {
	c.hit("ListMessages")
	return c.inner.ListMessages(ctx, sid, aid, offset, limit)
}

// CountMessages implements session.Repository.
func (c *Counting) CountMessages(ctx context.Context, sid, aid string) (int, error) {
	c.hit("CountMessages")
	return c.inner.CountMessages(ctx, sid, aid)
}

// UpdateMetadata implements session.Repository.
func (c *Counting) UpdateMetadata(ctx context.Context, sid string, md map[string]any) error {
	c.hit("UpdateMetadata")
	return c.inner.UpdateMetadata(ctx, sid, md)
}

// GetMetadata implements session.Repository.
func (c *Counting) GetMetadata(ctx context.Context, sid string) (map[string]any, error) {
	c.hit("GetMetadata")
	return c.inner.GetMetadata(ctx, sid)
}

// DeleteMetadata implements session.Repository.
func (c *Counting) DeleteMetadata(ctx context.Context, sid string, keys []string) error {
	c.hit("DeleteMetadata")
	return c.inner.DeleteMetadata(ctx, sid, keys)
}

// AddFeedback implements session.Repository.
func (c *Counting) AddFeedback(ctx context.Context, sid string, f *session.Feedback) (*session.Feedback, error) {
	c.hit("AddFeedback")
	return c.inner.AddFeedback(ctx, sid, f)
}

// ListFeedback implements session.Repository.
func (c *Counting) ListFeedback(ctx context.Context, sid string) ([]*session.Feedback, error) {
	c.hit("ListFeedback")
	return c.inner.ListFeedback(ctx, sid)
}

// RecordGuardrailEvent implements session.Repository.
func (c *Counting) RecordGuardrailEvent(ctx context.Context, sid, aid string, id int, ev *session.GuardrailEvent) error {
	c.hit("RecordGuardrailEvent")
	return c.inner.RecordGuardrailEvent(ctx, sid, aid, id, ev)
}

// ListGuardrailEvents implements session.Repository.
func (c *Counting) ListGuardrailEvents(ctx context.Context, sid string) ([]*session.SessionGuardrailEvent, error) {
	c.hit("ListGuardrailEvents")
	return c.inner.ListGuardrailEvents(ctx, sid)
}

// Close closes the wrapped repository (not counted).
func (c *Counting) Close() error { return c.inner.Close() }
