package trpc

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"trpc.group/trpc-go/trpc-agent-go/model"
	"trpc.group/trpc-go/trpc-agent-go/session/inmemory"

	"github.com/sessionkit/sessionkit/bench/peers/workload"
)

// TestAliasing records whether a caller who mutates an event after
// appending it, or an event it read back, changes trpc-agent-go's stored
// history (in-memory service). trpc-agent-go makes no promise either way,
// so the outcome is logged for the report (cmd/peersreport), not asserted;
// the test fails only when the probe itself does.
func TestAliasing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := openMemory(t)
	sess := seed(t, svc, "aliasing", 0)

	ev := messageEvent("user", model.NewUserMessage(workload.Original))
	require.NoError(t, svc.AppendEvent(ctx, sess, ev))
	ev.Response.Choices[0].Message.Content = workload.Mutated
	logResult(t, "append", storedText(t, svc))

	// Undo the mutation (a no-op where the store kept its own copy) so
	// that the read probe starts from the original text.
	ev.Response.Choices[0].Message.Content = workload.Original
	read, err := svc.GetSession(ctx, key("aliasing"))
	require.NoError(t, err)
	require.Len(t, read.Events, 1)
	read.Events[0].Response.Choices[0].Message.Content = workload.Mutated
	logResult(t, "read", storedText(t, svc))
}

// storedText reads the session back and returns its one event's text.
func storedText(t *testing.T, svc *inmemory.SessionService) string {
	t.Helper()
	sess, err := svc.GetSession(context.Background(), key("aliasing"))
	require.NoError(t, err)
	require.Len(t, sess.Events, 1)
	return sess.Events[0].Response.Choices[0].Message.Content
}

func logResult(t *testing.T, probe, stored string) {
	t.Helper()
	res, ok := workload.Aliasing(stored)
	require.True(t, ok, "stored text %q is neither the appended one nor the mutation", stored)
	t.Logf("aliasing: store=trpc backend=memory case=%s result=%s", probe, res)
}
