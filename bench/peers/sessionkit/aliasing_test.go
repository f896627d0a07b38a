package sessionkit

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// TestAliasing shows, per backend, that a caller who mutates a message
// after appending it, or a message it read back, does not change the stored
// history. The peers' packages run the same probe and record what they do;
// sessionkit's guarantee is asserted. The "aliasing:" log lines feed the
// report (cmd/peersreport).
func TestAliasing(t *testing.T) {
	t.Parallel()
	const original, mutated = "original text", "mutated by the caller"
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			repo := be.open(t)
			a := seed(t, repo, "aliasing", 0)

			msg := text(session.RoleUser, original)
			_, err := a.Append(ctx, msg)
			require.NoError(t, err)
			msg.Content[0]["text"] = mutated
			msgs, err := resume(ctx, repo, "aliasing")
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			got, _ := msgs[0].Content[0].Text()
			t.Logf("aliasing: store=sessionkit backend=%s case=append result=%s", be.name, result(got, original, mutated))
			assert.Equal(t, original, got, "mutating an appended message changed the store")

			msgs[0].Content[0]["text"] = mutated
			again, err := resume(ctx, repo, "aliasing")
			require.NoError(t, err)
			require.Len(t, again, 1)
			got, _ = again[0].Content[0].Text()
			t.Logf("aliasing: store=sessionkit backend=%s case=read result=%s", be.name, result(got, original, mutated))
			assert.Equal(t, original, got, "mutating a message read back changed the store")
		})
	}
}

// result names what a probe observed: the stored text is either the one
// appended or the caller's later mutation.
func result(got, original, mutated string) string {
	switch got {
	case original:
		return "isolated"
	case mutated:
		return "changes-store"
	default:
		return "unexpected"
	}
}
