package manager_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

func TestNew_CreatesSessionWithHashedViewerPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m := newManager(t, repo, "test-session", manager.Options{ApplicationName: "my-app", MetadataFields: []string{"status", "priority"}})

	require.True(t, m.Created())
	password, ok := m.TakeViewerPassword()
	require.True(t, ok)
	require.Len(t, password, 32)
	_, again := m.TakeViewerPassword()
	assert.False(t, again, "the plaintext is handed out once")

	s, err := repo.GetSession(ctx, "test-session")
	require.NoError(t, err)
	assert.Equal(t, session.TypeAgent, s.Type)
	assert.Equal(t, "my-app", s.ApplicationName)
	assert.Equal(t, map[string]any{"status": "", "priority": ""}, s.Metadata)
	assert.NotEqual(t, password, s.ViewerPasswordHash, "only the hash is stored")
	assert.True(t, driver.VerifyViewerPassword(s.ViewerPasswordHash, password))
	assert.Empty(t, m.Session().ViewerPasswordHash, "Session never exposes the hash")
}

func TestNew_UsesExistingSession(t *testing.T) {
	t.Parallel()
	repo := newMemory()
	require.NoError(t, repo.CreateSession(context.Background(), &session.Session{ID: "s", ApplicationName: "orig"}))
	m := newManager(t, repo, "s", manager.Options{ApplicationName: "other"})
	assert.False(t, m.Created())
	_, ok := m.TakeViewerPassword()
	assert.False(t, ok, "a resuming manager never sees a password")
	assert.Equal(t, "orig", m.ApplicationName(), "the application name is immutable")
}

func TestNew_ConcurrentStartOfOneNewSession(t *testing.T) {
	t.Parallel()
	repo := newMemory()
	const n = 8
	var wg sync.WaitGroup
	created := make(chan bool, n)
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			m, err := manager.New(context.Background(), repo, "race", manager.Options{Now: clock})
			if err != nil {
				errs <- err
				return
			}
			created <- m.Created()
		})
	}
	wg.Wait()
	close(created)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	winners := 0
	for c := range created {
		if c {
			winners++
		}
	}
	assert.Equal(t, 1, winners, "exactly one manager creates the session")
}

func TestNew_InvalidInput(t *testing.T) {
	t.Parallel()
	repo := newCounting(newMemory())
	for _, tc := range []struct {
		name string
		sid  string
		opts manager.Options
	}{
		{"empty session id", "", manager.Options{}},
		{"slash in session id", "a/b", manager.Options{}},
		{"bad metadata field", "ok", manager.Options{MetadataFields: []string{"a.b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := manager.New(context.Background(), repo, tc.sid, tc.opts)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
	assert.Zero(t, repo.total(), "bad input writes and reads nothing")
}

func TestInitialize_NewAgentStoresStrandsDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newCounting(newMemory())
	m := newManager(t, repo, "s", manager.Options{})
	cfg := session.AgentConfig{Model: "claude", SystemPrompt: "be brief"}
	a := initAgent(t, m, "default", manager.AgentOptions{Messages: []session.ChatMessage{userText("Hello!")}, State: map[string]any{"k": "v"}, Config: cfg})

	assert.Zero(t, repo.count("GetAgent"), "a new session skips the agent read (R36)")
	stored, err := repo.GetAgent(ctx, "s", "default")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(0), "model_call_count": int64(0)}, stored.ConversationManagerState)
	assert.Equal(t, map[string]any{
		"interrupt_state": map[string]any{"interrupts": map[string]any{}, "context": map[string]any{}, "activated": false},
		"model_state":     map[string]any{},
	}, stored.InternalState)
	assert.Equal(t, map[string]any{"k": "v"}, stored.State)
	assert.Equal(t, cfg, stored.Config, "config given at initialize is stored on create")
	assert.Equal(t, []session.ChatMessage{userText("Hello!")}, storedEffective(t, repo, "s", "default"))
	assert.Equal(t, 1, a.NextMessageID())
}

func TestInitialize_UniqueAgentIDPerManager(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newCounting(newMemory())
	m := newManager(t, repo, "s", manager.Options{})
	initAgent(t, m, "custom-agent", manager.AgentOptions{})
	_, err := m.Initialize(ctx, "custom-agent", manager.AgentOptions{})
	require.ErrorIs(t, err, manager.ErrAgentInitialized)

	// A failed initialize releases the id.
	repo.failNext("CreateAgent", errors.New("boom"))
	_, err = m.Initialize(ctx, "other", manager.AgentOptions{})
	require.Error(t, err)
	initAgent(t, m, "other", manager.AgentOptions{})

	_, err = m.Initialize(ctx, "a.b", manager.AgentOptions{})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
}

func TestInitialize_ReadsAgentOnExistingSession(t *testing.T) {
	t.Parallel()
	repo := newCounting(newMemory())
	require.NoError(t, repo.CreateSession(context.Background(), &session.Session{ID: "existing-session"}))
	m := newManager(t, repo, "existing-session", manager.Options{})
	repo.reset()
	initAgent(t, m, "test-agent", manager.AgentOptions{})
	assert.Equal(t, 1, repo.count("GetAgent"), "R37")
	// The second agent on a manager that created the session reads too.
	m2 := newManager(t, repo, "fresh", manager.Options{})
	initAgent(t, m2, "a1", manager.AgentOptions{})
	repo.reset()
	initAgent(t, m2, "a2", manager.AgentOptions{})
	assert.Equal(t, 1, repo.count("GetAgent"))
}

func TestInitialize_RestoresExistingAgent(t *testing.T) {
	t.Parallel()
	repo := newMemory()
	internal := manager.DefaultInternalState()
	internal["interrupt_state"].(map[string]any)["context"] = map[string]any{"test": "init"}
	seedAgent(t, repo, "s", &session.Agent{
		ID: "existing-agent", State: map[string]any{"key": "value"},
		ConversationManagerState: manager.DefaultConversationManagerState(""),
		InternalState:            internal,
	}, userText("Hello"))
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "existing-agent", manager.AgentOptions{Messages: []session.ChatMessage{userText("Hello!")}})

	assert.Equal(t, map[string]any{"key": "value"}, a.State())
	assert.Equal(t, []session.ChatMessage{userText("Hello")}, a.Messages(), "the stored log replaces the constructor messages (R5)")
	assert.Equal(t, map[string]any{"test": "init"}, a.InternalState()["interrupt_state"].(map[string]any)["context"])
	assert.Equal(t, 1, a.NextMessageID())
}

