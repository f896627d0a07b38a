package mongotest_test

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// original writes to a session collection exactly as the Python original's
// repository and manager do (shared/reference/original.md §1.2, §1.3): the
// same filters and update documents, sent through the raw driver. Each
// method is one of the original's operations; none maintains the fields
// sessionkit adds (message_count, doc_size, agent_ids).
type original struct {
	coll *driver.Collection
	now  func() time.Time
}

func newOriginal(c *driver.Client, db, coll string) *original {
	return &original{coll: c.Database(db).Collection(coll), now: func() time.Time { return time.Now().UTC() }}
}

func (o *original) update(ctx context.Context, filter, update bson.D) error {
	res, err := o.coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("original: %v matched nothing", filter)
	}
	return nil
}

// textChat is a Strands Message {role, content: [{text}]}.
func textChat(role, text string) bson.D {
	return bson.D{{Key: "role", Value: role}, {Key: "content", Value: bson.A{bson.D{{Key: "text", Value: text}}}}}
}

// createMessage is create_message: $push of the SessionMessage dict, $set of
// both updated_at fields, with the id the original's process assigned.
func (o *original) createMessage(ctx context.Context, sid, aid string, id int, chat bson.D) error {
	now := o.now()
	data := bson.D{
		{Key: "message", Value: chat}, {Key: "message_id", Value: id}, {Key: "redact_message", Value: nil},
		{Key: "created_at", Value: now}, {Key: "updated_at", Value: now},
	}
	return o.update(ctx, bson.D{{Key: "_id", Value: sid}}, bson.D{
		{Key: "$push", Value: bson.D{{Key: "agents." + aid + ".messages", Value: data}}},
		{Key: "$set", Value: bson.D{{Key: "agents." + aid + ".updated_at", Value: now}, {Key: "updated_at", Value: now}}},
	})
}

// messages reads the agent's whole message array, as read_message,
// update_message and list_messages do.
func (o *original) messages(ctx context.Context, sid, aid string) (bson.A, error) {
	var d bson.D
	err := o.coll.FindOne(ctx, bson.D{{Key: "_id", Value: sid}}, options.FindOne().SetProjection(bson.D{{Key: "agents." + aid + ".messages", Value: 1}})).Decode(&d)
	if err != nil {
		return nil, err
	}
	raw, _ := bson.Marshal(d)
	v, err := bson.Raw(raw).LookupErr("agents", aid, "messages")
	if err != nil {
		return nil, nil
	}
	var arr bson.A
	if err := v.Unmarshal(&arr); err != nil {
		return nil, err
	}
	return arr, nil
}

// lastMessageID is what the original's Strands process holds as its latest
// message after resuming the agent (list_messages, last element), -1 for
// none.
func (o *original) lastMessageID(ctx context.Context, sid, aid string) (int, error) {
	msgs, err := o.messages(ctx, sid, aid)
	if err != nil || len(msgs) == 0 {
		return -1, err
	}
	return messageIDOf(msgs[len(msgs)-1]), nil
}

func messageIDOf(v any) int {
	d, _ := v.(bson.D)
	for _, e := range d {
		if e.Key == "message_id" {
			switch n := e.Value.(type) {
			case int32:
				return int(n)
			case int64:
				return int(n)
			case float64:
				return int(n)
			}
		}
	}
	return -1
}

