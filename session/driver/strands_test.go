package driver_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// reencode decodes a Strands file with the codec its name calls for and
// encodes the result again.
func reencode(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var (
		out []byte
		err error
	)
	switch {
	case strings.HasPrefix(name, "session"):
		var s *session.Session
		s, err = driver.UnmarshalStrandsSession(data)
		require.NoError(t, err)
		out, err = driver.MarshalStrandsSession(s)
	case strings.HasPrefix(name, "agent"):
		var a *session.Agent
		a, err = driver.UnmarshalStrandsAgent(data)
		require.NoError(t, err)
		out, err = driver.MarshalStrandsAgent(a)
	case strings.HasPrefix(name, "message"):
		var m *session.Message
		m, err = driver.UnmarshalStrandsMessage(data)
		require.NoError(t, err)
		out, err = driver.MarshalStrandsMessage(m)
	default:
		t.Fatalf("no codec for %s", name)
	}
	require.NoError(t, err)
	return out
}

func TestStrandsGolden_DecodeEncodeIsByteIdentical(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/strands/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 12, "golden files missing")
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden, err := os.ReadFile(path)
			require.NoError(t, err)
			require.False(t, bytes.HasSuffix(golden, []byte("\n")), "Strands writes no trailing newline")
			assert.Equal(t, string(golden), string(reencode(t, name, golden)))
		})
	}
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "strands", name))
	require.NoError(t, err)
	return b
}

func TestStrandsGolden_DecodedValues(t *testing.T) {
	t.Parallel()
	stamp := time.Date(2026, 5, 15, 10, 46, 33, 123456000, time.UTC)

	t.Run("session", func(t *testing.T) {
		t.Parallel()
		s, err := driver.UnmarshalStrandsSession(readGolden(t, "session.json"))
		require.NoError(t, err)
		assert.Equal(t, &session.Session{ID: "abc", Type: session.TypeAgent, CreatedAt: stamp, UpdatedAt: stamp}, s)
	})
	t.Run("default agent", func(t *testing.T) {
		t.Parallel()
		a, err := driver.UnmarshalStrandsAgent(readGolden(t, "agent_default.json"))
		require.NoError(t, err)
		assert.Equal(t, "default", a.ID)
		assert.Equal(t, map[string]any{}, a.State)
		assert.Equal(t, map[string]any{
			"__name__": "SlidingWindowConversationManager", "removed_message_count": int64(0), "model_call_count": int64(0),
		}, a.ConversationManagerState)
		assert.Equal(t, map[string]any{
			"interrupt_state": map[string]any{"interrupts": map[string]any{}, "context": map[string]any{}, "activated": false},
			"model_state":     map[string]any{},
		}, a.InternalState)
		assert.Equal(t, stamp, a.CreatedAt)
	})
	t.Run("summarizing agent with bytes in state", func(t *testing.T) {
		t.Parallel()
		a, err := driver.UnmarshalStrandsAgent(readGolden(t, "agent_summarizing.json"))
		require.NoError(t, err)
		assert.Equal(t, []byte{0, 1, 2, 0xff}, a.State["blob"])
		assert.Equal(t, int64(3), a.State["count"])
		summary := a.ConversationManagerState["summary_message"].(map[string]any)
		assert.Equal(t, "assistant", summary["role"])
		assert.Equal(t, time.Date(2026, 5, 15, 10, 47, 1, 1000, time.UTC), a.UpdatedAt)
	})
	t.Run("image bytes", func(t *testing.T) {
		t.Parallel()
		m, err := driver.UnmarshalStrandsMessage(readGolden(t, "message_image.json"))
		require.NoError(t, err)
		img := m.Message.Content[1]["image"].(map[string]any)
		png := img["source"].(map[string]any)["bytes"].([]byte)
		assert.Equal(t, []byte("\x89PNG\r\n\x1a\n"), png[:8])
	})
	t.Run("redacted content bytes", func(t *testing.T) {
		t.Parallel()
		m, err := driver.UnmarshalStrandsMessage(readGolden(t, "message_reasoning.json"))
		require.NoError(t, err)
		rc := m.Message.Content[1]["reasoningContent"].(map[string]any)
		assert.Equal(t, []byte("secret reasoning"), rc["redactedContent"])
	})
	t.Run("redaction", func(t *testing.T) {
		t.Parallel()
		m, err := driver.UnmarshalStrandsMessage(readGolden(t, "message_redacted.json"))
		require.NoError(t, err)
		require.NotNil(t, m.RedactMessage)
		text, _ := m.Effective().Content[0].Text()
		assert.Equal(t, "BLOCKED!", text)
		assert.Equal(t, 5, m.ID)
	})
	t.Run("unicode", func(t *testing.T) {
		t.Parallel()
		m, err := driver.UnmarshalStrandsMessage(readGolden(t, "message_unicode.json"))
		require.NoError(t, err)
		text, _ := m.Message.Content[0].Text()
		assert.Contains(t, text, "line\u2028sep\u2029para \x00\x01\x1f\x7f tab\t")
		assert.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), m.CreatedAt)
	})
	t.Run("numbers and extra keys", func(t *testing.T) {
		t.Parallel()
		m, err := driver.UnmarshalStrandsMessage(readGolden(t, "message_numbers.json"))
		require.NoError(t, err)
		input := m.Message.Content[0]["toolUse"].(map[string]any)["input"].(map[string]any)
		floats := input["floats"].([]any)
		assert.Equal(t, 1.0, floats[0])
		assert.True(t, math.Signbit(floats[4].(float64)), "-0.0 keeps its sign")
		assert.Equal(t, int64(9007199254740993), input["ints"].([]any)[3], "ints beyond 2^53 stay exact")
		assert.Equal(t, map[string]any{"tracking_id": "trk-1"}, m.Message.Extra)
		assert.Contains(t, m.Message.Metadata, "usage")
	})
}

