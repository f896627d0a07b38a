package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// The README's library snippet, run as printed against the default backend.
func Example() {
	main()
	// Output:
	// 2 messages in session user-42
}

func TestREADME_ShowsThisProgramVerbatim(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	// The README shows the program from "package main" on, without the
	// file comment that points here.
	body := string(src[strings.Index(string(src), "package main"):])
	assert.Contains(t, string(readme), "```go\n"+body+"```\n", "README.md's library snippet must be examples/readme/main.go")
}

func TestSnippet_RunsOnSQLiteAndStoresTheMetrics(t *testing.T) {
	dir := t.TempDir()
	url := "sqlite://" + filepath.ToSlash(dir)
	t.Setenv("SESSIONKIT_URL", url)
	main()

	ctx := context.Background()
	repo, err := session.Open(ctx, url)
	require.NoError(t, err)
	defer repo.Close()
	msgs, err := repo.ListMessages(ctx, "user-42", "support-agent", 0, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	require.NotNil(t, msgs[1].EventLoopMetrics, "metrics stored on the assistant message")
	assert.Equal(t, int64(17), msgs[1].EventLoopMetrics.InvocationUsage.TotalTokens)
	assert.Nil(t, msgs[0].EventLoopMetrics)
	sess, err := repo.GetSession(ctx, "user-42")
	require.NoError(t, err)
	assert.Equal(t, "high", sess.Metadata["priority"])
}
