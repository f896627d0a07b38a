package conformance

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// badInput is one call that must fail with ErrInvalidArgument and change
// nothing.
type badInput struct {
	name string
	call func(ctx context.Context, r session.Repository) error
}

func badSessionIDs() map[string]string {
	return map[string]string{
		"Empty":       "",
		"TooLong":     strings.Repeat("s", session.MaxIDBytes+1),
		"Slash":       "a/b",
		"DotDotSlash": "a/../b",
		"OneDot":      ".",
		"TwoDots":     "..",
		"NUL":         "a\x00b",
		"Newline":     "a\nb",
		"Tab":         "a\tb",
		"DEL":         "a\x7fb",
		"LineSep":     "a\u2028b",
		"BadUTF8":     "a\xffb",
	}
}

func badAgentIDs() map[string]string {
	out := badSessionIDs()
	out["Dot"] = "agent.1"
	out["LeadingDollar"] = "$agent"
	return out
}

func badValues() map[string]any {
	return map[string]any{
		"NaN":         math.NaN(),
		"Inf":         math.Inf(1),
		"Channel":     make(chan int),
		"Func":        func() {},
		"Complex":     complex(1, 2),
		"Struct":      struct{ A int }{1},
		"IntKeyMap":   map[int]string{1: "a"},
		"NestedNaN":   map[string]any{"deep": []any{1, math.NaN()}},
		"Uint64Huge":  uint64(math.MaxUint64),
		"InvalidUTF8": "bad\xff",
	}
}

