package driver_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func TestValidateIDs(t *testing.T) {
	t.Parallel()
	maxID := strings.Repeat("a", session.MaxIDBytes)
	tests := []struct {
		name               string
		id                 string
		sessionOK, fieldOK bool // fieldOK: agent ids and metadata keys
	}{
		{"plain", "abc-123_X", true, true},
		{"256 bytes", maxID, true, true},
		{"257 bytes", maxID + "a", false, false},
		{"256 bytes of multibyte runes", strings.Repeat("é", 128), true, true},
		{"258 bytes of multibyte runes", strings.Repeat("é", 129), false, false},
		{"empty", "", false, false},
		{"slash", "a/b", false, false},
		{"path traversal", "../x", false, false},
		{"NUL", "a\x00b", false, false},
		{"unit separator", "a\x1fb", false, false},
		{"newline", "a\nb", false, false},
		{"DEL", "a\x7fb", false, false},
		{"C1 control", "a\u0085b", false, false},
		{"line separator", "a\u2028b", false, false},
		{"paragraph separator", "a\u2029b", false, false},
		{"invalid UTF-8", "a\xffb", false, false},
		{"dot", "a.b", true, false},
		{"only dots", "..", false, false},
		{"single dot", ".", false, false},
		{"three dots", "...", true, false},
		{"dot prefix", ".a", true, false},
		{"e-mail", "user@example.com", true, false},
		{"at sign", "user@host", true, true},
		{"leading dollar", "$set", true, false},
		{"inner dollar", "a$b", true, true},
		{"backslash", `a\b`, true, true},
		{"spaces and unicode", "日本 語 🎉", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check := func(field string, err error, ok bool) {
				t.Helper()
				if ok {
					assert.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, session.ErrInvalidArgument)
				assert.Contains(t, err.Error(), field)
			}
			check("session_id", driver.ValidateSessionID(tt.id), tt.sessionOK)
			check("agent_id", driver.ValidateAgentID(tt.id), tt.fieldOK)
			check("metadata key", driver.ValidateMetadataKey(tt.id), tt.fieldOK)
		})
	}
}

func TestValidateMessageID(t *testing.T) {
	t.Parallel()
	assert.NoError(t, driver.ValidateMessageID(0))
	assert.NoError(t, driver.ValidateMessageID(1<<30))
	require.ErrorIs(t, driver.ValidateMessageID(-1), session.ErrInvalidArgument)
}

func TestValidateRatingAndPromptMetadata(t *testing.T) {
	t.Parallel()
	for _, r := range []session.Rating{session.RatingUp, session.RatingDown, session.RatingNone} {
		assert.NoError(t, driver.ValidateRating(r))
	}
	for _, r := range []session.Rating{"UP", "meh", " up"} {
		assert.ErrorIs(t, driver.ValidateRating(r), session.ErrInvalidArgument, r)
	}
	temp := func(f float64) *session.PromptMetadata { return &session.PromptMetadata{Temperature: &f} }
	assert.NoError(t, driver.ValidatePromptMetadata(nil))
	assert.NoError(t, driver.ValidatePromptMetadata(&session.PromptMetadata{}))
	for _, ok := range []float64{0, 0.7, 2} {
		assert.NoError(t, driver.ValidatePromptMetadata(temp(ok)), ok)
	}
	for _, bad := range []float64{-0.1, 2.01, nan()} {
		err := driver.ValidatePromptMetadata(temp(bad))
		require.ErrorIs(t, err, session.ErrInvalidArgument, bad)
		assert.Contains(t, err.Error(), "temperature")
	}
}

var now = time.Date(2026, 5, 15, 10, 46, 33, 123456789, time.FixedZone("X", 3600))

