package benchsuite_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// chatWindow is the conversation window the chat workload keeps, as
// Strands' default SlidingWindowConversationManager does (40 messages).
const chatWindow = 40

// chatCounts are the Mongo commands a client sends, split into reads and
// writes (handshakes and heartbeats excluded).
type chatCounts struct{ reads, writes atomic.Int64 }

func (m *chatCounts) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		switch e.CommandName {
		case "find", "aggregate", "count", "distinct", "getMore":
			m.reads.Add(1)
		case "update", "insert", "delete", "findAndModify":
			m.writes.Add(1)
		}
	}}
}

// chatRequest is one request of an agent service (the FastAPI pattern of
// the architecture overview): resume the session (manager New +
// Initialize: GetSession, GetAgent, the window from removed_message_count
// on), append the user's message and the assistant's answer, slide the
// window, end the invocation with the model call's metrics (one
// UpdateAgent, one UpdateMessage on the answer). It returns how many
// repository reads the resume made through counting.
func chatRequest(ctx context.Context, repo session.Repository, counting *benchsuite.Counting, sid string, turn int) (int64, error) {
	before := counting.Calls()
	m, err := manager.New(ctx, repo, sid, manager.Options{})
	if err != nil {
		return 0, err
	}
	defer m.Close()
	a, err := m.Initialize(ctx, benchsuite.AgentID, manager.AgentOptions{})
	if err != nil {
		return 0, err
	}
	resumeReads := counting.Calls() - before
	if _, err := a.Append(ctx, session.ChatMessage{Role: session.RoleUser,
		Content: []session.ContentBlock{session.TextBlock(fmt.Sprintf("Question %d: %s", turn, benchsuite.Text[:120]))}}); err != nil {
		return 0, err
	}
	if _, err := a.Append(ctx, session.ChatMessage{Role: session.RoleAssistant,
		Content: []session.ContentBlock{session.TextBlock(benchsuite.Text)}}); err != nil {
		return 0, err
	}
	if over := len(a.Messages()) - chatWindow; over > 0 {
		a.RemoveOldest(over)
	}
	if err := a.SetState("turns", int64(turn+1)); err != nil {
		return 0, err
	}
	// The model call's metrics, stored on the answer (one UpdateMessage).
	return resumeReads, a.EndInvocation(ctx, &session.EventLoopMetrics{
		AccumulatedUsage:   session.Usage{InputTokens: int64(100 * (turn + 1)), OutputTokens: int64(50 * (turn + 1)), TotalTokens: int64(150 * (turn + 1))},
		AccumulatedMetrics: session.LatencyMetrics{LatencyMs: int64(800 * (turn + 1))},
	})
}

