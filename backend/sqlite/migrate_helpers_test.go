package sqlite

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fileAtVersion writes a database file migrated to schema version v only,
// holding one session "s1" of application "app", in a new directory with
// the modes Open expects, and returns the directory: the start of every
// migration test.
func fileAtVersion(t *testing.T, v int) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o700))
	path := filepath.Join(dir, DefaultFileName)
	db, err := sql.Open("sqlite", dsn(path, url.Values{"_txlock": {"immediate"}}))
	require.NoError(t, err)
	require.NoError(t, migrate(context.Background(), db, migrations[:v]))
	_, err = db.Exec(`INSERT INTO sessions (id, type, application_name, viewer_password_hash, created_at, updated_at)
		VALUES ('s1', 'AGENT', 'app', '', 1, 1)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, os.Chmod(path, 0o600))
	return dir
}
