package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// TestCheck_ListsAndRepairsNonDenseAgentsIdempotently: a session written by
// sessionkit into which the Python original pushed messages with ids its
// process assigned (duplicates 10, 11 after 0..11, as observed; and a gap)
// is listed by check (exit 1), renumbered by check --repair in array order
// with every message kept, and a second check finds nothing (exit 0).
func TestCheck_ListsAndRepairsNonDenseAgentsIdempotently(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uri := testservice.StartMongoJava(t)
	backend := uri + "checkdb?collection=sessions"
	repo, err := session.Open(ctx, backend)
	require.NoError(t, err)
	t.Cleanup(func() { _ = repo.Close() })
	client, err := driver.Connect(options.Client().ApplyURI(uri))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database("checkdb").Collection("sessions")

	push := func(sid, aid string, id int, text string) {
		t.Helper()
		now := time.Now().UTC()
		_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: sid}}, bson.D{
			{Key: "$push", Value: bson.D{{Key: "agents." + aid + ".messages", Value: bson.D{
				{Key: "message", Value: bson.D{{Key: "role", Value: "user"}, {Key: "content", Value: bson.A{bson.D{{Key: "text", Value: text}}}}}},
				{Key: "message_id", Value: id}, {Key: "redact_message", Value: nil},
				{Key: "created_at", Value: now}, {Key: "updated_at", Value: now},
			}}}},
			{Key: "$set", Value: bson.D{{Key: "updated_at", Value: now}}},
		})
		require.NoError(t, err)
	}
	text := func(i int) session.ChatMessage {
		return session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(fmt.Sprintf("m%d", i))}}
	}
	for _, sid := range []string{"dup", "gap", "fine"} {
		require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: sid}))
		require.NoError(t, repo.CreateAgent(ctx, sid, &session.Agent{ID: "a"}))
		for i := range 12 {
			require.NoError(t, repo.CreateMessage(ctx, sid, "a", &session.Message{ID: i, Message: text(i)}))
		}
	}
	push("dup", "a", 10, "m12") // the original's stale in-memory id: [0..11, 10, 11]
	push("dup", "a", 11, "m13")
	push("gap", "a", 14, "m12") // [0..11, 14]

	_, err = repo.(session.MessageAppender).AppendMessage(ctx, "dup", "a", &session.Message{Message: text(99)})
	require.NoError(t, err, "an append to a non-dense agent still succeeds at the next position")

	code, out, errw := runCLI(t, ctx, "", "check", "--url", backend)
	assert.Equal(t, 1, code, errw)
	assert.Contains(t, out, `session "dup" agent "a": 15 messages, 2 ids not at their position (duplicate [10 11], missing [12 13])`)
	assert.Contains(t, out, `session "gap" agent "a": 13 messages`)
	assert.NotContains(t, out, `"fine"`)

	code, out, errw = runCLI(t, ctx, "", "check", "--repair", "--url", backend)
	assert.Equal(t, 0, code, errw)
	assert.Contains(t, out, `session "dup" agent "a": renumbered, 2 ids changed`)
	assert.Contains(t, out, `session "gap" agent "a": renumbered, 1 ids changed`)

	code, out, errw = runCLI(t, ctx, "", "check", "--repair", "--url", backend)
	assert.Equal(t, 0, code, errw)
	assert.Empty(t, out, "idempotent: nothing left to repair")
	assert.Contains(t, errw, "0 agents with non-dense ids")

	for sid, want := range map[string][]string{
		"dup":  {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12", "m13", "m99"},
		"gap":  {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12"},
		"fine": {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11"},
	} {
		msgs, err := repo.ListMessages(ctx, sid, "a", 0, 0)
		require.NoError(t, err)
		var got []string
		for i, m := range msgs {
			assert.Equal(t, i, m.ID, "%s: id %d at position %d", sid, m.ID, i)
			s, _ := m.Message.Content[0].Text()
			got = append(got, s)
		}
		assert.Equal(t, want, got, "%s: every message kept, in array order", sid)
		n, err := repo.CountMessages(ctx, sid, "a")
		require.NoError(t, err)
		assert.Equal(t, len(want), n)
	}
}

func TestCheck_RepairNeedsABackendThatCanRenumber(t *testing.T) {
	t.Parallel()
	code, _, errw := runCLI(t, context.Background(), "", "check", "--repair", "--backend", "memory")
	assert.Equal(t, 2, code)
	assert.Contains(t, errw, "cannot renumber")
	code, _, errw = runCLI(t, context.Background(), "", "check", "--backend", "memory")
	assert.Equal(t, 0, code, errw)
}
