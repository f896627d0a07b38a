package benchsuite_test

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/event"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// The cache-over-Mongo benchmarks live in the root module, not in
// internal/mongotest, because that nested module does not require go-redis;
// they run on mongo-java-server (FerretDB needs the nested module).

// redisServer starts redis-server on loopback, or miniredis when it is not
// installed; kind says which.
func redisServer(b *testing.B) (client *redis.Client, mr *miniredis.Miniredis, kind string) {
	b.Helper()
	addr, kind := "", "redis-server"
	if _, err := exec.LookPath("redis-server"); err == nil {
		addr = testservice.StartRedis(b).Addr
	} else {
		mr, kind = miniredis.RunT(b), "miniredis"
		addr = mr.Addr()
	}
	client = redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	b.Cleanup(func() { _ = client.Close() })
	return client, mr, kind
}

// mongoMeter counts the commands a client sends and the BSON bytes of
// commands and replies (handshakes and heartbeats excluded).
type mongoMeter struct{ commands, sent, received atomic.Int64 }

func (m *mongoMeter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			switch e.CommandName {
			case "hello", "isMaster", "ismaster", "endSessions":
				return
			}
			m.commands.Add(1)
			m.sent.Add(int64(len(e.Command)))
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			m.received.Add(int64(len(e.Reply)))
		},
	}
}

func (m *mongoMeter) meter() benchsuite.Traffic {
	return benchsuite.Traffic{RoundTrips: m.commands.Load(), Sent: m.sent.Load(), Received: m.received.Load()}
}

// cacheOverMongo opens the Redis cache over a Mongo repository on
// mongo-java-server; the meter counts Mongo traffic only.
func cacheOverMongo(b *testing.B) (*rediscache.Cache, benchsuite.Meter) {
	b.Helper()
	uri := testservice.StartMongoJava(b)
	mm := &mongoMeter{}
	c, err := driver.Connect(options.Client().ApplyURI(uri).SetMonitor(mm.monitor()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	repo, err := mongo.New(ctx, c, mongo.Options{Database: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	client, _, _ := redisServer(b)
	cache, err := rediscache.New(repo, client, rediscache.Options{RedisTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cache.Close() })
	return cache, mm.meter
}

// BenchmarkCacheOverMongoOps runs the per-operation workload through the
// cache: reads after the first are hits (rt/op counts Mongo commands, so a
// hit shows 0), writes go to Mongo and invalidate.
func BenchmarkCacheOverMongoOps(b *testing.B) {
	cache, m := cacheOverMongo(b)
	benchsuite.Ops(b, "cache-over-mongo", cache, m)
}

// BenchmarkCacheOverMongoTurns runs Strands turns through the cache.
func BenchmarkCacheOverMongoTurns(b *testing.B) {
	cache, m := cacheOverMongo(b)
	benchsuite.Turns(b, "cache-over-mongo", cache, m)
}

// BenchmarkRedisMemory measures what 1,000 cached sessions take in Redis:
// the sessions (one tool-using turn each) are stored in a memory backend,
// then each is resumed through the cache as a new process would (manager
// New + Initialize: GetSession, GetAgent, ListMessages, CountMessages),
// which fills the cache. With redis-server the metric is INFO memory's
// used_memory after minus before (redis-MB/1000-sessions); with miniredis,
// which has no INFO memory, it is the bytes of keys and values
// (redis-payload-MB/1000-sessions).
func BenchmarkRedisMemory(b *testing.B) {
	const n = 1000
	client, mr, kind := redisServer(b)
	ctx := context.Background()
	b.Run(fmt.Sprintf("redis=%s/sessions=%d", kind, n), func(b *testing.B) {
		var total float64
		for b.Loop() {
			b.StopTimer()
			inner := memory.New(memory.Options{})
			if err := benchsuite.Fill(ctx, inner, "mem", n); err != nil {
				b.Fatal(err)
			}
			if err := client.FlushAll(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			cache, err := rediscache.New(inner, client, rediscache.Options{RedisTimeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			before := redisBytes(b, client, mr)
			b.StartTimer()
			for i := range n {
				conv, err := benchsuite.Open(ctx, cache, fmt.Sprintf("mem-%d", i), 0)
				if err != nil {
					b.Fatal(err)
				}
				if err := conv.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			stats := cache.Stats()
			if stats["cache_fills_total"] < n {
				b.Fatalf("only %v cache fills for %d sessions: %v", stats["cache_fills_total"], n, stats)
			}
			total += float64(redisBytes(b, client, mr) - before)
			if err := cache.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		unit := "redis-MB/1000-sessions"
		if mr != nil {
			unit = "redis-payload-MB/1000-sessions"
		}
		b.ReportMetric(total/float64(b.N)/n*1000/(1<<20), unit)
	})
}

// redisBytes is used_memory from INFO memory, or with miniredis the bytes
// of every string key and value.
func redisBytes(b *testing.B, client *redis.Client, mr *miniredis.Miniredis) int64 {
	b.Helper()
	if mr != nil {
		var n int64
		for _, k := range mr.Keys() {
			v, err := mr.Get(k)
			if err == nil {
				n += int64(len(k) + len(v))
			}
		}
		return n
	}
	info, err := client.InfoMap(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(info["Memory"]["used_memory"]), 10, 64)
	if err != nil {
		b.Fatalf("INFO memory used_memory: %v", err)
	}
	return v
}

var _ session.Repository = (*rediscache.Cache)(nil)
