package hooks

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session/manager"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fastDelivery retries quickly so failure tests stay short.
func fastDelivery(logger *slog.Logger) DeliveryOptions {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return DeliveryOptions{
		Workers: 2, QueueSize: 16, MaxAttempts: 4,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		AttemptTimeout: 2 * time.Second, Logger: logger,
	}
}

// newManager returns a manager over a fresh memory repository with hooks.
func newManager(t *testing.T, sessionID string, hooks ...manager.Hook) *manager.Manager {
	t.Helper()
	repo := memory.New(memory.Options{})
	m, err := manager.New(t.Context(), repo, sessionID, manager.Options{Hooks: hooks})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close(); _ = repo.Close() })
	return m
}

// newManagerWithMetadata is newManager over a session whose stored
// metadata already holds md (written without the hooks).
func newManagerWithMetadata(t *testing.T, sessionID string, md map[string]any, hooks ...manager.Hook) *manager.Manager {
	t.Helper()
	repo := memory.New(memory.Options{})
	plain, err := manager.New(t.Context(), repo, sessionID, manager.Options{})
	require.NoError(t, err)
	require.NoError(t, plain.UpdateMetadata(t.Context(), md))
	m, err := manager.New(t.Context(), repo, sessionID, manager.Options{Hooks: hooks})
	require.NoError(t, err)
	t.Cleanup(func() { _ = plain.Close(); _ = m.Close(); _ = repo.Close() })
	return m
}

// closeHook flushes h and requires it finished in time.
func closeHook(t *testing.T, h interface{ Close(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.Close(ctx))
}

// logBuffer is a concurrency-safe slog sink for asserting on log output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func httpResponse(code int) *http.Response { return &http.Response{StatusCode: code} }

func contextWithTimeout(seconds int) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
}
