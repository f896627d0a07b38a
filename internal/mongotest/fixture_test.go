package mongotest_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

const fixtureDir = "../../../shared/fixtures/python-original/"

func loadFixtures(t *testing.T) ([]bson.D, bson.D) {
	t.Helper()
	dir := fixtureDir
	if _, err := os.Stat(dir); err != nil {
		dir = "/work/shared/fixtures/python-original/"
	}
	raw, err := os.ReadFile(dir + "python-original-sessions.json")
	require.NoError(t, err)
	var docs []bson.D
	require.NoError(t, bson.UnmarshalExtJSON(raw, true, &docs))
	raw, err = os.ReadFile(dir + "python-original-sessions.readback.json")
	require.NoError(t, err)
	var rb bson.D
	require.NoError(t, bson.UnmarshalExtJSON(raw, true, &rb))
	return docs, rb
}

// The original's reader breaks on unknown keys in these two places.
var (
	messageKeys   = map[string]bool{"message": true, "message_id": true, "redact_message": true, "created_at": true, "updated_at": true, "event_loop_metrics": true, "guardrail_event": true}
	agentDataKeys = map[string]bool{"agent_id": true, "state": true, "conversation_manager_state": true, "_internal_state": true, "created_at": true, "updated_at": true, "model": true, "system_prompt": true, "prompt_metadata": true}
)

func TestPythonOriginal_DocumentsAreReadableResumableAndAppendable(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			docs, rb := loadFixtures(t)
			r, c, _ := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			coll := c.Database(dbOfRepo(r)).Collection(mongo.DefaultCollection)
			for _, d := range docs {
				_, err := coll.InsertOne(ctx, d)
				require.NoError(t, err)
			}

			s, err := r.GetSession(ctx, "customer-12345")
			require.NoError(t, err)
			assert.Equal(t, "support-bot", s.ApplicationName)
			assert.Equal(t, session.TypeAgent, s.Type)
			assert.True(t, driver.VerifyViewerPassword(s.ViewerPasswordHash, "BRMJtLPN8TLr0g4ZqiFoI-53j_KIsUMn"), "plaintext password of the original verifies")
			rs, _ := bson.Marshal(rb)
			readback := bson.Raw(rs)
			assert.Equal(t, readback.Lookup("read_session", "created_at").Time().UTC(), s.CreatedAt)

			a, err := r.GetAgent(ctx, "customer-12345", "support-agent")
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"case_type": "billing", "refund": true}, a.State)
			assert.Equal(t, map[string]any{"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(0), "window_size": int64(40)}, a.ConversationManagerState)
			assert.Equal(t, "us.anthropic.claude-sonnet-4-20250514-v1:0", a.Config.Model)
			require.NotNil(t, a.Config.PromptMetadata)
			assert.Equal(t, 0.7, *a.Config.PromptMetadata.Temperature)

			ms, err := r.ListMessages(ctx, "customer-12345", "support-agent", 0, 0)
			require.NoError(t, err)
			require.Len(t, ms, 5)
			for i, m := range ms {
				assert.Equal(t, i, m.ID)
			}
			img := ms[0].Message.Content[1]["image"].(map[string]any)["source"].(map[string]any)["bytes"]
			assert.IsType(t, []byte{}, img)
			page, err := r.ListMessages(ctx, "customer-12345", "support-agent", 2, 2)
			require.NoError(t, err)
			require.Len(t, page, 2)
			assert.Equal(t, []int{2, 3}, []int{page[0].ID, page[1].ID})
			require.NotNil(t, ms[3].EventLoopMetrics)
			assert.Equal(t, int64(1020), ms[3].EventLoopMetrics.AccumulatedUsage.TotalTokens)
			eff := ms[4].Effective()
			text, _ := eff.Content[0].Text()
			assert.Equal(t, "[User input redacted.]", text)
			require.NotNil(t, ms[4].GuardrailEvent)
			assert.Equal(t, []string{"CREDIT_DEBIT_CARD_NUMBER/BLOCKED"}, ms[4].GuardrailEvent.PoliciesTriggered["sensitiveInformationPolicy"])

			md, err := r.GetMetadata(ctx, "customer-12345")
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"priority": "high", "connection_id": "Ab12Cd34=", "customer": map[string]any{"tier": "gold", "since": int64(2019)}}, md)
			fb, err := r.ListFeedback(ctx, "customer-12345")
			require.NoError(t, err)
			require.Len(t, fb, 2)
			assert.Equal(t, map[string]any{"extra_field": int64(1)}, fb[1].Extra)
			evs, err := r.ListGuardrailEvents(ctx, "customer-12345")
			require.NoError(t, err)
			require.Len(t, evs, 1)
			assert.Equal(t, 4, evs[0].MessageID)

			legacy, err := r.ListMessages(ctx, "user@example.com-chat-7", "executor", 0, 0)
			require.NoError(t, err)
			require.Len(t, legacy, 2, "legacy metric fields do not drop the message")

			// Resume and append: the legacy agent has no message_count yet.
			n, err := r.CountMessages(ctx, "customer-12345", "support-agent")
			require.NoError(t, err)
			require.Equal(t, 5, n)
			require.ErrorIs(t, r.CreateMessage(ctx, "customer-12345", "support-agent", textMessage(4, "dup")), session.ErrConflict)
			require.NoError(t, r.CreateMessage(ctx, "customer-12345", "support-agent", textMessage(5, "appended")))
			require.NoError(t, r.UpdateAgent(ctx, "customer-12345", &session.Agent{ID: "support-agent", State: map[string]any{"case_type": "refund"}}))
			a, err = r.GetAgent(ctx, "customer-12345", "support-agent")
			require.NoError(t, err)
			assert.Equal(t, "us.anthropic.claude-sonnet-4-20250514-v1:0", a.Config.Model, "UpdateAgent keeps the configuration (B1)")
			assert.NotNil(t, a.Config.PromptMetadata)
			n, err = r.CountMessages(ctx, "customer-12345", "support-agent")
			require.NoError(t, err)
			assert.Equal(t, 6, n)

			// What we wrote stays readable by the original.
			var doc bson.D
			require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: "customer-12345"}}).Decode(&doc))
			assertOriginalReadable(t, doc)
		})
	}
}

