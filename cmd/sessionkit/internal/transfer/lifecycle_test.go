package transfer_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/session"
)

// A JSON Lines export keeps the lifecycle: an import restores expires_at and
// forked_from (the source need not come along). A session whose expiry
// passed since the export is not imported — it would be gone at once — and
// is counted and named in the summary, never dropped silently.
func TestImportJSONL_KeepsExpiryAndLineageSkipsWhatExpiredSinceTheExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	src := memory.New(memory.Options{Now: func() time.Time { return now }})
	t.Cleanup(func() { _ = src.Close() })
	require.NoError(t, src.CreateSession(ctx, &session.Session{ID: "source", ExpiresAt: now.Add(48 * time.Hour)}))
	require.NoError(t, src.CreateAgent(ctx, "source", &session.Agent{ID: "a"}))
	require.NoError(t, src.CreateSession(ctx, &session.Session{ID: "soon", ExpiresAt: now.Add(time.Hour)}))
	fork, err := src.ForkSession(ctx, session.ForkRequest{SourceID: "source", ID: "branch", AgentID: "a"})
	require.NoError(t, err)
	require.NotNil(t, fork.ForkedFrom)

	var buf bytes.Buffer
	_, err = transfer.ExportJSONL(ctx, src, session.SessionQuery{}, &buf, nil)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `"forked_from"`)
	assert.Contains(t, buf.String(), `"expires_at"`)

	later := now.Add(2 * time.Hour) // "soon" expired since the export
	dst := memory.New(memory.Options{Now: func() time.Time { return later }})
	t.Cleanup(func() { _ = dst.Close() })
	// Only the branch: its source stays behind, lineage outlives it.
	var lines bytes.Buffer
	for _, l := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
		if !bytes.HasPrefix(l, []byte(`{"session":{"session_id":"source"`)) {
			lines.Write(l)
		}
	}
	sum, err := transfer.ImportJSONL(ctx, dst, &lines, transfer.ImportOptions{Now: func() time.Time { return later }})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Sessions)
	assert.Equal(t, []string{"soon"}, sum.Expired)
	assert.Contains(t, sum.String(), `1 not imported (expired since the export: "soon")`)

	got, err := dst.GetSession(ctx, "branch")
	require.NoError(t, err)
	assert.Equal(t, fork.ForkedFrom, got.ForkedFrom, "lineage restored")
	assert.True(t, got.ExpiresAt.Equal(now.Add(48*time.Hour)), "the fork's expiry (its source's) restored: %v", got.ExpiresAt)
	page, err := dst.ListSessions(ctx, session.SessionQuery{ForkedFrom: "source"})
	require.NoError(t, err)
	require.Len(t, page.Sessions, 1)
	_, err = dst.GetSession(ctx, "soon")
	assert.ErrorIs(t, err, session.ErrNotFound)
}
