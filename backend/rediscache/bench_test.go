package rediscache

import (
	"context"
	"fmt"
	"os/exec"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// BenchmarkHit compares, for message logs of 20, 200 and 2,000 messages, a
// cache hit of ListMessages (cache_hit) with a raw go-redis GET of the same
// bytes (raw_get), that GET followed by decoding the bytes
// (raw_get+decode: the floor of any hit that returns fresh values), the
// hit's Redis round trip alone (raw_multi_get2: MULTI, GET generation, GET
// entry, EXEC) and a read from the wrapped in-memory backend (backend). It
// uses redis-server when installed, miniredis otherwise (reported in the
// benchmark name).
func BenchmarkHit(b *testing.B) {
	server := "miniredis"
	var addr string
	if _, err := exec.LookPath("redis-server"); err == nil {
		server = "redis-server"
		addr = testservice.StartRedis(b).Addr
	} else {
		mr := miniredis.RunT(b)
		addr = mr.Addr()
	}
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	b.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	for _, n := range []int{20, 200, 2000} {
		backend := memory.New(memory.Options{})
		c, err := New(backend, client, Options{Prefix: fmt.Sprintf("bench%d:", n), MaxValueBytes: 64 << 20, RedisTimeout: 5e9})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		if err := c.CreateSession(ctx, &session.Session{ID: "s"}); err != nil {
			b.Fatal(err)
		}
		if err := c.CreateAgent(ctx, "s", &session.Agent{ID: "a"}); err != nil {
			b.Fatal(err)
		}
		for i := range n {
			role := session.RoleUser
			if i%2 == 1 {
				role = session.RoleAssistant
			}
			m := &session.Message{ID: i, Message: session.ChatMessage{Role: role, Content: []session.ContentBlock{
				session.TextBlock(fmt.Sprintf("message %d: a typical sentence or two of conversation text, about a hundred bytes long.", i)),
			}, Metadata: map[string]any{"usage": map[string]any{"inputTokens": int64(100 + i), "outputTokens": int64(40)}}}}
			if err := c.CreateMessage(ctx, "s", "a", m); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := c.ListMessages(ctx, "s", "a", 0, 0); err != nil { // fill
			b.Fatal(err)
		}
		keys := keysFor(c.opts.Prefix, "s")
		gen, err := client.Get(ctx, keys.gen).Result()
		if err != nil {
			b.Fatal(err)
		}
		// ListMessages with no limit is served from the agent's tail entry.
		entryKey := keys.entry(fieldTail("a"))
		raw, err := client.Get(ctx, entryKey).Bytes()
		if err != nil {
			b.Fatal(err)
		}
		if token, _, ok := splitEntry(string(raw)); !ok || token != gen {
			b.Fatal("the entry is not of the current generation")
		}
		// The entry's size varies by a few bytes from run to run (timestamps
		// are varints), so it is a metric, not part of the name.
		name := fmt.Sprintf("%s/messages=%d", server, n)
		entryB := float64(len(raw))
		b.Run(name+"/raw_get", func(b *testing.B) {
			defer b.ReportMetric(entryB, "entry-B") // after b.Loop, which resets reported metrics
			for b.Loop() {
				if _, err := client.Get(ctx, entryKey).Bytes(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/raw_get+decode", func(b *testing.B) {
			defer b.ReportMetric(entryB, "entry-B") // after b.Loop, which resets reported metrics
			for b.Loop() {
				v, err := client.Get(ctx, entryKey).Result()
				if err != nil {
					b.Fatal(err)
				}
				if _, _, ok := decodeEntry(tailCodec, v); !ok {
					b.Fatal("entry does not decode")
				}
			}
		})
		b.Run(name+"/raw_multi_get2", func(b *testing.B) {
			defer b.ReportMetric(entryB, "entry-B") // after b.Loop, which resets reported metrics
			for b.Loop() {
				var g, e *redis.StringCmd
				_, err := client.TxPipelined(ctx, func(p redis.Pipeliner) error {
					g = p.Get(ctx, keys.gen)
					e = p.Get(ctx, entryKey)
					return nil
				})
				if err != nil || g.Val() == "" || e.Val() == "" {
					b.Fatal("lookup missed", err)
				}
			}
		})
		b.Run(name+"/cache_hit", func(b *testing.B) {
			defer b.ReportMetric(entryB, "entry-B") // after b.Loop, which resets reported metrics
			hits := c.hits.Load()
			for b.Loop() {
				if _, err := c.ListMessages(ctx, "s", "a", 0, 0); err != nil {
					b.Fatal(err)
				}
			}
			if c.hits.Load()-hits < int64(b.N) {
				b.Fatal("not all reads were hits")
			}
		})
		b.Run(name+"/backend", func(b *testing.B) {
			defer b.ReportMetric(entryB, "entry-B") // after b.Loop, which resets reported metrics
			for b.Loop() {
				if _, err := backend.ListMessages(ctx, "s", "a", 0, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchMessages returns n messages shaped like BenchmarkHit's.
func benchMessages(n int) []*session.Message {
	out := make([]*session.Message, n)
	for i := range out {
		role := session.RoleUser
		if i%2 == 1 {
			role = session.RoleAssistant
		}
		out[i] = &session.Message{ID: i, Message: session.ChatMessage{Role: role, Content: []session.ContentBlock{
			session.TextBlock(fmt.Sprintf("message %d: a typical sentence or two of conversation text, about a hundred bytes long.", i)),
		}, Metadata: map[string]any{"usage": map[string]any{"inputTokens": int64(100 + i), "outputTokens": int64(40)}}}}
	}
	return out
}

// BenchmarkDecodeVsClone compares decoding a message-page entry with deep
// cloning the same decoded page (what a process-local copy of decoded
// entries would cost per hit instead of the decode).
func BenchmarkDecodeVsClone(b *testing.B) {
	for _, n := range []int{20, 200, 2000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			raw, err := encodeEntry(messagesCodec, newToken(), benchMessages(n), nil)
			if err != nil {
				b.Fatal(err)
			}
			entry := string(raw)
			page, _, ok := decodeEntry(messagesCodec, entry)
			if !ok {
				b.Fatal("entry does not decode")
			}
			b.Run("decode", func(b *testing.B) {
				for b.Loop() {
					if _, _, ok := decodeEntry(messagesCodec, entry); !ok {
						b.Fatal("entry does not decode")
					}
				}
			})
			b.Run("clone", func(b *testing.B) {
				for b.Loop() {
					out := make([]*session.Message, len(page))
					for i, m := range page {
						out[i] = m.Clone()
					}
				}
			})
		})
	}
}
