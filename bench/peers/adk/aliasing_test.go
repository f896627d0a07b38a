package adk

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/adk/v2/session"
	"google.golang.org/genai"

	"github.com/sessionkit/sessionkit/bench/peers/workload"
)

// TestAliasing records, per backend, whether a caller who mutates an event
// after appending it, or an event it read back, changes ADK's stored
// history. ADK makes no promise either way, so the outcome is logged for
// the report (cmd/peersreport), not asserted; the test fails only when the
// probe itself does (a failed call, or a stored text that is neither the
// appended one nor the mutation).
func TestAliasing(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			svc := be.open(t)
			sess := seed(t, svc, "aliasing", 0)

			ev := textEvent(ctx, "user", genai.RoleUser, workload.Original)
			require.NoError(t, svc.AppendEvent(ctx, sess, ev))
			ev.Content.Parts[0].Text = workload.Mutated
			logResult(t, be.name, "append", storedText(t, svc))

			// Undo the mutation (a no-op where the store kept its own copy)
			// so that the read probe starts from the original text.
			ev.Content.Parts[0].Text = workload.Original
			evs, err := resume(ctx, svc, "aliasing", 0)
			require.NoError(t, err)
			require.Equal(t, 1, evs.Len())
			evs.At(0).Content.Parts[0].Text = workload.Mutated
			logResult(t, be.name, "read", storedText(t, svc))
		})
	}
}

// storedText reads the session back and returns its one event's text.
func storedText(t *testing.T, svc session.Service) string {
	t.Helper()
	evs, err := resume(context.Background(), svc, "aliasing", 0)
	require.NoError(t, err)
	require.Equal(t, 1, evs.Len())
	return evs.At(0).Content.Parts[0].Text
}

func logResult(t *testing.T, backend, probe, stored string) {
	t.Helper()
	res, ok := workload.Aliasing(stored)
	require.True(t, ok, "stored text %q is neither the appended one nor the mutation", stored)
	t.Logf("aliasing: store=adk backend=%s case=%s result=%s", backend, probe, res)
}