func TestInitialize_SummarizingPrependsSummaryAndSkipsRemoved(t *testing.T) {
	t.Parallel()
	repo := newMemory()
	summary := assistantText("summary")
	seedAgent(t, repo, "s", &session.Agent{
		ID: "existing-agent",
		ConversationManagerState: map[string]any{
			"summary_message": summary.Map(), "__name__": "SummarizingConversationManager", "removed_message_count": 1,
		},
	}, userText("Hello"), userText("Hello again"))
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "existing-agent", manager.AgentOptions{ConversationManager: manager.SummarizingConversationManager})
	assert.Equal(t, []session.ChatMessage{summary, userText("Hello again")}, a.Messages(), "R6")
	assert.Equal(t, int64(1), a.ConversationManagerState()["removed_message_count"])
	assert.Equal(t, 2, a.NextMessageID())
}

func TestInitialize_RepairsBrokenToolUseInMemoryOnly(t *testing.T) {
	t.Parallel()
	repo := newMemory()
	stored := []session.ChatMessage{toolUseMsg("orphaned-123"), userText("next")}
	seedAgent(t, repo, "s", &session.Agent{ID: "a"}, stored...)
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	got := a.Messages()
	require.Len(t, got, 3, "R12")
	id, status, ok := got[1].Content[0].ToolResult()
	require.True(t, ok)
	assert.Equal(t, "orphaned-123", id)
	assert.Equal(t, "error", status)
	assert.Equal(t, stored, storedEffective(t, repo, "s", "a"), "the repair is never written back")
}

func TestInitialize_ConcurrentFirstUseOfOneAgent(t *testing.T) {
	t.Parallel()
	repo := newMemory()
	require.NoError(t, repo.CreateSession(context.Background(), &session.Session{ID: "s"}))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			m, err := manager.New(context.Background(), repo, "s", manager.Options{Now: clock})
			if err == nil {
				_, err = m.Initialize(context.Background(), "a", manager.AgentOptions{State: map[string]any{"x": 1}})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "ErrAlreadyExists from CreateAgent means: read what the winner stored")
	}
}

func TestInitialize_ConfigWrittenOnlyWhenItDiffers(t *testing.T) {
	t.Parallel()
	repo := newCounting(newMemory())
	temp := 0.7
	cfg := session.AgentConfig{Model: "m1", SystemPrompt: "p", PromptMetadata: &session.PromptMetadata{PromptID: "p1", Temperature: &temp}}
	m := newManager(t, repo, "s", manager.Options{})
	initAgent(t, m, "a", manager.AgentOptions{Config: cfg})

	m2 := newManager(t, repo, "s", manager.Options{})
	repo.reset()
	initAgent(t, m2, "a", manager.AgentOptions{Config: cfg})
	assert.Zero(t, repo.count("UpdateAgentConfig"), "same config: no write")

	m3 := newManager(t, repo, "s", manager.Options{})
	initAgent(t, m3, "a", manager.AgentOptions{Config: session.AgentConfig{Model: "m2"}})
	assert.Equal(t, 1, repo.count("UpdateAgentConfig"))
	got, err := m3.GetAgentConfig(context.Background(), "a")
	require.NoError(t, err)
	assert.Equal(t, "m2", got.Model)
	assert.Equal(t, "p", got.SystemPrompt, "fields not given are kept")
	assert.Equal(t, cfg.PromptMetadata, got.PromptMetadata)
}

