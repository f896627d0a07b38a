package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// Multi-agent (Graph and Swarm orchestrator) state: Strands'
// create_multi_agent, read_multi_agent and update_multi_agent. The cases run
// only on repositories implementing session.MultiAgentStore and skip with a
// reason otherwise.

// mid is the orchestrator id most cases use; Strands' default Graph id.
const mid = "default_graph"

// multiAgents returns r's MultiAgentStore or skips the case: the role is
// optional, and a decorator over a repository without it reports
// errors.ErrUnsupported (probed with a read of a session that does not
// exist).
func multiAgents(t *testing.T, r session.Repository) session.MultiAgentStore {
	t.Helper()
	m, ok := r.(session.MultiAgentStore)
	if !ok {
		t.Skipf("%T does not implement session.MultiAgentStore", r)
	}
	if _, err := m.GetMultiAgent(context.Background(), "conformance-probe-missing", mid); errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the repository does not store multi-agent state: %v", err)
	}
	return m
}

// graphState is a Graph's serialize_state() as Strands 1.62 writes it, with
// bytes in current_task (Strands marks them __bytes_encoded__ on disk; here
// they are []byte), nested results, ints and floats.
func graphState(status string) map[string]any {
	return map[string]any{
		"type":                  "graph",
		"id":                    mid,
		"status":                status,
		"completed_nodes":       []any{"research"},
		"failed_nodes":          []any{},
		"interrupted_nodes":     []any{},
		"next_nodes_to_execute": []any{"write"},
		"current_task": []any{map[string]any{
			"image": map[string]any{"format": "png", "source": map[string]any{"bytes": []byte{0, 1, 2, 0xff, '\n'}}},
		}},
		"node_results": map[string]any{"research": map[string]any{
			"status": "completed", "execution_time": int64(1200), "execution_count": int64(1),
			"accumulated_usage": map[string]any{"inputTokens": int64(10), "outputTokens": int64(5), "totalTokens": int64(15)},
		}},
		"execution_order": []any{"research"},
		"execution_time":  1.5,
		"_internal_state": map[string]any{"interrupt_state": map[string]any{"activated": false, "context": map[string]any{}, "interrupts": map[string]any{}}},
		"unicode":         "héllo \u2028 世界 \x00",
	}
}

