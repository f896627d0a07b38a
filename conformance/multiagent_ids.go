package conformance

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// sdkMultiAgentIDs are orchestrator ids the Strands SDK's identifier
// validation accepts (anything without "/") that a document field name
// could not hold as they are: dots, dollars, the Mongo backend's escape
// prefix, and the escape character itself.
var sdkMultiAgentIDs = []string{"graph.v2", "$swarm", "a.b$c%2E", "..", ".", "\uFFF0x", "plain"}

func multiAgentIDCases() []testCase {
	return []testCase{
		{"MultiAgent", "IDsTheSDKAllowsRoundTrip", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			for i, id := range sdkMultiAgentIDs {
				require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: id, State: map[string]any{"n": int64(i)}}), "create %q", id)
			}
			for i, id := range sdkMultiAgentIDs {
				require.NoError(t, ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: id, State: map[string]any{"n": int64(i), "updated": true}}), "update %q", id)
				got, err := ma.GetMultiAgent(ctx, sid, id)
				require.NoError(t, err, "get %q", id)
				assert.Equal(t, id, got.ID)
				assert.Equal(t, map[string]any{"n": int64(i), "updated": true}, got.State, "state of %q", id)
				requireIs(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: id}), session.ErrAlreadyExists, fmt.Sprintf("second create of %q", id))
			}
			list, err := ma.ListMultiAgents(ctx, sid)
			require.NoError(t, err)
			var ids []string
			for _, m := range list {
				ids = append(ids, m.ID)
			}
			assert.Equal(t, []string{"$swarm", ".", "..", "a.b$c%2E", "graph.v2", "plain", "\uFFF0x"}, ids, "listed by id")
			_, err = ma.GetMultiAgent(ctx, sid, "graph")
			requireIs(t, err, session.ErrNotFound, "a prefix of a dotted id is not a record")
		}},
	}
}