func TestNewDocuments_AreInTheOriginalLayout(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, c, _ := newRepo(t, uri, mongo.Options{MetadataFields: []string{"status", "priority"}})
			ctx := ctxT(t)
			hash := driver.HashViewerPassword("pw")
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "new.session@x", ApplicationName: "app", ViewerPasswordHash: hash, Metadata: map[string]any{"priority": "high"}}))
			temp := 0.5
			require.NoError(t, r.CreateAgent(ctx, "new.session@x", &session.Agent{ID: "a", State: map[string]any{"tool.input": map[string]any{"$schema": "x"}},
				Config: session.AgentConfig{Model: "m", PromptMetadata: &session.PromptMetadata{PromptID: "p", Temperature: &temp}}}))
			m := textMessage(0, "hi")
			m.Message.Content = append(m.Message.Content, session.ContentBlock{"image": map[string]any{"format": "png", "source": map[string]any{"bytes": []byte{1, 2, 3}}}})
			m.EventLoopMetrics = &session.EventLoopMetrics{AccumulatedUsage: session.Usage{TotalTokens: 3}}
			require.NoError(t, r.CreateMessage(ctx, "new.session@x", "a", m))
			require.NoError(t, r.RecordGuardrailEvent(ctx, "new.session@x", "a", 0, &session.GuardrailEvent{StopReason: "guardrail_intervened"}))
			mid := 0
			_, err := r.AddFeedback(ctx, "new.session@x", &session.Feedback{Rating: session.RatingUp, AgentID: "a", MessageID: &mid})
			require.NoError(t, err)

			var doc bson.D
			require.NoError(t, c.Database(dbOfRepo(r)).Collection(mongo.DefaultCollection).FindOne(ctx, bson.D{{Key: "_id", Value: "new.session@x"}}).Decode(&doc))
			assertOriginalReadable(t, doc)
			raw, _ := bson.Marshal(doc)
			rd := bson.Raw(raw)
			assert.Equal(t, "new.session@x", rd.Lookup("session_id").StringValue())
			assert.Equal(t, hash, rd.Lookup("session_viewer_password").StringValue(), "hashed, never plaintext")
			assert.Equal(t, bson.TypeDateTime, rd.Lookup("created_at").Type)
			assert.Equal(t, "", rd.Lookup("metadata", "status").StringValue(), "metadata fields pre-filled")
			assert.Equal(t, "high", rd.Lookup("metadata", "priority").StringValue())
			assert.Equal(t, int32(1), rd.Lookup("schema_version").Int32())
			bin := rd.Lookup("agents", "a", "messages", "0", "message", "content", "1", "image", "source", "bytes")
			assert.Equal(t, bson.TypeBinary, bin.Type)
			assert.Equal(t, bson.TypeNull, rd.Lookup("agents", "a", "messages", "0", "redact_message").Type)
			assert.Equal(t, int64(3), rd.Lookup("agents", "a", "messages", "0", "event_loop_metrics", "accumulated_usage", "totalTokens").Int64())
			assert.Equal(t, "BLOCKED", rd.Lookup("guardrail_events", "0", "action").StringValue())
			assert.Equal(t, "up", rd.Lookup("feedbacks", "0", "rating").StringValue())
			assert.Equal(t, "m", rd.Lookup("agents", "a", "agent_data", "model").StringValue())

			a, err := r.GetAgent(ctx, "new.session@x", "a")
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"tool.input": map[string]any{"$schema": "x"}}, a.State, "dotted and $ keys round-trip")
		})
	}
}

// assertOriginalReadable checks the keys the original's reader would break on.
func assertOriginalReadable(t *testing.T, doc bson.D) {
	t.Helper()
	raw, err := bson.Marshal(doc)
	require.NoError(t, err)
	agents, err := bson.Raw(raw).LookupErr("agents")
	require.NoError(t, err)
	elems, _ := agents.Document().Elements()
	for _, ae := range elems {
		ad := ae.Value().Document()
		dataElems, _ := ad.Lookup("agent_data").Document().Elements()
		for _, e := range dataElems {
			assert.True(t, agentDataKeys[e.Key()], "agent_data key %q", e.Key())
		}
		msgs, _ := ad.Lookup("messages").Array().Values()
		for _, m := range msgs {
			mElems, _ := m.Document().Elements()
			for _, e := range mElems {
				if e.Key() == "latency_ms" || e.Key() == "input_tokens" || e.Key() == "output_tokens" {
					continue // legacy keys the original filters itself
				}
				assert.True(t, messageKeys[e.Key()], "message key %q", e.Key())
			}
			assert.Contains(t, []bson.Type{bson.TypeInt32, bson.TypeInt64}, m.Document().Lookup("message_id").Type)
		}
	}
}

func textMessage(id int, text string) *session.Message {
	return &session.Message{ID: id, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock(text)}}}
}
