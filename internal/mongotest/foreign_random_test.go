package mongotest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/mongotest"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// envInt reads a positive integer from the environment, else def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// Agents of each session in the foreign-writer test: "go" is appended to by
// several sessionkit writers at once (AppendMessage), "py" by the Python
// original only, and "shared" in bursts by whichever side holds the
// session's turn (a sessionkit manager handle whose next id goes stale, or
// the original resuming from the last stored id) — the observed deployment.
var foreignAgents = []string{"go", "py", "shared"}

// foreignState is what the writers acknowledged, checked after the run.
type foreignState struct {
	mu        sync.Mutex
	appended  map[string]map[string]int // session/agent → text → times acknowledged
	feedbacks map[string]int            // session → original feedback comments acknowledged (each unique)
	comments  map[string][]string
	metadata  map[string]map[string]any // session → the original's own keys: value, or nil when deleted
	config    map[string]map[string]*session.PromptMetadata
	metrics   map[string]map[int]int64 // session → py message id → latency the original wrote last
	guards    map[string]map[int]bool  // session → py message ids with the original's guardrail_event
	guardN    map[string]int           // session → original guardrail_events pushed
	ops       int
}

func (st *foreignState) ack(sid, aid, text string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	key := sid + "/" + aid
	if st.appended[key] == nil {
		st.appended[key] = map[string]int{}
	}
	st.appended[key][text]++
}

func (st *foreignState) op() {
	st.mu.Lock()
	st.ops++
	st.mu.Unlock()
}

