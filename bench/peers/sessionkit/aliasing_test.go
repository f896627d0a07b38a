package sessionkit

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/bench/peers/workload"
	"github.com/sessionkit/sessionkit/session"
)

// TestAliasing shows, per backend, that a caller who mutates a message
// after appending it, or a message it read back, does not change the stored
// history. The peers' packages run the same probe and only record what
// they do; sessionkit's guarantee is asserted. The "aliasing:" log lines
// feed the report (cmd/peersreport).
func TestAliasing(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := be.open(t)
			a := seed(t, repo, "aliasing", 0)

			msg := text(session.RoleUser, workload.Original)
			_, err := a.Append(ctx, msg)
			require.NoError(t, err)
			msg.Content[0]["text"] = workload.Mutated
			checkStored(t, repo, be.name, "append")

			msgs, err := resume(ctx, repo, "aliasing")
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			msgs[0].Content[0]["text"] = workload.Mutated
			checkStored(t, repo, be.name, "read")
		})
	}
}

// checkStored resumes the session and asserts its one message still holds
// the original text.
func checkStored(t *testing.T, repo session.Repository, backend, probe string) {
	t.Helper()
	msgs, err := resume(context.Background(), repo, "aliasing")
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	stored, _ := msgs[0].Content[0].Text()
	res, _ := workload.Aliasing(stored)
	t.Logf("aliasing: store=sessionkit backend=%s case=%s result=%s", backend, probe, res)
	assert.Equal(t, workload.Original, stored, "mutating the %s message changed the store", probe)
}
