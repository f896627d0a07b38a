package mongotest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
)

// TestForkRoundTrips counts the commands of a fork: an agent fork is one
// find of the source and one insert, whatever the number of messages; a
// whole-session fork adds one find of the source's snapshot manifests (and
// per snapshot a read and a write, none here).
func TestForkRoundTrips(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, _, cc := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			for _, n := range []int{3, 60} {
				src := fmt.Sprintf("src-%d", n)
				require.NoError(t, r.CreateSession(ctx, &session.Session{ID: src}))
				require.NoError(t, r.CreateAgent(ctx, src, &session.Agent{ID: "a"}))
				for i := range n {
					require.NoError(t, r.CreateMessage(ctx, src, "a", textMessage(i, fmt.Sprintf("m%d", i))))
				}
				var err error
				got := cc.count(func() {
					_, err = r.ForkSession(ctx, session.ForkRequest{SourceID: src, ID: src + "-agent", AgentID: "a", MessageID: ptrInt(n - 2)})
				})
				require.NoError(t, err)
				assert.Equal(t, int64(2), got, "agent fork of %d messages", n)
				got = cc.count(func() {
					_, err = r.ForkSession(ctx, session.ForkRequest{SourceID: src, ID: src + "-whole"})
				})
				require.NoError(t, err)
				assert.Equal(t, int64(3), got, "whole-session fork of %d messages", n)
			}
		})
	}
}

// TestForkOfOriginalDocument forks a session document as the Python original
// writes it (original.md §2: no doc_size, agent_ids, message_count or
// schema_version) and checks that the fork keeps the original's layout —
// the message elements byte for byte, forked_from only at the root, where
// the original's reader ignores it — and that sessionkit can write to it.
func TestForkOfOriginalDocument(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, c, _ := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			coll := c.Database(r.Database()).Collection(r.Collection())
			now := time.Now().UTC().Truncate(time.Millisecond)
			var msgs bson.A
			for i := range 4 {
				msgs = append(msgs, bson.D{{Key: "message", Value: textChat("user", fmt.Sprintf("m%d", i))},
					{Key: "message_id", Value: int32(i)}, {Key: "redact_message", Value: nil},
					{Key: "created_at", Value: now}, {Key: "updated_at", Value: now}})
			}
			_, err := coll.InsertOne(ctx, bson.D{
				{Key: "_id", Value: "py"}, {Key: "session_id", Value: "py"}, {Key: "application_name", Value: "app"},
				{Key: "session_type", Value: "AGENT"}, {Key: "session_viewer_password", Value: "plaintext-password"},
				{Key: "created_at", Value: now}, {Key: "updated_at", Value: now},
				{Key: "agents", Value: bson.D{{Key: "a", Value: bson.D{
					{Key: "agent_data", Value: bson.D{{Key: "agent_id", Value: "a"}, {Key: "state", Value: bson.D{}},
						{Key: "conversation_manager_state", Value: bson.D{{Key: "__name__", Value: "SlidingWindowConversationManager"},
							{Key: "removed_message_count", Value: int32(3)}, {Key: "model_call_count", Value: int32(2)}}},
						{Key: "_internal_state", Value: bson.D{}},
						{Key: "created_at", Value: now}, {Key: "updated_at", Value: now}, {Key: "model", Value: "m"}}},
					{Key: "messages", Value: msgs},
					{Key: "created_at", Value: now}, {Key: "updated_at", Value: now},
				}}}},
				{Key: "metadata", Value: bson.D{{Key: "k", Value: "v"}}},
				{Key: "feedbacks", Value: bson.A{bson.D{{Key: "rating", Value: "up"}}}},
				{Key: "guardrail_events", Value: bson.A{}},
			})
			require.NoError(t, err)

			got, err := r.ForkSession(ctx, session.ForkRequest{SourceID: "py", ID: "py-fork", AgentID: "a", MessageID: ptrInt(1)})
			require.NoError(t, err)
			assert.Equal(t, "app", got.ApplicationName)

			var doc bson.D
			require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: "py-fork"}}).Decode(&doc))
			m := dmap(doc)
			assert.Equal(t, "py-fork", m["session_id"])
			assert.Equal(t, "", m["session_viewer_password"], "the viewer password is not copied")
			lineage, ok := m["forked_from"].(bson.D)
			require.True(t, ok, "forked_from is a root document")
			assert.Equal(t, "py", dmap(lineage)["session_id"])
			agent := dmap(dmap(m["agents"].(bson.D))["a"].(bson.D))
			forkMsgs := agent["messages"].(bson.A)
			require.Len(t, forkMsgs, 2)
			for i := range forkMsgs {
				want, err := bson.Marshal(msgs[i])
				require.NoError(t, err)
				gotRaw, err := bson.Marshal(forkMsgs[i])
				require.NoError(t, err)
				assert.Equal(t, want, gotRaw, "message %d is copied as the original wrote it", i)
			}
			cms := dmap(dmap(agent["agent_data"].(bson.D))["conversation_manager_state"].(bson.D))
			assert.EqualValues(t, 0, cms["removed_message_count"], "a window over cut messages is reset")
			assert.Equal(t, "SlidingWindowConversationManager", cms["__name__"])

			require.NoError(t, r.CreateMessage(ctx, "py-fork", "a", textMessage(2, "next")), "the fork takes sessionkit writes")
			fb, err := r.ListFeedback(ctx, "py-fork")
			require.NoError(t, err)
			assert.Empty(t, fb)
		})
	}
}

func ptrInt(v int) *int { return &v }

func dmap(d bson.D) map[string]any {
	out := make(map[string]any, len(d))
	for _, e := range d {
		out[e.Key] = e.Value
	}
	return out
}