// updateMessage is update_message (redaction): read the array, find the
// first element with the id, $set the whole element at that index (stored
// metrics and guardrail event are lost, the original's B5), keeping
// created_at.
func (o *original) updateMessage(ctx context.Context, sid, aid string, id int, chat, redact bson.D) error {
	msgs, err := o.messages(ctx, sid, aid)
	if err != nil {
		return err
	}
	idx := -1
	var created any
	for i, m := range msgs {
		if messageIDOf(m) == id {
			idx = i
			for _, e := range m.(bson.D) {
				if e.Key == "created_at" {
					created = e.Value
				}
			}
			break
		}
	}
	if idx < 0 {
		return fmt.Errorf("original: message %d not found", id)
	}
	now := o.now()
	var red any
	if redact != nil {
		red = redact
	}
	data := bson.D{
		{Key: "message", Value: chat}, {Key: "message_id", Value: id}, {Key: "redact_message", Value: red},
		{Key: "created_at", Value: created}, {Key: "updated_at", Value: now},
	}
	return o.update(ctx, bson.D{{Key: "_id", Value: sid}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: fmt.Sprintf("agents.%s.messages.%d", aid, idx), Value: data},
		{Key: "agents." + aid + ".updated_at", Value: now}, {Key: "updated_at", Value: now},
	}}})
}

// lastMessageIDSliced is _get_last_message_id: a $slice:-1 projection.
func (o *original) lastMessageIDSliced(ctx context.Context, sid, aid string) (int, error) {
	var d bson.D
	err := o.coll.FindOne(ctx, bson.D{{Key: "_id", Value: sid}}, options.FindOne().SetProjection(bson.D{
		{Key: "agents." + aid + ".messages", Value: bson.D{{Key: "$slice", Value: -1}}},
	})).Decode(&d)
	if err != nil {
		return -1, err
	}
	raw, _ := bson.Marshal(d)
	v, err := bson.Raw(raw).LookupErr("agents", aid, "messages")
	if err != nil {
		return -1, nil
	}
	var arr bson.A
	if err := v.Unmarshal(&arr); err != nil || len(arr) == 0 {
		return -1, err
	}
	return messageIDOf(arr[0]), nil
}

// metrics is _update_last_message_metrics: find the last element's id, then
// a positional $set of the four metrics sub-documents on the first element
// holding that id. It reports the id written, -1 when there was none.
func (o *original) metrics(ctx context.Context, sid, aid string, latency int) (int, error) {
	mid, err := o.lastMessageIDSliced(ctx, sid, aid)
	if err != nil || mid < 0 {
		return -1, err
	}
	p := "agents." + aid + ".messages.$.event_loop_metrics."
	return mid, o.update(ctx, bson.D{{Key: "_id", Value: sid}, {Key: "agents." + aid + ".messages.message_id", Value: mid}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: p + "accumulated_metrics", Value: bson.D{{Key: "latencyMs", Value: latency}, {Key: "timeToFirstByteMs", Value: 1}}},
		{Key: p + "accumulated_usage", Value: bson.D{{Key: "inputTokens", Value: 3}, {Key: "outputTokens", Value: 4}, {Key: "totalTokens", Value: 7}, {Key: "cacheReadInputTokens", Value: 0}, {Key: "cacheWriteInputTokens", Value: 0}}},
		{Key: p + "cycle_metrics", Value: bson.D{{Key: "cycle_count", Value: 1}, {Key: "total_duration", Value: 0.5}, {Key: "average_cycle_time", Value: 0.5}}},
		{Key: p + "tool_usage", Value: bson.D{}},
	}}})
}

// guardrail is redact_latest_message's _record_guardrail_event: one update
// with a positional $set of the element's guardrail_event and a $push of the
// session-level entry. It reports the id written, -1 when there was none.
func (o *original) guardrail(ctx context.Context, sid, aid string) (int, error) {
	mid, err := o.lastMessageIDSliced(ctx, sid, aid)
	if err != nil || mid < 0 {
		return -1, err
	}
	now := o.now()
	return mid, o.update(ctx, bson.D{{Key: "_id", Value: sid}, {Key: "agents." + aid + ".messages.message_id", Value: mid}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "agents." + aid + ".messages.$.guardrail_event", Value: bson.D{
			{Key: "action", Value: "BLOCKED"}, {Key: "timestamp", Value: now}, {Key: "stop_reason", Value: "guardrail_intervened"},
		}}}},
		{Key: "$push", Value: bson.D{{Key: "guardrail_events", Value: bson.D{
			{Key: "message_id", Value: mid}, {Key: "agent_id", Value: aid}, {Key: "action", Value: "BLOCKED"},
			{Key: "timestamp", Value: now}, {Key: "stop_reason", Value: "guardrail_intervened"},
		}}}},
	})
}