func multiAgentCases() []testCase {
	return []testCase{
		{"MultiAgent", "CreateThenGetRoundTripsStateWithBytes", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			before := time.Now().UTC()
			in := &session.MultiAgent{ID: mid, State: graphState("executing")}
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, in))
			got, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			assert.Equal(t, mid, got.ID)
			assert.Equal(t, normalized(t, graphState("executing")), any(got.State))
			assert.False(t, got.CreatedAt.Before(before.Truncate(h.Capabilities.TimePrecision)), "CreatedAt %s before the call", got.CreatedAt)
			sameTime(t, h, got.CreatedAt, got.UpdatedAt, "UpdatedAt of a new record")
		}},
		{"MultiAgent", "CreateKeepsGivenTimes", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			created := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
			updated := created.Add(time.Hour)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{}, CreatedAt: created, UpdatedAt: updated}))
			got, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			sameTime(t, h, created, got.CreatedAt, "CreatedAt")
			sameTime(t, h, updated, got.UpdatedAt, "UpdatedAt")
		}},
		{"MultiAgent", "NilStateIsStoredAsEmptyObject", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid}))
			got, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{}, got.State)
		}},
		{"MultiAgent", "MissingSessionOrRecordIsNotFound", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			_, err := ma.GetMultiAgent(ctx, "nope", mid)
			requireIs(t, err, session.ErrNotFound, "GetMultiAgent in a missing session")
			requireIs(t, ma.CreateMultiAgent(ctx, "nope", &session.MultiAgent{ID: mid}), session.ErrNotFound, "CreateMultiAgent in a missing session")
			requireIs(t, ma.UpdateMultiAgent(ctx, "nope", &session.MultiAgent{ID: mid}), session.ErrNotFound, "UpdateMultiAgent in a missing session")
			_, err = ma.ListMultiAgents(ctx, "nope")
			requireIs(t, err, session.ErrNotFound, "ListMultiAgents of a missing session")
			_, err = r.GetSession(ctx, "nope")
			requireIs(t, err, session.ErrNotFound, "a multi-agent write created the session")

			createSession(t, ctx, r, sid)
			_, err = ma.GetMultiAgent(ctx, sid, mid)
			requireIs(t, err, session.ErrNotFound, "GetMultiAgent of a missing record")
		}},
		{"MultiAgent", "UpdateOfMissingRecordIsNotFoundAndCreatesNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			requireIs(t, ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: graphState("x")}), session.ErrNotFound, "UpdateMultiAgent of a missing record")
			_, err := ma.GetMultiAgent(ctx, sid, mid)
			requireIs(t, err, session.ErrNotFound, "the failed update created a record")
			list, err := ma.ListMultiAgents(ctx, sid)
			require.NoError(t, err)
			assert.Empty(t, list)
		}},
		{"MultiAgent", "CreateOfExistingIdIsAlreadyExistsAndKeepsTheRecord", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"v": int64(1)}}))
			requireIs(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"v": int64(2)}}), session.ErrAlreadyExists, "second CreateMultiAgent")
			got, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"v": int64(1)}, got.State)
		}},
		{"MultiAgent", "UpdateReplacesStateAndKeepsCreatedAt", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: graphState("executing"), CreatedAt: created}))
			next := map[string]any{"id": mid, "status": "completed", "blob": []byte("\x00\x01")}
			require.NoError(t, ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: next}))
			got, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			assert.Equal(t, next, got.State, "update replaces the state as a whole")
			sameTime(t, h, created, got.CreatedAt, "CreatedAt after update")
			assert.True(t, got.UpdatedAt.After(created), "UpdatedAt did not move: %s", got.UpdatedAt)
			require.NoError(t, ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: next}), "update is idempotent")
		}},
		{"MultiAgent", "ListIsOrderedByIDAndScopedToTheSession", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			createSession(t, ctx, r, "other")
			for _, id := range []string{"default_swarm", "b", "default_graph", "a"} {
				require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: id, State: map[string]any{"id": id}}))
			}
			require.NoError(t, ma.CreateMultiAgent(ctx, "other", &session.MultiAgent{ID: "c"}))
			list, err := ma.ListMultiAgents(ctx, sid)
			require.NoError(t, err)
			var ids []string
			for _, m := range list {
				ids = append(ids, m.ID)
				assert.Equal(t, map[string]any{"id": m.ID}, m.State)
			}
			assert.Equal(t, []string{"a", "b", "default_graph", "default_swarm"}, ids)
			// Agents and orchestrators are separate namespaces.
			agents, err := r.ListAgents(ctx, sid)
			require.NoError(t, err)
			assert.Empty(t, agents)
		}},
		{"MultiAgent", "AgentAndOrchestratorMayShareAnID", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			seed(t, ctx, r)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: aid, State: map[string]any{"o": true}}))
			a, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"key": "value"}, a.State)
			got, err := ma.GetMultiAgent(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"o": true}, got.State)
		}},
		{"MultiAgent", "BadInputIsInvalidArgumentAndWritesNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"v": int64(1)}}))
			before := dumpMultiAgents(t, ctx, r, sid)
			badIDs := []string{"", "a/b", "a\x00b", "a\nb", strings.Repeat("x", session.MaxIDBytes+1), "\xff"}
			for _, id := range badIDs {
				requireIs(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: id}), session.ErrInvalidArgument, fmt.Sprintf("CreateMultiAgent id %q", id))
				requireIs(t, ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: id}), session.ErrInvalidArgument, fmt.Sprintf("UpdateMultiAgent id %q", id))
				_, err := ma.GetMultiAgent(ctx, sid, id)
				requireIs(t, err, session.ErrInvalidArgument, fmt.Sprintf("GetMultiAgent id %q", id))
			}
			err := ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: "g2", State: map[string]any{"bad": make(chan int)}})
			requireIs(t, err, session.ErrInvalidArgument, "CreateMultiAgent with a channel in state")
			err = ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"bad": "\xff"}})
			requireIs(t, err, session.ErrInvalidArgument, "UpdateMultiAgent with invalid UTF-8 in state")
			var fe *session.FieldError
			require.True(t, errors.As(err, &fe), "want a *session.FieldError, got %T", err)
			assert.Contains(t, fe.Field, "state")
			requireIs(t, ma.CreateMultiAgent(ctx, sid, nil), session.ErrInvalidArgument, "CreateMultiAgent(nil)")
			requireIs(t, ma.UpdateMultiAgent(ctx, sid, nil), session.ErrInvalidArgument, "UpdateMultiAgent(nil)")
			_, err = ma.ListMultiAgents(ctx, "a/b")
			requireIs(t, err, session.ErrInvalidArgument, "ListMultiAgents with a bad session id")
			assert.Equal(t, before, dumpMultiAgents(t, ctx, r, sid), "bad input changed the stored records")
		}},
		{"MultiAgent", "ValuesAreCopiedInAndOut", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			in := &session.MultiAgent{ID: mid, State: map[string]any{"list": []any{"a"}, "b": []byte("xy")}}
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, in))
			in.State["list"].([]any)[0] = "changed"
			in.State["b"].([]byte)[0] = 'Z'
			got, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			got.State["list"].([]any)[0] = "mutated"
			got.State["new"] = true
			again, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"list": []any{"a"}, "b": []byte("xy")}, again.State)
		}},
		{"MultiAgent", "ConcurrentUpdatesLeaveOneWholeState", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"writer": int64(-1), "step": int64(-1)}}))
			const writers, perWriter = 8, 10
			var wg sync.WaitGroup
			errs := make(chan error, writers*perWriter*2)
			start := make(chan struct{})
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for i := range perWriter {
						st := map[string]any{"writer": int64(w), "step": int64(i), "copy": fmt.Sprintf("%d-%d", w, i)}
						errs <- ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: st})
						got, err := ma.GetMultiAgent(ctx, sid, mid)
						if err == nil && got.State["copy"] != nil && got.State["copy"] != fmt.Sprintf("%d-%d", got.State["writer"], got.State["step"]) {
							err = fmt.Errorf("read a mixed state: %v", got.State)
						}
						errs <- err
					}
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			got, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			w, s := got.State["writer"].(int64), got.State["step"].(int64)
			assert.Equal(t, fmt.Sprintf("%d-%d", w, s), got.State["copy"], "the final state is one whole write")
		}},
		{"MultiAgent", "ConcurrentCreatesOfOneIDExactlyOneWins", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			const n = 8
			results := make(chan error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results <- ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"i": int64(i)}})
				}()
			}
			wg.Wait()
			close(results)
			wins := 0
			for err := range results {
				if err == nil {
					wins++
					continue
				}
				requireIs(t, err, session.ErrAlreadyExists, "a losing create")
			}
			assert.Equal(t, 1, wins)
		}},
		{"MultiAgent", "DeleteSessionRemovesIt", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: graphState("executing")}))
			// Read it once, so a cache holds it.
			_, err := ma.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			require.NoError(t, r.DeleteSession(ctx, sid))
			_, err = ma.GetMultiAgent(ctx, sid, mid)
			requireIs(t, err, session.ErrNotFound, "GetMultiAgent after DeleteSession")
			createSession(t, ctx, r, sid)
			_, err = ma.GetMultiAgent(ctx, sid, mid)
			requireIs(t, err, session.ErrNotFound, "the recreated session inherited the orchestrator")
			list, err := ma.ListMultiAgents(ctx, sid)
			require.NoError(t, err)
			assert.Empty(t, list)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid}), "the id is free again")
		}},
		{"MultiAgent", "SizeLimitAllowsNinetyPercentAndRejectsOver", func(t *testing.T, h Harness) {
			limit := h.Capabilities.SizeLimit
			if limit <= 0 {
				t.Skip("the backend declares no size limit (Capabilities.SizeLimit is 0)")
			}
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			big := map[string]any{"blob": strings.Repeat("a", limit*9/10)}
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: big}), "a state of 90%% of the limit must fit")
			before := dumpMultiAgents(t, ctx, r, sid)
			over := map[string]any{"blob": strings.Repeat("b", limit+1)}
			requireIs(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: "other", State: over}), session.ErrTooLarge, "CreateMultiAgent over the limit")
			requireIs(t, ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: over}), session.ErrTooLarge, "UpdateMultiAgent over the limit")
			assert.Equal(t, before, dumpMultiAgents(t, ctx, r, sid), "a rejected write changed the records")
			require.NoError(t, ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"small": true}}), "small writes still work")
		}},
		{"MultiAgent", "PeerSeesCreatesAndUpdates", func(t *testing.T, h Harness) {
			if h.NewPeer == nil {
				t.Skip("the harness has no NewPeer: the backend does not share a store between instances")
			}
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			p := multiAgents(t, h.NewPeer(t, r))
			createSession(t, ctx, r, sid)
			_, err := p.GetMultiAgent(ctx, sid, mid)
			requireIs(t, err, session.ErrNotFound, "peer read before create")
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"step": int64(1)}}))
			got, err := p.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err, "peer read after create")
			assert.Equal(t, int64(1), got.State["step"])
			require.NoError(t, ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid, State: map[string]any{"step": int64(2)}}))
			got, err = p.GetMultiAgent(ctx, sid, mid)
			require.NoError(t, err)
			assert.Equal(t, int64(2), got.State["step"], "peer read a stale state after update")
			list, err := p.ListMultiAgents(ctx, sid)
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, int64(2), list[0].State["step"], "peer listed a stale state after update")
			require.NoError(t, r.DeleteSession(ctx, sid))
			_, err = p.GetMultiAgent(ctx, sid, mid)
			requireIs(t, err, session.ErrNotFound, "peer read after DeleteSession")
		}},
		{"MultiAgent", "ClosedRepositoryAndCancelledContext", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ma := multiAgents(t, r)
			createSession(t, ctx, r, sid)
			require.NoError(t, ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid}))
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			for name, err := range multiAgentCalls(cancelled, ma) {
				requireIs(t, err, context.Canceled, name+" with a cancelled context")
			}
			require.NoError(t, r.Close())
			for name, err := range multiAgentCalls(ctx, ma) {
				requireIs(t, err, session.ErrClosed, name+" after Close")
			}
		}},
	}
}

// multiAgentCalls calls each MultiAgentStore method once on the seeded ids.
func multiAgentCalls(ctx context.Context, ma session.MultiAgentStore) map[string]error {
	out := map[string]error{}
	out["CreateMultiAgent"] = ma.CreateMultiAgent(ctx, sid, &session.MultiAgent{ID: "another"})
	_, out["GetMultiAgent"] = ma.GetMultiAgent(ctx, sid, mid)
	out["UpdateMultiAgent"] = ma.UpdateMultiAgent(ctx, sid, &session.MultiAgent{ID: mid})
	_, out["ListMultiAgents"] = ma.ListMultiAgents(ctx, sid)
	return out
}

// dumpMultiAgents reads every orchestrator record of a session.
func dumpMultiAgents(t *testing.T, ctx context.Context, r session.Repository, sessionID string) []*session.MultiAgent {
	t.Helper()
	list, err := multiAgents(t, r).ListMultiAgents(ctx, sessionID)
	require.NoError(t, err)
	return list
}