// The tests below are Strands' tests/strands/types/test_session.py T1-T5
// (strands-contract.md §5a), applied to the Go codec.

func TestStrandsT1_SessionRoundTrips(t *testing.T) {
	t.Parallel()
	in := &session.Session{ID: driver.NewID(), Type: session.TypeAgent,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond), UpdatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	b, err := driver.MarshalStrandsSession(in)
	require.NoError(t, err)
	require.True(t, json.Valid(b))
	out, err := driver.UnmarshalStrandsSession(b)
	require.NoError(t, err)
	assert.Equal(t, in, out)
}

func TestStrandsT2_AgentRoundTrips(t *testing.T) {
	t.Parallel()
	in := &session.Agent{
		ID:                       driver.NewID(),
		State:                    map[string]any{"foo": "bar"},
		ConversationManagerState: map[string]any{"__name__": "NullConversationManager", "removed_message_count": int64(0)},
		InternalState:            map[string]any{},
		CreatedAt:                time.Date(2026, 5, 15, 0, 0, 0, 1000, time.UTC),
		UpdatedAt:                time.Date(2026, 5, 15, 0, 0, 1, 0, time.UTC),
	}
	b, err := driver.MarshalStrandsAgent(in)
	require.NoError(t, err)
	out, err := driver.UnmarshalStrandsAgent(b)
	require.NoError(t, err)
	assert.Equal(t, in, out)
}

func TestStrandsT3_MessageRoundTrips(t *testing.T) {
	t.Parallel()
	in := &session.Message{ID: 0, Message: session.ChatMessage{Role: session.RoleUser,
		Content: []session.ContentBlock{session.TextBlock("Hello!")}}}
	b, err := driver.MarshalStrandsMessage(in)
	require.NoError(t, err)
	out, err := driver.UnmarshalStrandsMessage(b)
	require.NoError(t, err)
	assert.Equal(t, in, out)
	assert.Contains(t, string(b), `"redact_message": null`)
}

