package mongotest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
)

// The benchmarks below feed bench/REPORT.md (scripts/bench-report.sh run
// them with a fixed -benchtime=Nx, so that a benchmark and its floor do the
// same number of operations on documents of the same size). Each runs on
// FerretDB (or MONGODB_URI) and on mongo-java-server. Round trips and bytes
// come from the driver's command monitor (commandCounter): bytes are the
// BSON sizes of commands and replies.

// meter turns a command counter into a benchsuite.Meter.
func meter(cc *commandCounter) benchsuite.Meter {
	return func() benchsuite.Traffic {
		return benchsuite.Traffic{RoundTrips: cc.commands.Load(), Sent: cc.sent.Load(), Received: cc.received.Load()}
	}
}

// forEachServer runs fn once per server, as sub-benchmark server=<name>;
// fn gets the server's URI.
func forEachServer(b *testing.B, fn func(b *testing.B, uri string)) {
	for _, srv := range servers {
		b.Run("server="+srv.name, func(b *testing.B) {
			uri, _ := srv.start(b)
			fn(b, uri)
		})
	}
}

func BenchmarkOps(b *testing.B) {
	forEachServer(b, func(b *testing.B, uri string) {
		r, _, cc := newRepo(b, uri, mongo.Options{})
		benchsuite.Ops(b, "mongo", r, meter(cc))
	})
}

func BenchmarkTurns(b *testing.B) {
	forEachServer(b, func(b *testing.B, uri string) {
		r, _, cc := newRepo(b, uri, mongo.Options{})
		benchsuite.Turns(b, "mongo", r, meter(cc))
	})
}

// BenchmarkVersusDriver puts two of our operations next to the raw driver
// doing the least that could serve them, on documents of the same shape:
//
//	append      CreateMessage        vs raw-push     updateOne {_id} $push + $set updated_at
//	get-session GetSession           vs raw-find-one findOne {_id}
//
// The raw document is a copy of our session document, so sizes match.
func BenchmarkVersusDriver(b *testing.B) {
	forEachServer(b, func(b *testing.B, uri string) {
		r, c, cc := newRepo(b, uri, mongo.Options{})
		ctx := context.Background()
		raw := c.Database(r.Database()).Collection("raw_floor")
		m := meter(cc)

		rawDoc := func(b *testing.B, id string) bson.D {
			b.Helper()
			if err := benchsuite.Seed(ctx, r, id, "a", 1); err != nil {
				b.Fatal(err)
			}
			var doc bson.D
			if err := c.Database(r.Database()).Collection(r.Collection()).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
				b.Fatal(err)
			}
			doc[0] = bson.E{Key: "_id", Value: "raw-" + id}
			if _, err := raw.InsertOne(ctx, doc); err != nil {
				b.Fatal(err)
			}
			return doc
		}

		b.Run("append", func(b *testing.B) {
			sid := "vs-append"
			doc := rawDoc(b, sid)
			element := firstMessage(b, doc, "a")
			b.Run("ours", func(b *testing.B) {
				next := 1
				b.ReportAllocs()
				t := benchsuite.Measure(m)
				for b.Loop() {
					if err := r.CreateMessage(ctx, sid, "a", benchsuite.Message(next)); err != nil {
						b.Fatal(err)
					}
					next++
				}
				t.Report(b)
			})
			b.Run("raw-push", func(b *testing.B) {
				next := 1
				filter := bson.D{{Key: "_id", Value: "raw-" + sid}}
				b.ReportAllocs()
				t := benchsuite.Measure(m)
				for b.Loop() {
					el := withMessageID(element, next)
					now := time.Now()
					_, err := raw.UpdateOne(ctx, filter, bson.D{
						{Key: "$push", Value: bson.D{{Key: "agents.a.messages", Value: el}}},
						{Key: "$set", Value: bson.D{{Key: "updated_at", Value: now}}},
					})
					if err != nil {
						b.Fatal(err)
					}
					next++
				}
				t.Report(b)
			})
		})
		b.Run("get-session", func(b *testing.B) {
			sid := "vs-get"
			rawDoc(b, sid)
			b.Run("ours", func(b *testing.B) {
				b.ReportAllocs()
				t := benchsuite.Measure(m)
				for b.Loop() {
					if _, err := r.GetSession(ctx, sid); err != nil {
						b.Fatal(err)
					}
				}
				t.Report(b)
			})
			b.Run("raw-find-one", func(b *testing.B) {
				filter := bson.D{{Key: "_id", Value: "raw-" + sid}}
				b.ReportAllocs()
				t := benchsuite.Measure(m)
				for b.Loop() {
					var doc bson.D
					if err := raw.FindOne(ctx, filter).Decode(&doc); err != nil {
						b.Fatal(err)
					}
				}
				t.Report(b)
			})
		})
	})
}

