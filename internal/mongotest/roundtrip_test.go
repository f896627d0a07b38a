package mongotest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
	"github.com/sessionkit/sessionkit/session"
)

// TestRoundTrips counts the commands each operation sends (command monitor).
// The budgets are the issue's: one round trip per operation, except
// UpdateAgent on FerretDB (a read before a document-valued $set, see
// Capabilities.ExactDocumentSet) and ListAgents on servers without
// aggregation (agent_ids, then an exclusion projection); AppendMessage is
// one when this process wrote the agent last (see its doc); DeleteSession:
// one deleteMany in each of the two snapshot collections
// (backend/mongo/snapshots.go), then the session document — the snapshots
// first and always, because a session deleted by another writer may still
// own snapshots and a failed delete must not leave them to the id's next
// owner.
func TestRoundTrips(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, _, cc := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			caps := r.Capabilities()
			updateAgent := int64(1)
			if !caps.ExactDocumentSet {
				updateAgent = 2 // FerretDB: read before a document-valued $set
			}
			listAgents := int64(1)
			if !caps.Aggregation {
				listAgents = 2 // FerretDB: agent_ids, then the projected find
			}
			for _, tc := range []struct {
				name string
				want int64
				op   func() error
			}{
				{"CreateSession", 1, func() error { return r.CreateSession(ctx, &session.Session{ID: "s"}) }},
				{"GetSession", 1, func() error { _, err := r.GetSession(ctx, "s"); return err }},
				{"CreateAgent", 1, func() error { return r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}) }},
				{"CreateAgent2", 1, func() error { return r.CreateAgent(ctx, "s", &session.Agent{ID: "b"}) }},
				{"CreateMessage", 1, func() error { return r.CreateMessage(ctx, "s", "a", textMessage(0, "x")) }},
				{"CreateMessage2", 1, func() error { return r.CreateMessage(ctx, "s", "a", textMessage(1, "y")) }},
				{"AppendMessage", 1, func() error { _, err := r.AppendMessage(ctx, "s", "a", textMessage(0, "z")); return err }},
				{"AppendMessageToAnAgentItCreated", 1, func() error { _, err := r.AppendMessage(ctx, "s", "b", textMessage(0, "z")); return err }},
				{"GetAgent", 1, func() error { _, err := r.GetAgent(ctx, "s", "a"); return err }},
				{"UpdateAgent", updateAgent, func() error {
					return r.UpdateAgent(ctx, "s", &session.Agent{ID: "a", State: map[string]any{"k": "v"}})
				}},
				{"ListAgents", listAgents, func() error {
					as, err := r.ListAgents(ctx, "s")
					if err == nil && len(as) != 2 {
						t.Errorf("ListAgents: %d agents", len(as))
					}
					return err
				}},
				{"ListMessages", 1, func() error { _, err := r.ListMessages(ctx, "s", "a", 0, 20); return err }},
				{"ListMessagesAll", 1, func() error { _, err := r.ListMessages(ctx, "s", "a", 0, 0); return err }},
				{"GetMessage", 1, func() error { _, err := r.GetMessage(ctx, "s", "a", 1); return err }},
				{"CountMessages", 1, func() error { _, err := r.CountMessages(ctx, "s", "a"); return err }},
				{"UpdateMetadata", 1, func() error { return r.UpdateMetadata(ctx, "s", map[string]any{"k": "v"}) }},
				{"UpdateMetadataAgain", 1, func() error { return r.UpdateMetadata(ctx, "s", map[string]any{"k": "w", "n": int64(2)}) }},
				{"GetMetadata", 1, func() error { _, err := r.GetMetadata(ctx, "s"); return err }},
				{"DeleteMetadata", 1, func() error { return r.DeleteMetadata(ctx, "s", []string{"n"}) }},
				{"DeleteSession", 3, func() error { return r.DeleteSession(ctx, "s") }},
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