func TestStrandsT4_BytesEncodeAndDecodeAnywhere(t *testing.T) {
	t.Parallel()
	state := map[string]any{
		"top":  []byte("Hello, world!"),
		"sub":  map[string]any{"b": []byte{0, 255}},
		"list": []any{[]byte("x"), "str", []byte{}},
	}
	b, err := driver.MarshalStrandsAgent(&session.Agent{ID: "a", State: state, ConversationManagerState: map[string]any{}})
	require.NoError(t, err)
	assert.Contains(t, string(b), "{\n      \"__bytes_encoded__\": true,\n      \"data\": \"SGVsbG8sIHdvcmxkIQ==\"\n    }")
	out, err := driver.UnmarshalStrandsAgent(b)
	require.NoError(t, err)
	assert.Equal(t, state, out.State)
}

func TestStrandsT5_MessageWithBytesKeepsRoleTextAndBytes(t *testing.T) {
	t.Parallel()
	in := &session.Message{ID: 3, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{
		session.TextBlock("see attached"), {"binary_data": []byte("\x00\x01binary")},
	}}}
	b, err := driver.MarshalStrandsMessage(in)
	require.NoError(t, err)
	out, err := driver.UnmarshalStrandsMessage(b)
	require.NoError(t, err)
	got := out.Effective()
	assert.Equal(t, session.RoleUser, got.Role)
	text, _ := got.Content[0].Text()
	assert.Equal(t, "see attached", text)
	assert.Equal(t, []byte("\x00\x01binary"), got.Content[1]["binary_data"])
}

func TestFormatPythonTime(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"microseconds", time.Date(2026, 5, 15, 10, 46, 33, 123456000, time.UTC), "2026-05-15T10:46:33.123456+00:00"},
		{"trailing zeros kept", time.Date(2026, 5, 15, 10, 46, 33, 120000000, time.UTC), "2026-05-15T10:46:33.120000+00:00"},
		{"one microsecond", time.Date(2026, 5, 15, 10, 46, 33, 1000, time.UTC), "2026-05-15T10:46:33.000001+00:00"},
		{"whole second has no fraction", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "2026-01-01T00:00:00+00:00"},
		{"nanoseconds truncated", time.Date(2026, 1, 1, 0, 0, 0, 999, time.UTC), "2026-01-01T00:00:00+00:00"},
		{"converted to UTC", time.Date(2026, 5, 15, 12, 0, 0, 0, paris), "2026-05-15T10:00:00+00:00"},
		{"zero time", time.Time{}, "0001-01-01T00:00:00+00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, driver.FormatPythonTime(tt.in))
		})
	}
}