func TestPrepareSession(t *testing.T) {
	t.Parallel()
	t.Run("defaults and copy", func(t *testing.T) {
		t.Parallel()
		in := &session.Session{ID: "a.b@c", Metadata: map[string]any{"n": 1, "l": []string{"x"}}}
		out, err := driver.PrepareSession(in, now)
		require.NoError(t, err)
		assert.Equal(t, session.TypeAgent, out.Type)
		assert.Equal(t, time.Date(2026, 5, 15, 9, 46, 33, 123456000, time.UTC), out.CreatedAt, "UTC, microseconds")
		assert.Equal(t, out.CreatedAt, out.UpdatedAt)
		assert.Equal(t, map[string]any{"n": int64(1), "l": []any{"x"}}, out.Metadata)
		out.Metadata["n"] = "changed"
		assert.Equal(t, 1, in.Metadata["n"], "the caller's map is not shared")
		assert.Equal(t, session.Type(""), in.Type, "the argument is not modified")
	})
	t.Run("keeps given times", func(t *testing.T) {
		t.Parallel()
		c := time.Date(2020, 1, 1, 0, 0, 0, 1500, time.UTC)
		out, err := driver.PrepareSession(&session.Session{ID: "s", CreatedAt: c}, now)
		require.NoError(t, err)
		assert.Equal(t, time.Date(2020, 1, 1, 0, 0, 0, 1000, time.UTC), out.CreatedAt)
		assert.Equal(t, out.CreatedAt, out.UpdatedAt)
	})
	for name, s := range map[string]*session.Session{
		"nil":                nil,
		"bad id":             {ID: "a/b"},
		"bad metadata key":   {ID: "s", Metadata: map[string]any{"a.b": 1}},
		"bad metadata value": {ID: "s", Metadata: map[string]any{"a": make(chan int)}},
		"long application":   {ID: "s", ApplicationName: strings.Repeat("x", 257)},
		"invalid UTF-8 type": {ID: "s", Type: "\xff"},
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.PrepareSession(s, now)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func TestPrepareAgent(t *testing.T) {
	t.Parallel()
	temp := 0.5
	in := &session.Agent{ID: "default", State: map[string]any{"k": int32(3)},
		Config: session.AgentConfig{Model: "m", PromptMetadata: &session.PromptMetadata{PromptID: "p", Temperature: &temp}}}
	out, err := driver.PrepareAgent(in, now)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"k": int64(3)}, out.State)
	assert.Nil(t, out.ConversationManagerState, "nil maps stay nil")
	*out.Config.PromptMetadata.Temperature = 1.5
	assert.Equal(t, 0.5, temp, "config is deep-copied")
	assert.False(t, out.CreatedAt.IsZero())

	bad := 3.0
	for name, a := range map[string]*session.Agent{
		"nil":              nil,
		"dotted id":        {ID: "a.b"},
		"bad state":        {ID: "a", State: map[string]any{"x": nan()}},
		"bad cm state":     {ID: "a", ConversationManagerState: map[string]any{"x": struct{}{}}},
		"bad internal":     {ID: "a", InternalState: map[string]any{"x": func() {}}},
		"temperature":      {ID: "a", Config: session.AgentConfig{PromptMetadata: &session.PromptMetadata{Temperature: &bad}}},
		"bad model string": {ID: "a", Config: session.AgentConfig{Model: "\xff"}},
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.PrepareAgent(a, now)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func TestPrepareMessage(t *testing.T) {
	t.Parallel()
	in := &session.Message{ID: 2,
		Message:        session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{{"n": uint8(7)}}},
		RedactMessage:  &session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("x")}},
		GuardrailEvent: &session.GuardrailEvent{Trace: map[string]any{"a": 1}},
	}
	out, err := driver.PrepareMessage(in, now)
	require.NoError(t, err)
	assert.Equal(t, session.ContentBlock{"n": int64(7)}, out.Message.Content[0])
	assert.Equal(t, "BLOCKED", out.GuardrailEvent.Action)
	assert.False(t, out.GuardrailEvent.Timestamp.IsZero())
	out.RedactMessage.Content[0]["text"] = "changed"
	text, _ := in.RedactMessage.Content[0].Text()
	assert.Equal(t, "x", text, "redaction is deep-copied")

	for name, m := range map[string]*session.Message{
		"nil":             nil,
		"negative id":     {ID: -1, Message: session.ChatMessage{Role: session.RoleUser}},
		"no role":         {},
		"system role":     {Message: session.ChatMessage{Role: "system"}},
		"redact role":     {Message: session.ChatMessage{Role: session.RoleUser}, RedactMessage: &session.ChatMessage{}},
		"nil block":       {Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{nil}}},
		"bad content":     {Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{{"x": inf()}}}},
		"bad metadata":    {Message: session.ChatMessage{Role: session.RoleUser, Metadata: map[string]any{"x": []complex64{1}}}},
		"shadowing extra": {Message: session.ChatMessage{Role: session.RoleUser, Extra: map[string]any{"role": "x"}}},
		"bad trace": {Message: session.ChatMessage{Role: session.RoleUser},
			GuardrailEvent: &session.GuardrailEvent{Trace: map[string]any{"x": nan()}}},
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.PrepareMessage(m, now)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func TestPrepareFeedback(t *testing.T) {
	t.Parallel()
	newID := func() string { return "fixed-id" }
	mid := 4
	out, err := driver.PrepareFeedback(&session.Feedback{Rating: session.RatingUp, AgentID: "a", MessageID: &mid,
		Extra: map[string]any{"source": "web"}}, now, newID)
	require.NoError(t, err)
	assert.Equal(t, "fixed-id", out.ID)
	*out.MessageID = 9
	assert.Equal(t, 4, mid, "message id is copied")
	assert.Equal(t, driver.UTCMicro(now), out.CreatedAt)

	kept, err := driver.PrepareFeedback(&session.Feedback{ID: "mine"}, now, newID)
	require.NoError(t, err)
	assert.Equal(t, "mine", kept.ID)

	for name, f := range map[string]*session.Feedback{
		"nil":                   nil,
		"bad rating":            {Rating: "great"},
		"message without agent": {MessageID: &mid},
		"negative message":      {AgentID: "a", MessageID: func() *int { n := -1; return &n }()},
		"bad agent":             {AgentID: "a.b"},
		"reserved extra":        {Extra: map[string]any{"rating": "up"}},
		"bad extra key":         {Extra: map[string]any{"$x": 1}},
		"bad extra value":       {Extra: map[string]any{"x": nan()}},
		"bad comment":           {Comment: "\xff"},
		"bad id":                {ID: "a/b"},
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.PrepareFeedback(f, now, newID)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func TestPrepareMetadata(t *testing.T) {
	t.Parallel()
	out, err := driver.PrepareMetadata(map[string]any{"k": uint16(1)})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"k": int64(1)}, out)
	for name, m := range map[string]map[string]any{
		"nil": nil, "empty": {}, "dotted key": {"a.b": 1}, "dollar key": {"$a": 1}, "bad value": {"a": inf()},
	} {
		_, err := driver.PrepareMetadata(m)
		assert.ErrorIs(t, err, session.ErrInvalidArgument, name)
	}

	keys := []string{"a", "b"}
	got, err := driver.PrepareMetadataKeys(keys)
	require.NoError(t, err)
	got[0] = "z"
	assert.Equal(t, "a", keys[0], "keys are copied")
	for name, k := range map[string][]string{"nil": nil, "bad key": {"ok", "a/b"}} {
		_, err := driver.PrepareMetadataKeys(k)
		assert.ErrorIs(t, err, session.ErrInvalidArgument, name)
	}
}

func TestPrepareGuardrailEvent(t *testing.T) {
	t.Parallel()
	_, err := driver.PrepareGuardrailEvent(nil, now)
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	in := &session.GuardrailEvent{Action: "ANONYMIZED", PoliciesTriggered: map[string][]string{"p": {"x"}}}
	out, err := driver.PrepareGuardrailEvent(in, now)
	require.NoError(t, err)
	assert.Equal(t, "ANONYMIZED", out.Action)
	out.PoliciesTriggered["p"][0] = "y"
	assert.Equal(t, "x", in.PoliciesTriggered["p"][0])
}