func TestAppend_StoresMessage(t *testing.T) {
	t.Parallel()
	repo := newMemory()
	m := newManager(t, repo, "test-session", manager.Options{})
	a := initAgent(t, m, "test-agent", manager.AgentOptions{})
	msg := session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{{"type": "text", "text": "Hello"}}}
	stored, err := a.Append(context.Background(), msg)
	require.NoError(t, err)
	assert.Equal(t, 0, stored.ID)
	assert.Equal(t, fixedNow, stored.CreatedAt, "the injected clock stamps messages")
	assert.Equal(t, []session.ChatMessage{msg}, storedEffective(t, repo, "test-session", "test-agent"), "R7")
	assert.Equal(t, []session.ChatMessage{msg}, a.Messages())

	_, err = a.Append(context.Background(), session.ChatMessage{Role: "system"})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	assert.Len(t, storedEffective(t, repo, "test-session", "test-agent"), 1, "nothing written")
}

func TestAppend_EmptyWindowNeverOverwritesMessageZero(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	m := newManager(t, repo, "s", manager.Options{})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	for _, c := range []session.ChatMessage{userText("one"), assistantText("two")} {
		_, err := a.Append(ctx, c)
		require.NoError(t, err)
	}
	require.Equal(t, 2, a.RemoveOldest(10), "the window drops everything")
	_, err := a.Sync(ctx)
	require.NoError(t, err)

	m2 := newManager(t, repo, "s", manager.Options{})
	a2 := initAgent(t, m2, "a", manager.AgentOptions{})
	assert.Empty(t, a2.Messages())
	stored, err := a2.Append(ctx, userText("three"))
	require.NoError(t, err)
	assert.Equal(t, 2, stored.ID, "the next id comes from the store, not from the window")
	assert.Equal(t, []session.ChatMessage{userText("one"), assistantText("two"), userText("three")}, storedEffective(t, repo, "s", "a"))
}

func TestAppend_StaleCursorRetriesOnConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newCounting(newMemory())
	m1 := newManager(t, repo, "s", manager.Options{})
	a1 := initAgent(t, m1, "a", manager.AgentOptions{})
	m2 := newManager(t, repo, "s", manager.Options{})
	a2 := initAgent(t, m2, "a", manager.AgentOptions{})

	_, err := a1.Append(ctx, userText("from 1"))
	require.NoError(t, err)
	repo.reset()
	stored, err := a2.Append(ctx, userText("from 2"))
	require.NoError(t, err)
	assert.Equal(t, 1, stored.ID)
	assert.Equal(t, 2, repo.count("CreateMessage"), "one lost race, one success")
	assert.Equal(t, 1, repo.count("CountMessages"), "the loser re-reads the count once")

	repo.reset()
	_, err = a1.Append(ctx, userText("again"))
	require.NoError(t, err)
	assert.Equal(t, 3, repo.count("CreateMessage")+repo.count("CountMessages"))
}

func TestAppend_GivesUpAfterBoundedRetries(t *testing.T) {
	t.Parallel()
	repo := newCounting(newMemory())
	m := newManager(t, repo, "s", manager.Options{MaxAppendRetries: 3})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	repo.conflictAlways = true
	repo.reset()
	_, err := a.Append(context.Background(), userText("x"))
	require.ErrorIs(t, err, session.ErrConflict)
	assert.Equal(t, 4, repo.count("CreateMessage"), "1 try + 3 retries")
	assert.Equal(t, 3, repo.count("CountMessages"))
	assert.Empty(t, a.Messages(), "an unacknowledged message is not shown")
}

func TestAppend_CancelledContextStopsRetrying(t *testing.T) {
	t.Parallel()
	repo := newCounting(newMemory())
	m := newManager(t, repo, "s", manager.Options{RetryBackoff: 1 << 40})
	a := initAgent(t, m, "a", manager.AgentOptions{})
	repo.conflictAlways = true
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Append(ctx, userText("x"))
	require.ErrorIs(t, err, context.Canceled)
}