func TestParsePythonTime(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 5, 15, 10, 46, 33, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-05-15T10:46:33.123456+00:00", base.Add(123456 * time.Microsecond)},
		{"2026-05-15T10:46:33+00:00", base},
		{"2026-05-15T10:46:33Z", base},
		{"2026-05-15T10:46:33.5Z", base.Add(500 * time.Millisecond)},
		{"2026-05-15T10:46:33.123456789Z", base.Add(123456789)},
		{"2026-05-15T12:46:33+02:00", base},
		{"2026-05-15T05:16:33-05:30", base},
		{"2026-05-15T10:46:33", base},
		{"2026-05-15 10:46:33.000001", base.Add(time.Microsecond)},
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := driver.ParsePythonTime(tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s", got)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
	for _, bad := range []string{
		"", "2026-05-15", "2026-05-15T10:46", "2026-05-15T10:46:33.", "2026-05-15T10:46:33.1234567890Z",
		"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "0000-01-01T00:00:00Z",
		"2026-05-15T24:00:00Z", "2026-05-15T10:60:00Z", "2026-05-15T10:46:60Z", "2026-05-15T10:46:33+24:00",
		"2026-05-15T10:46:33+0200", "2026-05-15T10:46:33z", " 2026-05-15T10:46:33Z", "2026-05-15T10:46:33Z\n",
		"2026-05-15T10:46:33,5Z", "２０２６-05-15T10:46:33Z",
		"0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
	} {
		t.Run("rejects "+bad, func(t *testing.T) {
			t.Parallel()
			_, err := driver.ParsePythonTime(bad)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func TestUnmarshalStrands_BadInputIsInvalidArgumentNamingTheField(t *testing.T) {
	t.Parallel()
	msg := func(id string) string {
		return `{"message": {"role": "user", "content": []}, "message_id": ` + id + `}`
	}
	tests := []struct {
		name  string
		codec string
		in    string
		field string
	}{
		{"not json", "message", `{"message":`, "json"},
		{"trailing data", "message", msg("0") + ` {}`, "json"},
		{"top level list", "message", `[]`, "message"},
		{"message_id missing", "message", `{"message": {"role": "user", "content": []}}`, "message_id"},
		{"message_id bool", "message", msg("true"), "message_id"},
		{"message_id float", "message", msg("1.0"), "message_id"},
		{"message_id exponent", "message", msg("1e0"), "message_id"},
		{"message_id string", "message", msg(`"1"`), "message_id"},
		{"message_id null", "message", msg("null"), "message_id"},
		{"message_id negative", "message", msg("-1"), "message_id"},
		{"message_id huge", "message", msg("99999999999999999999"), "message_id"},
		{"message missing", "message", `{"message_id": 0}`, "message"},
		{"message null", "message", `{"message": null, "message_id": 0}`, "message"},
		{"role missing", "message", `{"message": {"content": []}, "message_id": 0}`, "message.role"},
		{"role unknown", "message", `{"message": {"role": "system", "content": []}, "message_id": 0}`, "message.role"},
		{"content not a list", "message", `{"message": {"role": "user", "content": "hi"}, "message_id": 0}`, "content"},
		{"content block not an object", "message", `{"message": {"role": "user", "content": ["hi"]}, "message_id": 0}`, "content[0]"},
		{"metadata not an object", "message", `{"message": {"role": "user", "content": [], "metadata": 1}, "message_id": 0}`, "message.metadata"},
		{"redact_message not an object", "message", `{"message": {"role": "user", "content": []}, "message_id": 0, "redact_message": 3}`, "redact_message"},
		{"bad bytes data", "message", `{"message": {"role": "user", "content": [{"b": {"__bytes_encoded__": true, "data": "!!"}}]}, "message_id": 0}`, "__bytes_encoded__"},
		{"created_at not a string", "message", `{"message": {"role": "user", "content": []}, "message_id": 0, "created_at": 5}`, "created_at"},
		{"updated_at malformed", "message", `{"message": {"role": "user", "content": []}, "message_id": 0, "updated_at": "yesterday"}`, "updated_at"},
		{"NaN", "message", `{"message": {"role": "user", "content": [{"x": NaN}]}, "message_id": 0}`, "json"},
		{"session_id missing", "session", `{"session_type": "AGENT"}`, "session_id"},
		{"session_id not a string", "session", `{"session_id": 1}`, "session_id"},
		{"session_id with slash", "session", `{"session_id": "a/b"}`, "session_id"},
		{"session_type not a string", "session", `{"session_id": "a", "session_type": 1}`, "session_type"},
		{"agent_id missing", "agent", `{"state": {}, "conversation_manager_state": {}}`, "agent_id"},
		{"agent_id with dot", "agent", `{"agent_id": "a.b", "state": {}, "conversation_manager_state": {}}`, "agent_id"},
		{"state missing", "agent", `{"agent_id": "a", "conversation_manager_state": {}}`, "state"},
		{"state not an object", "agent", `{"agent_id": "a", "state": [], "conversation_manager_state": {}}`, "state"},
		{"conversation_manager_state missing", "agent", `{"agent_id": "a", "state": {}}`, "conversation_manager_state"},
		{"_internal_state null", "agent", `{"agent_id": "a", "state": {}, "conversation_manager_state": {}, "_internal_state": null}`, "_internal_state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			switch tt.codec {
			case "message":
				_, err = driver.UnmarshalStrandsMessage([]byte(tt.in))
			case "agent":
				_, err = driver.UnmarshalStrandsAgent([]byte(tt.in))
			case "session":
				_, err = driver.UnmarshalStrandsSession([]byte(tt.in))
			}
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestUnmarshalStrands_LenientWherePythonIs(t *testing.T) {
	t.Parallel()
	t.Run("unknown keys ignored, missing optional fields defaulted", func(t *testing.T) {
		t.Parallel()
		a, err := driver.UnmarshalStrandsAgent([]byte(`{"agent_id": "a", "state": {}, "conversation_manager_state": {}, "future": [1]}`))
		require.NoError(t, err)
		assert.Equal(t, map[string]any{}, a.InternalState)
		assert.True(t, a.CreatedAt.IsZero())
		assert.True(t, a.UpdatedAt.IsZero())

		s, err := driver.UnmarshalStrandsSession([]byte(`{"session_id": "a.b@c", "extra": true}`))
		require.NoError(t, err)
		assert.Equal(t, session.TypeAgent, s.Type)
	})
	t.Run("null timestamps and redact_message", func(t *testing.T) {
		t.Parallel()
		m, err := driver.UnmarshalStrandsMessage([]byte(
			`{"message": {"role": "user", "content": [], "metadata": null}, "message_id": 9, "redact_message": null, "created_at": null}`))
		require.NoError(t, err)
		assert.Nil(t, m.RedactMessage)
		assert.Nil(t, m.Message.Metadata)
		assert.Equal(t, 9, m.ID)
	})
	t.Run("__bytes_encoded__ must be true exactly", func(t *testing.T) {
		t.Parallel()
		m, err := driver.UnmarshalStrandsMessage([]byte(
			`{"message": {"role": "user", "content": [{"a": {"__bytes_encoded__": 1, "data": "AA=="}, "b": {"__bytes_encoded__": true}}]}, "message_id": 0}`))
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"__bytes_encoded__": int64(1), "data": "AA=="}, m.Message.Content[0]["a"])
		assert.Equal(t, map[string]any{"__bytes_encoded__": true}, m.Message.Content[0]["b"], "no data key: left alone")
	})
}

func TestMarshalStrands_BadInputIsInvalidArgument(t *testing.T) {
	t.Parallel()
	okMsg := session.ChatMessage{Role: session.RoleUser}
	tests := []struct {
		name string
		run  func() error
	}{
		{"nil session", func() error { _, err := driver.MarshalStrandsSession(nil); return err }},
		{"empty session id", func() error { _, err := driver.MarshalStrandsSession(&session.Session{}); return err }},
		{"session year 10000", func() error {
			_, err := driver.MarshalStrandsSession(&session.Session{ID: "s", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
			return err
		}},
		{"nil agent", func() error { _, err := driver.MarshalStrandsAgent(nil); return err }},
		{"agent id with dot", func() error { _, err := driver.MarshalStrandsAgent(&session.Agent{ID: "a.b"}); return err }},
		{"NaN in state", func() error {
			_, err := driver.MarshalStrandsAgent(&session.Agent{ID: "a", State: map[string]any{"x": math.NaN()}})
			return err
		}},
		{"struct in internal state", func() error {
			_, err := driver.MarshalStrandsAgent(&session.Agent{ID: "a", InternalState: map[string]any{"x": struct{}{}}})
			return err
		}},
		{"nil message", func() error { _, err := driver.MarshalStrandsMessage(nil); return err }},
		{"negative message id", func() error {
			_, err := driver.MarshalStrandsMessage(&session.Message{ID: -1, Message: okMsg})
			return err
		}},
		{"bad role", func() error { _, err := driver.MarshalStrandsMessage(&session.Message{}); return err }},
		{"bad redact role", func() error {
			_, err := driver.MarshalStrandsMessage(&session.Message{Message: okMsg, RedactMessage: &session.ChatMessage{Role: "tool"}})
			return err
		}},
		{"Inf in content", func() error {
			_, err := driver.MarshalStrandsMessage(&session.Message{Message: session.ChatMessage{Role: session.RoleUser,
				Content: []session.ContentBlock{{"x": math.Inf(1)}}}})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, tt.run(), session.ErrInvalidArgument)
		})
	}
}

func TestMarshalStrandsMessage_DoesNotEscapeHTMLOrLineSeparators(t *testing.T) {
	t.Parallel()
	b, err := driver.MarshalStrandsMessage(&session.Message{Message: session.ChatMessage{Role: session.RoleUser,
		Content: []session.ContentBlock{session.TextBlock("<a>&\u2028\u2029\x7f\x1b")}}})
	require.NoError(t, err)
	assert.Contains(t, string(b), "\"text\": \"<a>&\u2028\u2029\x7f\\u001b\"")
}

// randomValue builds a random canonical value, depth-bounded.
func randomValue(r *rand.Rand, depth int) any {
	n := 8
	if depth > 3 {
		n = 6
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.Int64() - r.Int64()
	case 3:
		return math.Float64frombits(r.Uint64()&^(0x7ff<<52) | uint64(r.IntN(0x7fe))<<52) // finite
	case 4:
		return randomString(r)
	case 5:
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case 6:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randomValue(r, depth+1)
		}
		return l
	default:
		m := map[string]any{}
		for range r.IntN(4) {
			m[randomString(r)] = randomValue(r, depth+1)
		}
		return m
	}
}

func randomString(r *rand.Rand) string {
	runes := []rune{'a', 'é', '\u2028', '\x00', '"', '\\', '日', '🎉', '\n', '\x7f'}
	s := make([]rune, r.IntN(6))
	for i := range s {
		s[i] = runes[r.IntN(len(runes))]
	}
	return string(s)
}

func TestStrandsCodec_RandomValuesRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		state := map[string]any{"v": randomValue(r, 0), "w": randomValue(r, 0)}
		a := &session.Agent{ID: "a", State: state, ConversationManagerState: map[string]any{"x": randomValue(r, 0)},
			InternalState: map[string]any{}, CreatedAt: time.Unix(r.Int64N(1<<35), r.Int64N(1e6)*1000).UTC(),
			UpdatedAt: time.Unix(0, 0).UTC()}
		b, err := driver.MarshalStrandsAgent(a)
		require.NoError(t, err, "case %d", i)
		got, err := driver.UnmarshalStrandsAgent(b)
		require.NoError(t, err, "case %d: %s", i, b)
		require.Equal(t, a, got, "case %d: %s", i, b)
		again, err := driver.MarshalStrandsAgent(got)
		require.NoError(t, err)
		require.Equal(t, string(b), string(again), "case %d: encode is deterministic", i)

		m := &session.Message{ID: r.IntN(1 << 20), Message: session.ChatMessage{Role: session.RoleAssistant,
			Content: []session.ContentBlock{{"x": randomValue(r, 0)}}}}
		mb, err := driver.MarshalStrandsMessage(m)
		require.NoError(t, err)
		gotM, err := driver.UnmarshalStrandsMessage(mb)
		require.NoError(t, err, "case %d: %s", i, mb)
		m.CreatedAt, m.UpdatedAt = time.Time{}.UTC(), time.Time{}.UTC()
		require.Equal(t, m.Message, gotM.Message, "case %d", i)
		require.Equal(t, m.ID, gotM.ID)
	}
}
