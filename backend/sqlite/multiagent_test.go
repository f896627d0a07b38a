package sqlite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// A file written at schema version 1 (before orchestrator state existed)
// opens, gains the multi_agents table, keeps its data and stores
// orchestrators; deleting its session removes them by cascade.
func TestMigrate_Version1FileGainsMultiAgents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := fileAtVersion(t, 1)

	r := openTest(t, dir, Options{})
	_, err := r.GetSession(ctx, "s1")
	require.NoError(t, err, "the version-1 session survives the upgrade")
	require.NoError(t, r.CreateMultiAgent(ctx, "s1", &session.MultiAgent{ID: "default_swarm", State: map[string]any{"b": []byte{1}}}))
	got, err := r.GetMultiAgent(ctx, "s1", "default_swarm")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"b": []byte{1}}, got.State)

	require.NoError(t, r.DeleteSession(ctx, "s1"))
	var rows int
	require.NoError(t, r.reader.QueryRowContext(ctx, `SELECT count(*) FROM multi_agents`).Scan(&rows))
	assert.Zero(t, rows, "DeleteSession left orchestrator rows behind")
}