// Several managers — several processes — and several goroutines per handle
// append to one agent at once: every acknowledged message is stored exactly
// once and the ids stay dense.
func TestAppend_ConcurrentManagersNeverDuplicateOrLose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newMemory()
	const managers, goroutines, each = 2, 3, 5
	handles := make([]*manager.AgentSession, managers)
	for i := range handles {
		m := newManager(t, repo, "shared", manager.Options{MaxAppendRetries: 100})
		handles[i] = initAgent(t, m, "a", manager.AgentOptions{})
	}
	var wg sync.WaitGroup
	acked := make(chan string, managers*goroutines*each)
	errs := make(chan error, managers*goroutines*each)
	for mi, h := range handles {
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					text := fmt.Sprintf("m%d-g%d-%d", mi, g, i)
					if _, err := h.Append(ctx, userText(text)); err != nil {
						errs <- err
						continue
					}
					acked <- text
				}
			})
		}
	}
	wg.Wait()
	close(acked)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	seen := map[string]int{}
	for _, c := range storedEffective(t, repo, "shared", "a") {
		text, _ := c.Content[0].Text()
		seen[text]++
	}
	n := 0
	for text := range acked {
		n++
		assert.Equal(t, 1, seen[text], "%s stored exactly once", text)
	}
	assert.Equal(t, managers*goroutines*each, n)
	assert.Len(t, seen, n, "nothing stored that was not acknowledged")
}

// TestAppend_SixtyFourHandlesOnOneAgentAllSucceed is the library side of
// issue 15's observed item 1: 64 handles (64 processes, as far as the
// manager knows) append to one agent at once with the default options.
// Every append must succeed, with dense ids and nothing lost or stored
// twice, on the memory and SQLite backends.
func TestAppend_SixtyFourHandlesOnOneAgentAllSucceed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		repo func(t *testing.T) session.Repository
	}{
		{"memory", func(t *testing.T) session.Repository { return newMemory() }},
		{"sqlite", func(t *testing.T) session.Repository {
			r, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = r.Close() })
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := tt.repo(t)
			const handles, each = 64, 4
			hs := make([]*manager.AgentSession, handles)
			for i := range hs {
				hs[i] = initAgent(t, newManager(t, repo, "shared", manager.Options{}), "a", manager.AgentOptions{})
			}
			ids := make(chan int, handles*each)
			errs := make(chan error, handles*each)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for hi, h := range hs {
				wg.Go(func() {
					<-start
					for i := range each {
						stored, err := h.Append(ctx, userText(fmt.Sprintf("h%d-%d", hi, i)))
						if err != nil {
							errs <- err
							continue
						}
						ids <- stored.ID
					}
				})
			}
			close(start)
			wg.Wait()
			close(ids)
			close(errs)
			var failed []error
			for err := range errs {
				failed = append(failed, err)
			}
			require.Empty(t, failed, "%d appends failed", len(failed))
			seenID := map[int]bool{}
			for id := range ids {
				require.False(t, seenID[id], "id %d acknowledged twice", id)
				seenID[id] = true
			}
			stored := storedEffective(t, repo, "shared", "a")
			require.Len(t, stored, handles*each)
			require.Len(t, seenID, handles*each)
			texts := map[string]bool{}
			for _, c := range stored {
				text, _ := c.Content[0].Text()
				require.False(t, texts[text], "%q stored twice", text)
				texts[text] = true
			}
		})
	}
}

// plainRepository hides the optional capabilities of the repository it
// embeds, as a third-party repository without AppendMessage would be.
type plainRepository struct{ session.Repository }

// Append uses the store's AppendMessage when it has one and falls back to
// CreateMessage at the next id otherwise — also behind a decorator that
// reports errors.ErrUnsupported because the repository it wraps lacks it.
func TestAppend_UsesAppendMessageOrFallsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		repo func(inner session.Repository) session.Repository
	}{
		{"MessageAppender", func(inner session.Repository) session.Repository { return inner }},
		{"without the capability", func(inner session.Repository) session.Repository { return plainRepository{inner} }},
		{"decorator over a repository without it", func(inner session.Repository) session.Repository {
			return faultinject.New(plainRepository{inner}, faultinject.Options{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			inner := newMemory()
			repo := tt.repo(inner)
			a1 := initAgent(t, newManager(t, repo, "s", manager.Options{}), "a", manager.AgentOptions{})
			a2 := initAgent(t, newManager(t, repo, "s", manager.Options{}), "a", manager.AgentOptions{})
			for i, h := range []*manager.AgentSession{a1, a2, a1} {
				stored, err := h.Append(ctx, userText(fmt.Sprintf("m%d", i)))
				require.NoError(t, err)
				assert.Equal(t, i, stored.ID, "the id the store holds, not the handle's stale count")
			}
			got := storedEffective(t, inner, "s", "a")
			require.Len(t, got, 3)
			for i, c := range got {
				text, _ := c.Content[0].Text()
				assert.Equal(t, fmt.Sprintf("m%d", i), text)
			}
		})
	}
}