// TestRoundTrips_ListAgentsTransfersNoMessages checks that ListAgents'
// replies carry the agents but not their message arrays, on both paths
// (aggregation; agent_ids + exclusion projection), and that an agent added
// by another writer (the Python original does not maintain agent_ids) is
// still listed.
func TestRoundTrips_ListAgentsTransfersNoMessages(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			probe, c, _ := newRepo(t, uri, mongo.Options{})
			detected := probe.Capabilities()
			noAgg := detected
			noAgg.Aggregation = false
			paths := map[string]mongo.Capabilities{"detected": detected}
			if detected.Aggregation {
				paths["agent_ids"] = noAgg
			}
			for name, caps := range paths {
				t.Run(name, func(t *testing.T) {
					r, _, cc := newRepo(t, uri, mongo.Options{Capabilities: &caps})
					ctx := ctxT(t)
					require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
					marker := strings.Repeat("history-marker ", 400) // ~6 KB per message
					for _, id := range []string{"a", "b"} {
						require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: id, State: map[string]any{"who": id}}))
						for i := range 5 {
							require.NoError(t, r.CreateMessage(ctx, "s", id, textMessage(i, marker)))
						}
					}
					// A third agent written around this backend, as the original
					// would: no agent_ids entry, no message_count.
					now := time.Now().UTC().Truncate(time.Millisecond)
					_, err := c.Database(r.Database()).Collection(r.Collection()).UpdateOne(ctx, bson.D{{Key: "_id", Value: "s"}},
						bson.D{{Key: "$set", Value: bson.D{{Key: "agents.legacy", Value: bson.D{
							{Key: "agent_data", Value: bson.D{{Key: "agent_id", Value: "legacy"}, {Key: "state", Value: bson.D{}}, {Key: "conversation_manager_state", Value: bson.D{}}}},
							{Key: "messages", Value: bson.A{}}, {Key: "created_at", Value: now}, {Key: "updated_at", Value: now},
						}}}}})
					require.NoError(t, err)

					before := cc.received.Load()
					as, err := r.ListAgents(ctx, "s")
					require.NoError(t, err)
					received := cc.received.Load() - before
					require.Len(t, as, 3)
					assert.Equal(t, []string{"a", "b", "legacy"}, []string{as[0].ID, as[1].ID, as[2].ID})
					assert.Equal(t, map[string]any{"who": "b"}, as[1].State)
					assert.Equal(t, now, as[2].CreatedAt)
					assert.Less(t, received, int64(len(marker)), "ListAgents received %d bytes: no message array", received)
					t.Logf("ListAgents over 10 messages of %d bytes: %d bytes received", len(marker), received)

					_, err = r.ListAgents(ctx, "missing")
					assert.ErrorIs(t, err, session.ErrNotFound)
				})
			}
		})
	}
}

// namedCounter counts commands by name.
type namedCounter struct {
	mu    sync.Mutex
	names map[string]int
}

func (n *namedCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.names[e.CommandName]++
	}}
}

func (n *namedCounter) get(name string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.names[name]
}

// TestRoundTrips_IndexesOncePerCollectionPerProcess opens many repositories
// and factories over one client and one collection: the indexes are listed
// and created once, and creating a repository later costs no round trip.
func TestRoundTrips_IndexesOncePerCollectionPerProcess(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			nc := &namedCounter{names: map[string]int{}}
			c, err := driver.Connect(options.Client().ApplyURI(uri).SetMonitor(nc.monitor()))
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
			ctx := ctxT(t)
			opts := mongo.Options{Database: uniqueDB(t), MetadataFields: []string{"tier"}}

			var wg sync.WaitGroup
			for range 4 { // concurrently: still once
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := mongo.New(ctx, c, opts)
					if assert.NoError(t, err) {
						_ = r.Close()
					}
				}()
			}
			wg.Wait()
			for range 3 {
				f, err := mongo.NewFactory(ctx, mongo.FactoryConfig{Client: c, Options: opts})
				require.NoError(t, err)
				for range 3 {
					r, err := f.Repository(ctx, mongo.Overrides{})
					require.NoError(t, err)
					require.NoError(t, r.Close())
				}
				require.NoError(t, f.Close())
			}
			assert.Equal(t, 1, nc.get("listIndexes"), "indexes listed once")
			assert.Equal(t, 1, nc.get("createIndexes"), "indexes created once")
			assert.Equal(t, 1, nc.get("buildInfo"), "capabilities detected once per client")

			// Another collection gets its own indexes, once.
			f, err := mongo.NewFactory(ctx, mongo.FactoryConfig{Client: c, Options: opts})
			require.NoError(t, err)
			defer f.Close()
			for range 2 {
				r, err := f.Repository(ctx, mongo.Overrides{Collection: "other"})
				require.NoError(t, err)
				require.NoError(t, r.Close())
			}
			assert.Equal(t, 2, nc.get("createIndexes"))
		})
	}
}

