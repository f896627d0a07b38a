package manager_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// fixedNow is the clock every test manager and repository uses.
var fixedNow = time.Date(2026, 5, 15, 10, 46, 33, 123456000, time.UTC)

func clock() time.Time { return fixedNow }

func newMemory() *memory.Repository { return memory.New(memory.Options{Now: clock}) }

// counting wraps a real repository, counts calls by method name and can make
// the next calls of a method fail with a given error (fault injection).
type counting struct {
	session.Repository

	mu    sync.Mutex
	calls map[string]int
	fail  map[string][]error
	// conflictAlways makes every CreateMessage fail with ErrConflict.
	conflictAlways bool
}

func newCounting(inner session.Repository) *counting {
	return &counting{Repository: inner, calls: map[string]int{}, fail: map[string][]error{}}
}

func (c *counting) hit(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[name]++
	if errs := c.fail[name]; len(errs) > 0 {
		c.fail[name] = errs[1:]
		return errs[0]
	}
	return nil
}

// failNext makes the next call of method return err without reaching the
// repository.
func (c *counting) failNext(method string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail[method] = append(c.fail[method], err)
}

// count returns the calls of method.
func (c *counting) count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[method]
}

// total returns all calls counted.
func (c *counting) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func (c *counting) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = map[string]int{}
}

func (c *counting) CreateSession(ctx context.Context, s *session.Session) error {
	if err := c.hit("CreateSession"); err != nil {
		return err
	}
	return c.Repository.CreateSession(ctx, s)
}

func (c *counting) GetSession(ctx context.Context, id string) (*session.Session, error) {
	if err := c.hit("GetSession"); err != nil {
		return nil, err
	}
	return c.Repository.GetSession(ctx, id)
}

func (c *counting) CreateAgent(ctx context.Context, sid string, a *session.Agent) error {
	if err := c.hit("CreateAgent"); err != nil {
		return err
	}
	return c.Repository.CreateAgent(ctx, sid, a)
}

func (c *counting) GetAgent(ctx context.Context, sid, aid string) (*session.Agent, error) {
	if err := c.hit("GetAgent"); err != nil {
		return nil, err
	}
	return c.Repository.GetAgent(ctx, sid, aid)
}

func (c *counting) UpdateAgent(ctx context.Context, sid string, a *session.Agent) error {
	if err := c.hit("UpdateAgent"); err != nil {
		return err
	}
	return c.Repository.UpdateAgent(ctx, sid, a)
}

func (c *counting) UpdateAgentConfig(ctx context.Context, sid, aid string, p session.AgentConfigPatch) error {
	if err := c.hit("UpdateAgentConfig"); err != nil {
		return err
	}
	return c.Repository.UpdateAgentConfig(ctx, sid, aid, p)
}

func (c *counting) ListAgents(ctx context.Context, sid string) ([]*session.Agent, error) {
	if err := c.hit("ListAgents"); err != nil {
		return nil, err
	}
	return c.Repository.ListAgents(ctx, sid)
}

func (c *counting) CreateMessage(ctx context.Context, sid, aid string, m *session.Message) error {
	if err := c.hit("CreateMessage"); err != nil {
		return err
	}
	if c.conflictAlways {
		return driver.MessageError(sid, aid, m.ID, session.ErrConflict)
	}
	return c.Repository.CreateMessage(ctx, sid, aid, m)
}

func (c *counting) GetMessage(ctx context.Context, sid, aid string, id int) (*session.Message, error) {
	if err := c.hit("GetMessage"); err != nil {
		return nil, err
	}
	return c.Repository.GetMessage(ctx, sid, aid, id)
}

func (c *counting) UpdateMessage(ctx context.Context, sid, aid string, m *session.Message) error {
	if err := c.hit("UpdateMessage"); err != nil {
		return err
	}
	return c.Repository.UpdateMessage(ctx, sid, aid, m)
}

