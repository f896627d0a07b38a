package transfer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/internal/strandsgolden"
	"github.com/sessionkit/sessionkit/session"
)

// A key the store has no place for, at the top of a Strands file (a field
// a later SDK might add), would be dropped by the import and missing from
// the export: it is an error naming the file and the key, and nothing of
// the session is written.
func TestStrands_UnknownTopLevelKeysAreErrorsNamingTheFile(t *testing.T) {
	t.Parallel()
	for _, file := range []string{
		"session_single/session.json",
		"session_single/agents/agent_assistant/agent.json",
		"session_single/agents/agent_assistant/messages/message_0.json",
	} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for p, b := range strandsgolden.ReadTree(t, filepath.Join(strandsgolden.Dir(), "file")) {
				if p == file {
					b = []byte(strings.Replace(string(b), "{\n", "{\n  \"added_by_a_later_sdk\": 1,\n", 1))
				}
				full := filepath.Join(dir, filepath.FromSlash(p))
				require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o700))
				require.NoError(t, os.WriteFile(full, b, 0o600))
			}
			ctx := context.Background()
			repo := memory.New(memory.Options{})
			_, err := transfer.ImportStrands(ctx, repo, dir, transfer.ImportOptions{})
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			assert.Contains(t, err.Error(), filepath.Base(file), "the error names the file")
			assert.Contains(t, err.Error(), "added_by_a_later_sdk", "the error names the key")
			_, err = repo.GetSession(ctx, "single")
			assert.ErrorIs(t, err, session.ErrNotFound, "nothing of the session is written")
		})
	}
}
