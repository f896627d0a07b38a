package mongotest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
)

// Orchestrator state goes to the root field multi_agents.<id>, which the
// Python original's reader ignores, and never under agents, where the
// original would take it for an agent without agent_data and raise. It also
// works on a document the original wrote (no doc_size, no agent_ids).
func TestMultiAgent_StoredAtTheRootWhereTheOriginalIgnoresIt(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			docs, _ := loadFixtures(t)
			r, c, _ := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			coll := c.Database(dbOfRepo(r)).Collection(mongo.DefaultCollection)
			for _, d := range docs {
				_, err := coll.InsertOne(ctx, d)
				require.NoError(t, err)
			}
			const sid = "customer-12345"
			state := map[string]any{"type": "graph", "id": "default_graph", "status": "executing",
				"current_task":   []any{map[string]any{"image": map[string]any{"source": map[string]any{"bytes": []byte{1, 2}}}}},
				"node.with.dots": map[string]any{"$ref": "x"}}
			require.NoError(t, r.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: "default_graph", State: state}))
			require.NoError(t, r.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: "default_graph", State: state}))

			var doc bson.D
			require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: sid}}).Decode(&doc))
			assertOriginalReadable(t, doc)
			raw, err := bson.Marshal(doc)
			require.NoError(t, err)
			rd := bson.Raw(raw)
			assert.Equal(t, "executing", rd.Lookup("multi_agents", "default_graph", "state", "status").StringValue())
			assert.Equal(t, bson.TypeDateTime, rd.Lookup("multi_agents", "default_graph", "created_at").Type)
			_, err = rd.LookupErr("agents", "default_graph")
			assert.Error(t, err, "an orchestrator must not appear under agents")

			got, err := r.GetMultiAgent(ctx, sid, "default_graph")
			require.NoError(t, err)
			assert.Equal(t, state, got.State, "dotted and $ keys and bytes round-trip")
			agents, err := r.ListAgents(ctx, sid)
			require.NoError(t, err)
			for _, a := range agents {
				assert.NotEqual(t, "default_graph", a.ID)
			}
		})
	}
}