// BenchmarkGrowth measures append, read-agent and list-last-20 with
// histories of 100, 1,000 and 10,000 messages (100 only without
// SESSIONKIT_BENCH_FULL=1). Each history is written in one replace of the
// session document built from elements our backend wrote, because pushing
// 10,000 messages one by one takes FerretDB well over an hour
// (mongo-servers.md §4).
func BenchmarkGrowth(b *testing.B) {
	forEachServer(b, func(b *testing.B, uri string) {
		r, c, cc := newRepo(b, uri, mongo.Options{})
		coll := c.Database(r.Database()).Collection(r.Collection())
		benchsuite.Growth(b, "mongo", benchsuite.HistorySizes(), func(b *testing.B, n int) benchsuite.Fixture {
			sid := fmt.Sprintf("growth-%d", n)
			buildHistory(b, r, coll, sid, n)
			return benchsuite.Fixture{Repo: r, SessionID: sid, AgentID: "a", History: n, Meter: meter(cc)}
		})
	})
}

// buildHistory stores session sid whose agent "a" holds
// benchsuite.Message(0..n-1): our backend writes the first two messages,
// then the document is replaced by one whose message array repeats those
// two elements (renumbered) n/2 times, with the agent's message count and
// the document size updated to match.
func buildHistory(b *testing.B, r *mongo.Repository, coll *driver.Collection, sid string, n int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := benchsuite.Seed(ctx, r, sid, "a", 2); err != nil {
		b.Fatal(err)
	}
	filter := bson.D{{Key: "_id", Value: sid}}
	var doc bson.D
	if err := coll.FindOne(ctx, filter).Decode(&doc); err != nil {
		b.Fatal(err)
	}
	agent := subDoc(b, subDoc(b, doc, "agents"), "a")
	stored, ok := lookup(agent, "messages").(bson.A)
	if !ok || len(stored) != 2 {
		b.Fatalf("agent a: messages %T of length %d", lookup(agent, "messages"), len(stored))
	}
	msgs := make(bson.A, n)
	for i := range n {
		msgs[i] = withMessageID(stored[i%2].(bson.D), i)
	}
	set(agent, "messages", msgs)
	set(agent, "message_count", int64(n))
	size, err := bson.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	set(doc, "doc_size", int64(len(size)))
	if _, err := coll.ReplaceOne(ctx, filter, doc, options.Replace()); err != nil {
		b.Fatal(err)
	}
	if got, err := r.CountMessages(ctx, sid, "a"); err != nil || got != n {
		b.Fatalf("history of %d: CountMessages = %d, %v (the document layout changed?)", n, got, err)
	}
}

// firstMessage returns agents.<agentID>.messages[0] of a session document.
func firstMessage(b *testing.B, doc bson.D, agentID string) bson.D {
	b.Helper()
	msgs, ok := lookup(subDoc(b, subDoc(b, doc, "agents"), agentID), "messages").(bson.A)
	if !ok || len(msgs) == 0 {
		b.Fatal("session document has no message")
	}
	return msgs[0].(bson.D)
}

// withMessageID copies a message element with message_id set to id.
func withMessageID(el bson.D, id int) bson.D {
	out := make(bson.D, len(el))
	copy(out, el)
	for i := range out {
		if out[i].Key == "message_id" {
			out[i].Value = int64(id)
		}
	}
	return out
}

func lookup(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

func subDoc(b *testing.B, d bson.D, key string) bson.D {
	b.Helper()
	v, ok := lookup(d, key).(bson.D)
	if !ok {
		b.Fatalf("field %q is %T, not a document", key, lookup(d, key))
	}
	return v
}

// set replaces d's field key (which must exist) in place.
func set(d bson.D, key string, v any) {
	for i := range d {
		if d[i].Key == key {
			d[i].Value = v
			return
		}
	}
	panic("set: no field " + key)
}