func (c *counting) ListMessages(ctx context.Context, sid, aid string, offset, limit int) ([]*session.Message, error) {
	if err := c.hit("ListMessages"); err != nil {
		return nil, err
	}
	return c.Repository.ListMessages(ctx, sid, aid, offset, limit)
}

func (c *counting) CountMessages(ctx context.Context, sid, aid string) (int, error) {
	if err := c.hit("CountMessages"); err != nil {
		return 0, err
	}
	return c.Repository.CountMessages(ctx, sid, aid)
}

func (c *counting) UpdateMetadata(ctx context.Context, sid string, md map[string]any) error {
	if err := c.hit("UpdateMetadata"); err != nil {
		return err
	}
	return c.Repository.UpdateMetadata(ctx, sid, md)
}

func (c *counting) GetMetadata(ctx context.Context, sid string) (map[string]any, error) {
	if err := c.hit("GetMetadata"); err != nil {
		return nil, err
	}
	return c.Repository.GetMetadata(ctx, sid)
}

func (c *counting) DeleteMetadata(ctx context.Context, sid string, keys []string) error {
	if err := c.hit("DeleteMetadata"); err != nil {
		return err
	}
	return c.Repository.DeleteMetadata(ctx, sid, keys)
}

func (c *counting) RecordGuardrailEvent(ctx context.Context, sid, aid string, id int, ev *session.GuardrailEvent) error {
	if err := c.hit("RecordGuardrailEvent"); err != nil {
		return err
	}
	return c.Repository.RecordGuardrailEvent(ctx, sid, aid, id, ev)
}

func newManager(t *testing.T, repo session.Repository, sid string, opts manager.Options) *manager.Manager {
	t.Helper()
	if opts.Now == nil {
		opts.Now = clock
	}
	m, err := manager.New(context.Background(), repo, sid, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func initAgent(t *testing.T, m *manager.Manager, id string, opts manager.AgentOptions) *manager.AgentSession {
	t.Helper()
	a, err := m.Initialize(context.Background(), id, opts)
	require.NoError(t, err)
	return a
}

func userText(s string) session.ChatMessage {
	return session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(s)}}
}

func assistantText(s string) session.ChatMessage {
	return session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{session.TextBlock(s)}}
}

func toolUseMsg(ids ...string) session.ChatMessage {
	c := session.ChatMessage{Role: session.RoleAssistant}
	for _, id := range ids {
		c.Content = append(c.Content, session.ToolUseBlock(id, "search", nil))
	}
	return c
}

func toolResultMsg(ids ...string) session.ChatMessage {
	c := session.ChatMessage{Role: session.RoleUser}
	for _, id := range ids {
		c.Content = append(c.Content, session.ToolResultBlock(id, "success", session.TextBlock("ok")))
	}
	return c
}

// seedAgent stores a session, an agent and its messages directly in repo.
func seedAgent(t *testing.T, repo session.Repository, sid string, a *session.Agent, msgs ...session.ChatMessage) {
	t.Helper()
	ctx := context.Background()
	err := repo.CreateSession(ctx, &session.Session{ID: sid})
	if err != nil {
		require.ErrorIs(t, err, session.ErrAlreadyExists)
	}
	require.NoError(t, repo.CreateAgent(ctx, sid, a))
	for i, c := range msgs {
		require.NoError(t, repo.CreateMessage(ctx, sid, a.ID, &session.Message{ID: i, Message: c}))
	}
}

func storedEffective(t *testing.T, repo session.Repository, sid, aid string) []session.ChatMessage {
	t.Helper()
	msgs, err := repo.ListMessages(context.Background(), sid, aid, 0, 0)
	require.NoError(t, err)
	out := make([]session.ChatMessage, len(msgs))
	for i, m := range msgs {
		require.Equal(t, i, m.ID, "ids must be dense")
		out[i] = m.Effective()
	}
	return out
}