// TestRoundTrips_FactoryRepositoryIsFreeOnTheSharedPool: on a pooled
// (owned) client, a repository per request — and a second factory over the
// same connection string — costs no command once the first factory exists.
func TestRoundTrips_FactoryRepositoryIsFreeOnTheSharedPool(t *testing.T) {
	t.Parallel()
	uri := poolURI(t)
	ctx := ctxT(t)
	cfg := mongo.FactoryConfig{URI: uri, Options: mongo.Options{Database: uniqueDB(t)}}
	f, err := mongo.NewFactory(ctx, cfg)
	require.NoError(t, err)
	defer f.Close()
	before := f.Stats()["mongo_commands_total"]
	require.Positive(t, before, "the first factory detected the server and created the indexes")
	for range 5 {
		r, err := f.Repository(ctx, mongo.Overrides{})
		require.NoError(t, err)
		require.NoError(t, r.Close())
	}
	f2, err := mongo.NewFactory(ctx, cfg)
	require.NoError(t, err)
	defer f2.Close()
	r, err := f2.Repository(ctx, mongo.Overrides{})
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, before, f.Stats()["mongo_commands_total"], "no command for repositories or a second factory")
	_, err = r.GetSession(ctx, "missing")
	require.ErrorIs(t, err, session.ErrNotFound)
	assert.Equal(t, before+1, f.Stats()["mongo_commands_total"], "the counter does move with an operation")
}

// TestRoundTrips_StrandsToolTurn runs Strands tool turns (user prompt,
// toolUse, toolResult, answer, the agent sync and the turn's metrics)
// through session/manager and the scripted loop, and counts round trips per
// turn: at most 6 (one per repository call) on servers with exact document
// $set (MongoDB, mongo-java-server). FerretDB adds one read before each
// document-valued $set — UpdateAgent's states and UpdateMessage's metrics —
// so a turn costs 8 there.
func TestRoundTrips_StrandsToolTurn(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, _, cc := newRepo(t, uri, mongo.Options{})
			counting := benchsuite.NewCounting(r)
			ctx := ctxT(t)
			conv, err := benchsuite.Open(ctx, counting, "turns", 1)
			require.NoError(t, err)
			defer conv.Close()
			for turn := range 3 {
				calls, methods := counting.Calls(), counting.ByMethod()
				var err error
				n := cc.count(func() { err = conv.Run(ctx) })
				require.NoError(t, err)
				byMethod := counting.ByMethod()
				for k, v := range methods {
					byMethod[k] -= v
				}
				budget := int64(6)
				if !r.Capabilities().ExactDocumentSet {
					budget += byMethod["UpdateAgent"] + byMethod["UpdateMessage"]
				}
				assert.Equal(t, int64(6), counting.Calls()-calls, "repository calls in turn %d: %v", turn, byMethod)
				assert.LessOrEqual(t, n, budget, "turn %d", turn)
				t.Logf("turn %d: %d round trips for calls %v", turn, n, byMethod)
			}
			count, err := r.CountMessages(ctx, "turns", benchsuite.AgentID)
			require.NoError(t, err)
			assert.Equal(t, 12, count, "three turns of four messages")
		})
	}
}