// TestForeignWriter_RandomInterleavingKeepsIDsAndTheOriginalsFields
// interleaves, from a seed, the Python original's exact update documents
// (create_message, update_message with redaction, update_agent, the metrics
// $set on the last message, update/delete_metadata, add_feedback, the
// agent-config $set-s; raw driver) with sessionkit writers (AppendMessage
// from several goroutines, session/manager handles, UpdateAgent,
// UpdateMessage, metadata, feedback) on the same sessions, then checks:
// ids dense and unique per agent, every acknowledged append stored exactly
// once and nothing else, CountMessages right, and none of the original's
// fields lost (prompt metadata, metrics, guardrail events, feedback,
// metadata). On mongo-java-server the writers run concurrently; FerretDB v1
// is not atomic across processes (the raw writer is one), so there the same
// operations run interleaved one at a time, and the original's $slice and
// positional writes (metrics, guardrail), which it cannot run, are left out.
// SESSIONKIT_FOREIGN_SEED and SESSIONKIT_FOREIGN_OPS (default 1,200 on
// mongo-java-server, 1,000 on FerretDB) change the run.
func TestForeignWriter_RandomInterleavingKeepsIDsAndTheOriginalsFields(t *testing.T) {
	seed := uint64(envInt("SESSIONKIT_FOREIGN_SEED", 13))
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, kind := srv.start(t)
			// FerretDB embedded runs in this process, SQLite included, and
			// under -race costs about 80–200 ms an operation on 2 cores: the
			// 1,000 operations there take 2–4 minutes, the 1,200 on
			// mongo-java-server under one.
			total := 1200
			if kind == mongotest.KindFerretDB {
				total = 1000
			}
			total = envInt("SESSIONKIT_FOREIGN_OPS", total)
			r, c, _ := newRepo(t, uri, mongo.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			orig := newOriginal(c, r.Database(), r.Collection())
			positional := r.Capabilities().Positional && r.Capabilities().SliceProjection
			// Contention on few sessions where writers run concurrently;
			// on FerretDB, whose every update rewrites the document (cost in
			// proportion to its messages), the same operations over more,
			// smaller sessions.
			nSessions := 2
			if kind == mongotest.KindFerretDB {
				nSessions = 1 + total/40
			}
			var sessions []string
			for i := range nSessions {
				sessions = append(sessions, fmt.Sprintf("fw-%d", i))
			}
			st := &foreignState{
				appended: map[string]map[string]int{}, feedbacks: map[string]int{}, comments: map[string][]string{},
				metadata: map[string]map[string]any{}, config: map[string]map[string]*session.PromptMetadata{},
				metrics: map[string]map[int]int64{}, guards: map[string]map[int]bool{}, guardN: map[string]int{},
			}
			type writer struct {
				name string
				step func(ctx context.Context, rng *rand.Rand, seq int) error
			}
			var writers []writer
			for _, sid := range sessions {
				require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid}))
				for _, aid := range foreignAgents {
					require.NoError(t, r.CreateAgent(ctx, sid, &session.Agent{ID: aid}))
				}
				st.metadata[sid] = map[string]any{}
				st.config[sid] = map[string]*session.PromptMetadata{}
				st.metrics[sid] = map[int]int64{}
				st.guards[sid] = map[int]bool{}
				turn := make(chan struct{}, 1) // who appends to "shared"
				turn <- struct{}{}

				// Two sessionkit writers appending to "go" at once.
				for w := range 2 {
					name := fmt.Sprintf("%s-append%d", sid, w)
					writers = append(writers, writer{name, func(ctx context.Context, rng *rand.Rand, seq int) error {
						text := fmt.Sprintf("%s-%d", name, seq)
						if _, err := r.AppendMessage(ctx, sid, "go", textMessage(0, text)); err != nil {
							return err
						}
						st.ack(sid, "go", text)
						return nil
					}})
				}

				// A sessionkit manager: "shared" in bursts, state syncs,
				// redactions, metadata and feedback of its own.
				m, err := manager.New(ctx, r, sid, manager.Options{MaxAppendRetries: 64})
				require.NoError(t, err)
				shared, err := m.Initialize(ctx, "shared", manager.AgentOptions{})
				require.NoError(t, err)
				skName := sid + "-manager"
				writers = append(writers, writer{skName, func(ctx context.Context, rng *rand.Rand, seq int) error {
					switch rng.IntN(5) {
					case 0:
						select {
						case <-turn:
						default:
							return nil
						}
						defer func() { turn <- struct{}{} }()
						for i := range 1 + rng.IntN(3) {
							text := fmt.Sprintf("%s-%d-%d", skName, seq, i)
							if _, err := shared.Append(ctx, chat(session.RoleUser, text)); err != nil {
								return err
							}
							st.ack(sid, "shared", text)
						}
					case 1:
						aid := foreignAgents[rng.IntN(len(foreignAgents))]
						err := r.UpdateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"seq": int64(seq)}})
						return err
					case 2: // redact a random stored message of any agent through sessionkit
						aid := foreignAgents[rng.IntN(len(foreignAgents))]
						n, err := r.CountMessages(ctx, sid, aid)
						if err != nil || n == 0 {
							return err
						}
						msg, err := r.GetMessage(ctx, sid, aid, rng.IntN(n))
						if err != nil {
							return err
						}
						red := chat(session.RoleUser, "[redacted by sessionkit]")
						msg.RedactMessage = &red
						msg.EventLoopMetrics, msg.GuardrailEvent = nil, nil
						return r.UpdateMessage(ctx, sid, aid, msg)
					case 3:
						return r.UpdateMetadata(ctx, sid, map[string]any{"sk": int64(seq)})
					default:
						_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, Comment: fmt.Sprintf("%s-%d", skName, seq)})
						return err
					}
					return nil
				}})

				// The Python original.
				pyName := sid + "-original"
				writers = append(writers, writer{pyName, func(ctx context.Context, rng *rand.Rand, seq int) error {
					switch rng.IntN(9) {
					case 0, 1: // its own agent: create_message with latest + 1
						last, err := orig.lastMessageID(ctx, sid, "py")
						if err != nil {
							return err
						}
						text := fmt.Sprintf("%s-%d", pyName, seq)
						if err := orig.createMessage(ctx, sid, "py", last+1, textChat("user", text)); err != nil {
							return err
						}
						st.ack(sid, "py", text)
					case 2: // its turn on "shared": resume, then a burst
						select {
						case <-turn:
						default:
							return nil
						}
						defer func() { turn <- struct{}{} }()
						last, err := orig.lastMessageID(ctx, sid, "shared")
						if err != nil {
							return err
						}
						for i := range 1 + rng.IntN(3) {
							text := fmt.Sprintf("%s-%d-%d", pyName, seq, i)
							if err := orig.createMessage(ctx, sid, "shared", last+1+i, textChat("user", text)); err != nil {
								return err
							}
							st.ack(sid, "shared", text)
						}
					case 3: // update_message (redaction) of a random message of any agent
						aid := foreignAgents[rng.IntN(len(foreignAgents))]
						msgs, err := orig.messages(ctx, sid, aid)
						if err != nil || len(msgs) == 0 {
							return err
						}
						el := msgs[rng.IntN(len(msgs))].(bson.D)
						id := messageIDOf(el)
						var chatDoc bson.D
						for _, e := range el {
							if e.Key == "message" {
								chatDoc = e.Value.(bson.D)
							}
						}
						if err := orig.updateMessage(ctx, sid, aid, id, chatDoc, textChat("user", "[redacted by the original]")); err != nil {
							return err
						}
						if aid == "py" { // the original's own B5: its element replace drops its metrics and guardrail
							st.mu.Lock()
							delete(st.metrics[sid], id)
							delete(st.guards[sid], id)
							st.mu.Unlock()
						}
					case 4:
						if !positional {
							return nil
						}
						latency := int64(seq + 1)
						id, err := orig.metrics(ctx, sid, "py", int(latency))
						if err != nil || id < 0 {
							return err
						}
						st.mu.Lock()
						st.metrics[sid][id] = latency
						st.mu.Unlock()
					case 5:
						if !positional {
							return nil
						}
						id, err := orig.guardrail(ctx, sid, "py")
						if err != nil || id < 0 {
							return err
						}
						st.mu.Lock()
						st.guards[sid][id] = true
						st.guardN[sid]++
						st.mu.Unlock()
					case 6: // agent config $set-s (on any agent), or update_agent on its own
						aid := foreignAgents[rng.IntN(len(foreignAgents))]
						if aid == "py" && rng.IntN(3) == 0 {
							if err := orig.updateAgent(ctx, sid, "py", bson.D{{Key: "py", Value: seq}}); err != nil {
								return err
							}
							st.mu.Lock()
							st.config[sid]["py"] = nil // the original's own B1
							st.mu.Unlock()
							return nil
						}
						pm := &session.PromptMetadata{PromptID: fmt.Sprintf("p%d", seq), PromptName: "support", PromptVersion: "3"}
						if err := orig.agentConfig(ctx, sid, aid, "model-x", "be brief", bson.D{
							{Key: "prompt_id", Value: pm.PromptID}, {Key: "prompt_name", Value: pm.PromptName}, {Key: "prompt_version", Value: pm.PromptVersion},
						}); err != nil {
							return err
						}
						st.mu.Lock()
						st.config[sid][aid] = pm
						st.mu.Unlock()
					case 7: // update_metadata / delete_metadata of its own keys
						key := fmt.Sprintf("py%d", rng.IntN(4))
						if rng.IntN(3) == 0 {
							if err := orig.deleteMetadata(ctx, sid, key); err != nil {
								return err
							}
							st.mu.Lock()
							st.metadata[sid][key] = nil
							st.mu.Unlock()
							return nil
						}
						v := fmt.Sprintf("v%d", seq)
						if err := orig.updateMetadata(ctx, sid, bson.D{{Key: key, Value: v}}); err != nil {
							return err
						}
						st.mu.Lock()
						st.metadata[sid][key] = v
						st.mu.Unlock()
					default:
						comment := fmt.Sprintf("%s-%d", pyName, seq)
						if err := orig.addFeedback(ctx, sid, "down", comment); err != nil {
							return err
						}
						st.mu.Lock()
						st.comments[sid] = append(st.comments[sid], comment)
						st.mu.Unlock()
					}
					return nil
				}})
			}

			run := func(w writer, rng *rand.Rand, seq int) bool {
				err := w.step(ctx, rng, seq)
				st.op()
				return assert.NoError(t, err, "%s op %d", w.name, seq)
			}
			if kind == mongotest.KindFerretDB {
				rng := rand.New(rand.NewPCG(seed, 0))
				for seq := range total {
					if !run(writers[rng.IntN(len(writers))], rng, seq) {
						break
					}
				}
			} else {
				var wg sync.WaitGroup
				per := (total + len(writers) - 1) / len(writers)
				for i, w := range writers {
					wg.Go(func() {
						rng := rand.New(rand.NewPCG(seed, uint64(i)))
						for seq := range per {
							if !run(w, rng, seq) {
								return
							}
						}
					})
				}
				wg.Wait()
			}
			require.False(t, t.Failed(), "a writer failed")
			require.GreaterOrEqual(t, st.ops, total)
			checkForeignRun(t, r, sessions, st)
			t.Logf("seed %d: %d operations by %d writers", seed, st.ops, len(writers))
		})
	}
}

