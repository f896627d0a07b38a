package mongotest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
)

// TestRoundTrips counts the commands each operation sends (command monitor).
func TestRoundTrips(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, _, cc := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
			require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
			exact := r.Capabilities().ExactDocumentSet
			updateAgent := int64(1)
			if !exact {
				updateAgent = 2 // FerretDB: read before a document-valued $set
			}
			for _, tc := range []struct {
				name string
				want int64
				op   func() error
			}{
				{"CreateMessage", 1, func() error { return r.CreateMessage(ctx, "s", "a", textMessage(0, "x")) }},
				{"CreateMessage2", 1, func() error { return r.CreateMessage(ctx, "s", "a", textMessage(1, "y")) }},
				{"GetAgent", 1, func() error { _, err := r.GetAgent(ctx, "s", "a"); return err }},
				{"UpdateAgent", updateAgent, func() error { return r.UpdateAgent(ctx, "s", &session.Agent{ID: "a", State: map[string]any{"k": "v"}}) }},
				{"ListMessages", 1, func() error { _, err := r.ListMessages(ctx, "s", "a", 0, 20); return err }},
				{"CountMessages", 1, func() error { _, err := r.CountMessages(ctx, "s", "a"); return err }},
				{"UpdateMetadata", 1, func() error { return r.UpdateMetadata(ctx, "s", map[string]any{"k": "v"}) }},
			} {
				var err error
				n := cc.count(func() { err = tc.op() })
				require.NoError(t, err, tc.name)
				assert.Equal(t, tc.want, n, tc.name)
				t.Logf("%s: %d round trip(s)", tc.name, n)
			}
		})
	}
}