// updateAgent is update_agent: read the entry's created_at, then $set the
// whole agent_data (which drops model, system_prompt and prompt_metadata,
// the original's B1) and the timestamps.
func (o *original) updateAgent(ctx context.Context, sid, aid string, state bson.D) error {
	var d bson.D
	if err := o.coll.FindOne(ctx, bson.D{{Key: "_id", Value: sid}}, options.FindOne().SetProjection(bson.D{{Key: "agents." + aid + ".created_at", Value: 1}})).Decode(&d); err != nil {
		return err
	}
	now := o.now()
	created := any(now)
	raw, _ := bson.Marshal(d)
	if v, err := bson.Raw(raw).LookupErr("agents", aid, "created_at"); err == nil {
		created = v.Time()
	}
	data := bson.D{
		{Key: "agent_id", Value: aid}, {Key: "state", Value: state},
		{Key: "conversation_manager_state", Value: bson.D{{Key: "__name__", Value: "SlidingWindowConversationManager"}, {Key: "removed_message_count", Value: 0}}},
		{Key: "_internal_state", Value: bson.D{{Key: "interrupt_state", Value: bson.D{{Key: "interrupts", Value: bson.D{}}, {Key: "context", Value: bson.D{}}, {Key: "activated", Value: false}}}}},
		{Key: "created_at", Value: now}, {Key: "updated_at", Value: now},
	}
	return o.update(ctx, bson.D{{Key: "_id", Value: sid}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "agents." + aid + ".agent_data", Value: data}, {Key: "agents." + aid + ".updated_at", Value: now},
		{Key: "agents." + aid + ".created_at", Value: created}, {Key: "updated_at", Value: now},
	}}})
}

// agentConfig is _capture_agent_config / update_agent_config /
// set_prompt_metadata: $set-s of agent_data fields, no existence check.
func (o *original) agentConfig(ctx context.Context, sid, aid, model, prompt string, promptMetadata bson.D) error {
	set := bson.D{{Key: "agents." + aid + ".agent_data.model", Value: model}, {Key: "agents." + aid + ".agent_data.system_prompt", Value: prompt}}
	if promptMetadata != nil {
		set = append(set, bson.E{Key: "agents." + aid + ".agent_data.prompt_metadata", Value: promptMetadata})
	}
	return o.update(ctx, bson.D{{Key: "_id", Value: sid}}, bson.D{{Key: "$set", Value: set}})
}

// updateMetadata is update_metadata: $set metadata.<k>, no timestamp.
func (o *original) updateMetadata(ctx context.Context, sid string, kv bson.D) error {
	set := bson.D{}
	for _, e := range kv {
		set = append(set, bson.E{Key: "metadata." + e.Key, Value: e.Value})
	}
	_, err := o.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: sid}}, bson.D{{Key: "$set", Value: set}})
	return err
}

// deleteMetadata is delete_metadata: $unset metadata.<k>.
func (o *original) deleteMetadata(ctx context.Context, sid string, keys ...string) error {
	unset := bson.D{}
	for _, k := range keys {
		unset = append(unset, bson.E{Key: "metadata." + k, Value: ""})
	}
	_, err := o.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: sid}}, bson.D{{Key: "$unset", Value: unset}})
	return err
}

// addFeedback is add_feedback: $push {**feedback, created_at}, $set updated_at.
func (o *original) addFeedback(ctx context.Context, sid string, rating, comment string) error {
	now := o.now()
	_, err := o.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: sid}}, bson.D{
		{Key: "$push", Value: bson.D{{Key: "feedbacks", Value: bson.D{{Key: "rating", Value: rating}, {Key: "comment", Value: comment}, {Key: "created_at", Value: now}}}}},
		{Key: "$set", Value: bson.D{{Key: "updated_at", Value: now}}},
	})
	return err
}