// checkForeignRun asserts the properties after a run.
func checkForeignRun(t *testing.T, r *mongo.Repository, sessions []string, st *foreignState) {
	t.Helper()
	ctx := ctxT(t)
	for _, sid := range sessions {
		for _, aid := range foreignAgents {
			msgs, err := r.ListMessages(ctx, sid, aid, 0, 0)
			require.NoError(t, err)
			ids := make([]int, len(msgs))
			stored := map[string]int{}
			for i, m := range msgs {
				ids[i] = m.ID
				if len(m.Message.Content) > 0 {
					text, _ := m.Message.Content[0].Text()
					stored[text]++
				}
			}
			assert.Nil(t, driver.CheckMessageIDs(sid, aid, ids), "ids of %s/%s dense and unique", sid, aid)
			assert.Equal(t, st.appended[sid+"/"+aid], nonEmpty(stored), "%s/%s: every acknowledged append exactly once, nothing else", sid, aid)
			n, err := r.CountMessages(ctx, sid, aid)
			require.NoError(t, err)
			assert.Equal(t, len(msgs), n, "CountMessages of %s/%s", sid, aid)
			if aid == "py" {
				for id, latency := range st.metrics[sid] {
					require.NotNil(t, msgs[id].EventLoopMetrics, "%s/py message %d keeps the original's metrics", sid, id)
					assert.Equal(t, latency, msgs[id].EventLoopMetrics.AccumulatedMetrics.LatencyMs, "%s/py message %d metrics", sid, id)
				}
				for id := range st.guards[sid] {
					assert.NotNil(t, msgs[id].GuardrailEvent, "%s/py message %d keeps the original's guardrail_event", sid, id)
				}
			}
			a, err := r.GetAgent(ctx, sid, aid)
			require.NoError(t, err)
			if want, ok := st.config[sid][aid]; ok {
				if want == nil {
					assert.Nil(t, a.Config.PromptMetadata, "%s/%s: the original's update_agent dropped the config", sid, aid)
				} else {
					require.NotNil(t, a.Config.PromptMetadata, "%s/%s keeps the original's prompt metadata", sid, aid)
					assert.Equal(t, *want, *a.Config.PromptMetadata, "%s/%s prompt metadata", sid, aid)
					assert.Equal(t, "model-x", a.Config.Model)
				}
			}
		}
		fbs, err := r.ListFeedback(ctx, sid)
		require.NoError(t, err)
		got := map[string]int{}
		for _, f := range fbs {
			got[f.Comment]++
		}
		for _, c := range st.comments[sid] {
			assert.Equal(t, 1, got[c], "%s: the original's feedback %q exactly once", sid, c)
		}
		md, err := r.GetMetadata(ctx, sid)
		require.NoError(t, err)
		for k, v := range st.metadata[sid] {
			if v == nil {
				assert.NotContains(t, md, k)
			} else {
				assert.Equal(t, v, md[k], "%s: the original's metadata %q", sid, k)
			}
		}
		evs, err := r.ListGuardrailEvents(ctx, sid)
		require.NoError(t, err)
		assert.Len(t, evs, st.guardN[sid], "%s: the original's guardrail_events", sid)
	}
}

func nonEmpty(m map[string]int) map[string]int {
	if len(m) == 0 {
		return nil
	}
	return m
}