func invalidArgumentCases() []testCase {
	var in []badInput
	add := func(name string, call func(ctx context.Context, r session.Repository) error) {
		in = append(in, badInput{name, call})
	}
	for name, id := range badSessionIDs() {
		add("CreateSession/ID"+name, func(ctx context.Context, r session.Repository) error {
			return r.CreateSession(ctx, &session.Session{ID: id})
		})
		add("GetSession/ID"+name, func(ctx context.Context, r session.Repository) error {
			_, err := r.GetSession(ctx, id)
			return err
		})
		add("CreateMessage/SessionID"+name, func(ctx context.Context, r session.Repository) error {
			return r.CreateMessage(ctx, id, aid, msg(1, "x"))
		})
	}
	for name, id := range badAgentIDs() {
		add("CreateAgent/ID"+name, func(ctx context.Context, r session.Repository) error {
			return r.CreateAgent(ctx, sid, &session.Agent{ID: id})
		})
		add("UpdateMetadata/Key"+name, func(ctx context.Context, r session.Repository) error {
			return r.UpdateMetadata(ctx, sid, map[string]any{id: "v", "ok": "v"})
		})
	}
	for name, v := range badValues() {
		add("CreateSession/Metadata"+name, func(ctx context.Context, r session.Repository) error {
			return r.CreateSession(ctx, &session.Session{ID: "new", Metadata: map[string]any{"k": v}})
		})
		add("UpdateAgent/State"+name, func(ctx context.Context, r session.Repository) error {
			return r.UpdateAgent(ctx, sid, &session.Agent{ID: aid, State: map[string]any{"k": v}})
		})
		add("CreateMessage/ToolInput"+name, func(ctx context.Context, r session.Repository) error {
			return r.CreateMessage(ctx, sid, aid, &session.Message{ID: 1, Message: session.ChatMessage{Role: session.RoleUser,
				Content: []session.ContentBlock{session.TextBlock("ok"), {"toolUse": map[string]any{"input": map[string]any{"k": v}}}}}})
		})
		add("UpdateMetadata/Value"+name, func(ctx context.Context, r session.Repository) error {
			return r.UpdateMetadata(ctx, sid, map[string]any{"ok": "v", "bad": v})
		})
	}
	add("CreateSession/Nil", func(ctx context.Context, r session.Repository) error { return r.CreateSession(ctx, nil) })
	for name, b := range map[string]session.ContentBlock{
		"EmptyBlock":           {},
		"NilBlock":             nil,
		"TextNotString":        {"text": int64(5)},
		"ToolUseWithoutID":     {"toolUse": map[string]any{"name": "n", "input": map[string]any{}}},
		"ToolResultBadStatus":  {"toolResult": map[string]any{"toolUseId": "t", "status": "weird", "content": []any{}}},
		"ImageBytesNotBinary":  {"image": map[string]any{"format": "png", "source": map[string]any{"bytes": "not-b64!"}}},
		"NegativeUsageInBlock": {"text": "x"},
	} {
		add("CreateMessage/Content"+name, func(ctx context.Context, r session.Repository) error {
			m := &session.Message{ID: 1, Message: session.ChatMessage{Role: session.RoleAssistant, Content: []session.ContentBlock{b}}}
			if name == "NegativeUsageInBlock" {
				m.Message.Metadata = map[string]any{"usage": map[string]any{"inputTokens": int64(-1)}}
			}
			return r.CreateMessage(ctx, sid, aid, m)
		})
	}
	add("CreateMessage/NegativeEventLoopTokens", func(ctx context.Context, r session.Repository) error {
		return r.CreateMessage(ctx, sid, aid, &session.Message{ID: 1, Message: text(session.RoleAssistant, "x"),
			EventLoopMetrics: &session.EventLoopMetrics{AccumulatedUsage: session.Usage{OutputTokens: -1}}})
	})
	add("CreateSession/MetadataKeyWithDot", func(ctx context.Context, r session.Repository) error {
		return r.CreateSession(ctx, &session.Session{ID: "new", Metadata: map[string]any{"a.b": 1}})
	})
	add("CreateAgent/Nil", func(ctx context.Context, r session.Repository) error { return r.CreateAgent(ctx, sid, nil) })
	add("CreateAgent/TemperatureAboveTwo", func(ctx context.Context, r session.Repository) error {
		return r.CreateAgent(ctx, sid, &session.Agent{ID: "new", Config: session.AgentConfig{
			PromptMetadata: &session.PromptMetadata{Temperature: ptr(2.5)}}})
	})
	add("CreateAgent/StateChannel", func(ctx context.Context, r session.Repository) error {
		return r.CreateAgent(ctx, sid, &session.Agent{ID: "new", State: map[string]any{"c": make(chan int)}})
	})
	add("UpdateAgent/Nil", func(ctx context.Context, r session.Repository) error { return r.UpdateAgent(ctx, sid, nil) })
	add("UpdateAgentConfig/EmptyPatch", func(ctx context.Context, r session.Repository) error {
		return r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{})
	})
	add("UpdateAgentConfig/NegativeTemperature", func(ctx context.Context, r session.Repository) error {
		return r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{Model: ptr("m"),
			PromptMetadata: &session.PromptMetadata{Temperature: ptr(-0.1)}})
	})
	add("UpdateAgentConfig/NaNTemperature", func(ctx context.Context, r session.Repository) error {
		return r.UpdateAgentConfig(ctx, sid, aid, session.AgentConfigPatch{PromptMetadata: &session.PromptMetadata{Temperature: ptr(math.NaN())}})
	})
	add("UpdateAgentConfig/AgentIDWithDot", func(ctx context.Context, r session.Repository) error {
		return r.UpdateAgentConfig(ctx, sid, "a.b", session.AgentConfigPatch{Model: ptr("m")})
	})
	add("CreateMessage/Nil", func(ctx context.Context, r session.Repository) error { return r.CreateMessage(ctx, sid, aid, nil) })
	add("CreateMessage/NegativeID", func(ctx context.Context, r session.Repository) error {
		return r.CreateMessage(ctx, sid, aid, msg(-1, "x"))
	})
	add("CreateMessage/BadRole", func(ctx context.Context, r session.Repository) error {
		return r.CreateMessage(ctx, sid, aid, &session.Message{ID: 1, Message: session.ChatMessage{Role: "system"}})
	})
	add("CreateMessage/BadRedactRole", func(ctx context.Context, r session.Repository) error {
		return r.CreateMessage(ctx, sid, aid, &session.Message{ID: 1, Message: text(session.RoleUser, "x"),
			RedactMessage: &session.ChatMessage{}})
	})
	add("CreateMessage/AgentIDWithDot", func(ctx context.Context, r session.Repository) error {
		return r.CreateMessage(ctx, sid, "a.b", msg(0, "x"))
	})
	add("CreateMessage/GuardrailTraceNaN", func(ctx context.Context, r session.Repository) error {
		return r.CreateMessage(ctx, sid, aid, &session.Message{ID: 1, Message: text(session.RoleUser, "x"),
			GuardrailEvent: &session.GuardrailEvent{Trace: map[string]any{"x": math.NaN()}}})
	})
	add("UpdateMessage/NegativeID", func(ctx context.Context, r session.Repository) error {
		return r.UpdateMessage(ctx, sid, aid, msg(-1, "x"))
	})
	add("UpdateMessage/ContentFunc", func(ctx context.Context, r session.Repository) error {
		return r.UpdateMessage(ctx, sid, aid, &session.Message{ID: 0, Message: session.ChatMessage{Role: session.RoleUser,
			Content: []session.ContentBlock{{"f": func() {}}}}})
	})
	add("GetMessage/NegativeID", func(ctx context.Context, r session.Repository) error {
		_, err := r.GetMessage(ctx, sid, aid, -1)
		return err
	})
	add("ListMessages/NegativeOffset", func(ctx context.Context, r session.Repository) error {
		_, err := r.ListMessages(ctx, sid, aid, -1, 0)
		return err
	})
	add("UpdateMetadata/Empty", func(ctx context.Context, r session.Repository) error {
		return r.UpdateMetadata(ctx, sid, map[string]any{})
	})
	add("UpdateMetadata/Nil", func(ctx context.Context, r session.Repository) error { return r.UpdateMetadata(ctx, sid, nil) })
	add("DeleteMetadata/NoKeys", func(ctx context.Context, r session.Repository) error { return r.DeleteMetadata(ctx, sid, nil) })
	add("DeleteMetadata/KeyWithDot", func(ctx context.Context, r session.Repository) error {
		return r.DeleteMetadata(ctx, sid, []string{"k", "a.b"})
	})
	add("DeleteMetadata/KeyWithLeadingDollar", func(ctx context.Context, r session.Repository) error {
		return r.DeleteMetadata(ctx, sid, []string{"$k"})
	})
	add("AddFeedback/Nil", func(ctx context.Context, r session.Repository) error {
		_, err := r.AddFeedback(ctx, sid, nil)
		return err
	})
	add("AddFeedback/BadRating", func(ctx context.Context, r session.Repository) error {
		_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: "sideways"})
		return err
	})
	add("AddFeedback/MessageIDWithoutAgent", func(ctx context.Context, r session.Repository) error {
		_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, MessageID: ptr(0)})
		return err
	})
	add("AddFeedback/NegativeMessageID", func(ctx context.Context, r session.Repository) error {
		_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, AgentID: aid, MessageID: ptr(-1)})
		return err
	})
	add("AddFeedback/ExtraShadowsField", func(ctx context.Context, r session.Repository) error {
		_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, Extra: map[string]any{"rating": "down"}})
		return err
	})
	add("AddFeedback/ExtraKeyWithDollar", func(ctx context.Context, r session.Repository) error {
		_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp, Extra: map[string]any{"$where": "1"}})
		return err
	})
	add("RecordGuardrailEvent/Nil", func(ctx context.Context, r session.Repository) error {
		return r.RecordGuardrailEvent(ctx, sid, aid, 0, nil)
	})
	add("RecordGuardrailEvent/NegativeMessageID", func(ctx context.Context, r session.Repository) error {
		return r.RecordGuardrailEvent(ctx, sid, aid, -1, &session.GuardrailEvent{})
	})
	add("RecordGuardrailEvent/TraceChannel", func(ctx context.Context, r session.Repository) error {
		return r.RecordGuardrailEvent(ctx, sid, aid, 0, &session.GuardrailEvent{Trace: map[string]any{"c": make(chan int)}})
	})
	add("ListSessions/BadCursor", func(ctx context.Context, r session.Repository) error {
		_, err := r.ListSessions(ctx, session.SessionQuery{Cursor: "not a cursor!"})
		return err
	})
	add("ListSessions/CursorWithoutID", func(ctx context.Context, r session.Repository) error {
		_, err := r.ListSessions(ctx, session.SessionQuery{Cursor: "e30"}) // base64url of "{}"
		return err
	})
	add("ListSessions/NegativeLimit", func(ctx context.Context, r session.Repository) error {
		_, err := r.ListSessions(ctx, session.SessionQuery{Limit: -1})
		return err
	})
	add("ListSessions/LimitOverMax", func(ctx context.Context, r session.Repository) error {
		_, err := r.ListSessions(ctx, session.SessionQuery{Limit: session.MaxPageSize + 1})
		return err
	})
	add("ListSessions/MetadataFilterKeyWithDot", func(ctx context.Context, r session.Repository) error {
		_, err := r.ListSessions(ctx, session.SessionQuery{Metadata: map[string]any{"a.b": "x"}})
		return err
	})
	add("ListSessions/MetadataFilterOperatorKey", func(ctx context.Context, r session.Repository) error {
		_, err := r.ListSessions(ctx, session.SessionQuery{Metadata: map[string]any{"$where": "1"}})
		return err
	})
	add("ListSessions/EmptyCreatedRange", func(ctx context.Context, r session.Repository) error {
		_, err := r.ListSessions(ctx, session.SessionQuery{CreatedFrom: base, CreatedTo: base})
		return err
	})

	cases := make([]testCase, 0, len(in))
	for _, b := range in {
		cases = append(cases, testCase{"InvalidArgument", b.name, func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seedFull(t, ctx, r)
			before := dumpStore(t, ctx, r)
			err := b.call(ctx, r)
			requireIs(t, err, session.ErrInvalidArgument, b.name)
			assert.Equal(t, before, dumpStore(t, ctx, r), "the store changed after a rejected call")
		}})
	}
	return cases
}

// seedFull creates session sid (metadata k=v) with agent aid holding one
// message, one feedback and one guardrail event.
func seedFull(t *testing.T, ctx context.Context, r session.Repository) {
	t.Helper()
	require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid, Metadata: map[string]any{"k": "v"}}))
	createAgent(t, ctx, r, sid, aid)
	appendN(t, ctx, r, sid, aid, 1)
	_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp})
	require.NoError(t, err)
	require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 0, &session.GuardrailEvent{StopReason: "x"}))
}