// BenchmarkChatWorkload replays the chat workload (see chatRequest) over
// one mongo-java-server, through the Redis cache on a real redis-server
// and without it: sessions sessions get warm turns each (history past the
// window), then every session runs measured turns, one request at a time.
// Per request it reports Mongo commands (mongo-cmds/req), of which reads
// (mongo-reads/req), and the share of resumes that read nothing from Mongo
// (resume-hit-%); for the cached run also the first request of each
// session after FLUSHALL (cold-mongo-cmds/req) and Redis used_memory per
// session (redis-B/session). SESSIONKIT_CHAT_SESSIONS,
// SESSIONKIT_CHAT_WARM and SESSIONKIT_CHAT_TURNS override the sizes (200,
// 25 and 10 with SESSIONKIT_BENCH_FULL, else 10, 3 and 3).
func BenchmarkChatWorkload(b *testing.B) {
	sessions, warm, turns := 10, 3, 3
	if benchsuite.Full() {
		sessions, warm, turns = 200, 25, 10
	}
	if v, err := strconv.Atoi(os.Getenv("SESSIONKIT_CHAT_SESSIONS")); err == nil && v > 0 {
		sessions = v
	}
	if v, err := strconv.Atoi(os.Getenv("SESSIONKIT_CHAT_TURNS")); err == nil && v > 0 {
		turns = v
	}
	if v, err := strconv.Atoi(os.Getenv("SESSIONKIT_CHAT_WARM")); err == nil && v > 0 {
		warm = v
	}
	uri := testservice.StartMongoJava(b)
	client, _, kind := redisServer(b)
	if kind != "redis-server" {
		b.Skip("the chat workload measures a real redis-server")
	}
	for _, cached := range []bool{false, true} {
		name := fmt.Sprintf("cached=%t/sessions=%d", cached, sessions)
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			counts := &chatCounts{}
			mc, err := driver.Connect(options.Client().ApplyURI(uri).SetMonitor(counts.monitor()))
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_ = mc.Disconnect(dctx)
			}()
			db := fmt.Sprintf("chat_%d", time.Now().UnixNano())
			repo, err := mongo.New(ctx, mc, mongo.Options{Database: db})
			if err != nil {
				b.Fatal(err)
			}
			counting := benchsuite.NewCounting(repo)
			var top session.Repository = counting
			var cache *rediscache.Cache
			if cached {
				if err := client.FlushAll(ctx).Err(); err != nil {
					b.Fatal(err)
				}
				cache, err = rediscache.New(counting, client, rediscache.Options{RedisTimeout: time.Second, Prefix: db + ":"})
				if err != nil {
					b.Fatal(err)
				}
				top = cache
			}
			defer top.Close()
			sid := func(i int) string { return fmt.Sprintf("chat-%d", i) }
			turn := make([]int, sessions)
			for i := range sessions {
				for range warm {
					if _, err := chatRequest(ctx, top, counting, sid(i), turn[i]); err != nil {
						b.Fatal(err)
					}
					turn[i]++
				}
			}
			cold := int64(0)
			memBefore := int64(0)
			if cached {
				// Every session cold: the first request after a flush.
				if err := client.FlushAll(ctx).Err(); err != nil {
					b.Fatal(err)
				}
				memBefore = redisBytes(b, client, nil)
				before := counts.reads.Load() + counts.writes.Load()
				for i := range sessions {
					if _, err := chatRequest(ctx, top, counting, sid(i), turn[i]); err != nil {
						b.Fatal(err)
					}
					turn[i]++
				}
				cold = counts.reads.Load() + counts.writes.Load() - before
			}
			var requests, hits int64
			r0, w0 := counts.reads.Load(), counts.writes.Load()
			b.ResetTimer()
			for b.Loop() {
				for range turns {
					for i := range sessions {
						n, err := chatRequest(ctx, top, counting, sid(i), turn[i])
						if err != nil {
							b.Fatal(err)
						}
						turn[i]++
						requests++
						if n == 0 {
							hits++
						}
					}
				}
			}
			b.StopTimer()
			reads, writes := counts.reads.Load()-r0, counts.writes.Load()-w0
			b.ReportMetric(float64(reads+writes)/float64(requests), "mongo-cmds/req")
			b.ReportMetric(float64(reads)/float64(requests), "mongo-reads/req")
			b.ReportMetric(100*float64(hits)/float64(requests), "resume-hit-%")
			b.ReportMetric(float64(requests)/b.Elapsed().Seconds(), "req/s")
			if cached {
				b.ReportMetric(float64(cold)/float64(sessions), "cold-mongo-cmds/req")
				b.ReportMetric(float64(redisBytes(b, client, nil)-memBefore)/float64(sessions), "redis-B/session")
				st := cache.Stats()
				b.Logf("cache stats: hits=%v misses=%v fills=%v write_throughs=%v invalidations=%v",
					st["cache_hits_total"], st["cache_misses_total"], st["cache_fills_total"],
					st["cache_write_throughs_total"], st["cache_invalidations_total"])
				// What the cache serves is what Mongo holds.
				for i := range sessions {
					want, err := repo.ListMessages(ctx, sid(i), benchsuite.AgentID, max(0, turn[i]*2-chatWindow), 0)
					if err != nil {
						b.Fatal(err)
					}
					got, err := cache.ListMessages(ctx, sid(i), benchsuite.AgentID, max(0, turn[i]*2-chatWindow), 0)
					if err != nil {
						b.Fatal(err)
					}
					// The answer's UpdatedAt, moved by the metrics update, is the
					// cache's stamp taken just before the write (rediscache doc):
					// before Mongo's by at most the write's duration, after it by
					// less than Mongo's millisecond precision.
					for j := range got {
						if j < len(want) {
							d := got[j].UpdatedAt.Sub(want[j].UpdatedAt)
							if d < time.Millisecond && d > -time.Second {
								got[j].UpdatedAt = want[j].UpdatedAt
							}
						}
					}
					if !reflect.DeepEqual(want, got) {
						for j := range got {
							if j < len(want) && !reflect.DeepEqual(want[j], got[j]) {
								w, g := *want[j], *got[j]
								w.Message, g.Message = session.ChatMessage{}, session.ChatMessage{}
								b.Logf("message %d: Mongo %+v %+v %+v, cache %+v %+v %+v", want[j].ID, w, *w.EventLoopMetrics, w.EventLoopMetrics.InvocationUsage,
									g, *g.EventLoopMetrics, g.EventLoopMetrics.InvocationUsage)
								break
							}
						}
						b.Fatalf("session %d: the cached window differs from Mongo's", i)
					}
				}
			}
			b.Logf("%s: %d requests, %d resumes without a Mongo read, %d Mongo reads, %d writes, counting: %v",
				name, requests, hits, reads, writes, counting.ByMethod())
		})
	}
}
