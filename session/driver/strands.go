package driver

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// strandsIndent is the indent Strands passes to json.dump.
const strandsIndent = "  "

// MarshalStrandsSession encodes s as Strands writes session.json:
// session_id, session_type ("AGENT" when s.Type is empty), created_at and
// updated_at (see FormatPythonTime). ApplicationName, Metadata and the
// viewer password are not part of the Strands file and are not written. An
// invalid id or a time outside years 1-9999 is ErrInvalidArgument.
func MarshalStrandsSession(s *session.Session) ([]byte, error) {
	if s == nil {
		return nil, InvalidArgument("session", "is nil")
	}
	if err := ValidateSessionID(s.ID); err != nil {
		return nil, err
	}
	typ := s.Type
	if typ == "" {
		typ = session.TypeAgent
	}
	created, updated, err := strandsTimes(s.CreatedAt, s.UpdatedAt)
	if err != nil {
		return nil, SessionError(s.ID, err)
	}
	return encodeStrands(map[string]any{
		"session_id":   s.ID,
		"session_type": string(typ),
		"created_at":   created,
		"updated_at":   updated,
	}, sessionRecordShape), nil
}

// UnmarshalStrandsSession decodes a Strands session.json. Unknown keys are
// ignored; a missing session_type means TypeAgent; missing (or null)
// timestamps leave the zero time for the caller to fill in. A missing or
// invalid session_id, a value of the wrong type or malformed JSON is
// ErrInvalidArgument naming the field.
func UnmarshalStrandsSession(data []byte) (*session.Session, error) {
	doc, err := decodeStrandsObject("session.json", data)
	if err != nil {
		return nil, err
	}
	id, err := requiredString(doc, "session_id")
	if err != nil {
		return nil, err
	}
	if err := ValidateSessionID(id); err != nil {
		return nil, err
	}
	s := &session.Session{ID: id, Type: session.TypeAgent}
	if v, ok := doc["session_type"]; ok && v != nil {
		typ, ok := v.(string)
		if !ok {
			return nil, SessionError(id, InvalidArgument("session_type", "is %s, not a string", jsonKind(v)))
		}
		s.Type = session.Type(typ)
	}
	if s.CreatedAt, s.UpdatedAt, err = parseStrandsTimes(doc); err != nil {
		return nil, SessionError(id, err)
	}
	return s, nil
}

// MarshalStrandsAgent encodes a as Strands writes agent.json: agent_id,
// state, conversation_manager_state, _internal_state, created_at and
// updated_at. Nil maps are written as {}; []byte values anywhere become
// {"__bytes_encoded__": true, "data": "<base64>"}, as later Strands versions
// write them. Config is not part of the Strands file and is not written.
// An invalid agent id, a value Normalize rejects or a time outside years
// 1-9999 is ErrInvalidArgument.
func MarshalStrandsAgent(a *session.Agent) ([]byte, error) {
	if a == nil {
		return nil, InvalidArgument("agent", "is nil")
	}
	if err := ValidateAgentID(a.ID); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("agent %q: %w", a.ID, err) }
	state, err := normalizeObject("state", a.State)
	if err != nil {
		return nil, wrap(err)
	}
	cms, err := normalizeObject("conversation_manager_state", a.ConversationManagerState)
	if err != nil {
		return nil, wrap(err)
	}
	internal, err := normalizeObject("_internal_state", a.InternalState)
	if err != nil {
		return nil, wrap(err)
	}
	created, updated, err := strandsTimes(a.CreatedAt, a.UpdatedAt)
	if err != nil {
		return nil, wrap(err)
	}
	return encodeStrands(map[string]any{
		"agent_id":                   a.ID,
		"state":                      state,
		"conversation_manager_state": cms,
		"_internal_state":            internal,
		"created_at":                 created,
		"updated_at":                 updated,
	}, agentRecordShape), nil
}

// UnmarshalStrandsAgent decodes a Strands agent.json. agent_id, state and
// conversation_manager_state are required (state and
// conversation_manager_state must be objects); a missing _internal_state
// is {}, as in Strands; bytes-encoded objects become []byte; unknown keys
// are ignored; missing timestamps leave the zero time. Config is left zero.
// Errors are ErrInvalidArgument naming the field.
func UnmarshalStrandsAgent(data []byte) (*session.Agent, error) {
	doc, err := decodeStrandsObject("agent.json", data)
	if err != nil {
		return nil, err
	}
	id, err := requiredString(doc, "agent_id")
	if err != nil {
		return nil, err
	}
	if err := ValidateAgentID(id); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("agent %q: %w", id, err) }
	a := &session.Agent{ID: id}
	if a.State, err = objectField(doc, "state", true); err != nil {
		return nil, wrap(err)
	}
	if a.ConversationManagerState, err = objectField(doc, "conversation_manager_state", true); err != nil {
		return nil, wrap(err)
	}
	if a.InternalState, err = objectField(doc, "_internal_state", false); err != nil {
		return nil, wrap(err)
	}
	if a.CreatedAt, a.UpdatedAt, err = parseStrandsTimes(doc); err != nil {
		return nil, wrap(err)
	}
	return a, nil
}

// MarshalStrandsMessage encodes m as Strands writes message_<N>.json:
// message, message_id, redact_message (null when nil), created_at and
// updated_at. Each message dict is written role, content, metadata (when
// non-nil), then its extra keys sorted; []byte values become
// {"__bytes_encoded__": true, "data": "<base64>"}. EventLoopMetrics and
// GuardrailEvent are not part of the Strands file and are not written. A
// negative id, a role other than user or assistant, a value Normalize
// rejects or a time outside years 1-9999 is ErrInvalidArgument.
func MarshalStrandsMessage(m *session.Message) ([]byte, error) {
	if m == nil {
		return nil, InvalidArgument("message", "is nil")
	}
	if err := ValidateMessageID(m.ID); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("message %d: %w", m.ID, err) }
	body, err := prepareChat("message", m.Message)
	if err != nil {
		return nil, wrap(err)
	}
	var redact any
	if m.RedactMessage != nil {
		r, err := prepareChat("redact_message", *m.RedactMessage)
		if err != nil {
			return nil, wrap(err)
		}
		redact = r.Map()
	}
	created, updated, err := strandsTimes(m.CreatedAt, m.UpdatedAt)
	if err != nil {
		return nil, wrap(err)
	}
	return encodeStrands(map[string]any{
		"message":        body.Map(),
		"message_id":     int64(m.ID),
		"redact_message": redact,
		"created_at":     created,
		"updated_at":     updated,
	}, messageRecordShape), nil
}

// UnmarshalStrandsMessage decodes a Strands message_<N>.json. message and
// message_id are required; message_id must be a JSON integer (not a bool,
// float or string) and not negative; redact_message may be missing or null.
// Messages must have role user or assistant and a list of object content
// blocks. Bytes-encoded objects become []byte; unknown keys are ignored;
// missing timestamps leave the zero time. Errors are ErrInvalidArgument
// naming the field.
func UnmarshalStrandsMessage(data []byte) (*session.Message, error) {
	doc, err := decodeStrandsObject("message", data)
	if err != nil {
		return nil, err
	}
	rawID, ok := doc["message_id"]
	if !ok {
		return nil, InvalidArgument("message_id", "is missing")
	}
	id64, ok := rawID.(int64)
	if !ok {
		return nil, InvalidArgument("message_id", "is %s, not an integer", jsonKind(rawID))
	}
	if id64 < 0 || int64(int(id64)) != id64 {
		return nil, InvalidArgument("message_id", "%d is out of range", id64)
	}
	m := &session.Message{ID: int(id64)}
	wrap := func(err error) error { return fmt.Errorf("message %d: %w", m.ID, err) }
	rawMsg, ok := doc["message"]
	if !ok {
		return nil, wrap(InvalidArgument("message", "is missing"))
	}
	if m.Message, err = chatFromStrands("message", rawMsg); err != nil {
		return nil, wrap(err)
	}
	if raw := doc["redact_message"]; raw != nil {
		r, err := chatFromStrands("redact_message", raw)
		if err != nil {
			return nil, wrap(err)
		}
		m.RedactMessage = &r
	}
	if m.CreatedAt, m.UpdatedAt, err = parseStrandsTimes(doc); err != nil {
		return nil, wrap(err)
	}
	return m, nil
}

// FormatPythonTime formats t as Python's datetime.isoformat() formats the
// same instant in UTC: "2026-05-15T10:46:33.123456+00:00", with exactly six
// fraction digits, or none when the microsecond is 0, and "+00:00", never
// "Z". Nanoseconds below the microsecond are truncated.
func FormatPythonTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// pythonTimePattern matches what ParsePythonTime accepts.
var pythonTimePattern = regexp.MustCompile(
	`^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$`)

// ParsePythonTime parses an ISO 8601 timestamp as Python writes and reads
// them and returns it in UTC: FormatPythonTime's output, and also "Z" or any
// "±HH:MM" offset, 1 to 9 fraction digits, a space instead of "T", and naive
// times (no offset), which are taken as UTC. Anything else, including
// out-of-range fields, is ErrInvalidArgument.
func ParsePythonTime(s string) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, InvalidArgument("timestamp", "%q is not an ISO 8601 time: %s", s, why)
	}
	p := pythonTimePattern.FindStringSubmatch(s)
	if p == nil {
		return bad("want YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]")
	}
	num := func(i int) int { n, _ := strconv.Atoi(p[i]); return n }
	year, month, day, hour, minute, sec := num(1), num(2), num(3), num(4), num(5), num(6)
	nsec := 0
	if frac := p[7]; frac != "" {
		n, _ := strconv.Atoi(frac)
		for range 9 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	switch {
	case year < 1:
		return bad("year 0")
	case month < 1 || month > 12:
		return bad("month out of range")
	case day < 1 || day > daysIn(time.Month(month), year):
		return bad("day out of range")
	case hour > 23 || minute > 59 || sec > 59:
		return bad("time of day out of range")
	}
	offset := 0
	if z := p[8]; z != "" && z != "Z" {
		oh, _ := strconv.Atoi(z[1:3])
		om, _ := strconv.Atoi(z[4:6])
		if oh > 23 || om > 59 {
			return bad("offset out of range")
		}
		offset = oh*3600 + om*60
		if z[0] == '-' {
			offset = -offset
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	t = t.Add(-time.Duration(offset) * time.Second)
	if y := t.Year(); y < 1 || y > 9999 {
		// Python's datetime cannot hold it in UTC either.
		return bad("outside years 1-9999 in UTC")
	}
	return t, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// strandsTimes formats a record's two timestamps, refusing instants Python's
// datetime cannot hold.
func strandsTimes(created, updated time.Time) (string, string, error) {
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"created_at", created}, {"updated_at", updated}} {
		if y := f.t.UTC().Year(); y < 1 || y > 9999 {
			return "", "", InvalidArgument(f.name, "year %d is outside 1-9999", y)
		}
	}
	return FormatPythonTime(created), FormatPythonTime(updated), nil
}

func parseStrandsTimes(doc map[string]any) (created, updated time.Time, err error) {
	if created, err = timeField(doc, "created_at"); err != nil {
		return
	}
	updated, err = timeField(doc, "updated_at")
	return
}

// timeField reads an optional timestamp: missing or null is the zero time.
func timeField(doc map[string]any, field string) (time.Time, error) {
	v := doc[field]
	if v == nil {
		return time.Time{}, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, InvalidArgument(field, "is %s, not a string", jsonKind(v))
	}
	t, err := ParsePythonTime(s)
	if err != nil {
		return time.Time{}, InvalidArgument(field, "%q is not an ISO 8601 time", s)
	}
	return t, nil
}

func decodeStrandsObject(what string, data []byte) (map[string]any, error) {
	v, err := UnmarshalValueJSON(data)
	if err != nil {
		return nil, fmt.Errorf("strands %s: %w", what, err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, InvalidArgument(what, "is %s, not an object", jsonKind(v))
	}
	return doc, nil
}

func requiredString(doc map[string]any, field string) (string, error) {
	v, ok := doc[field]
	if !ok {
		return "", InvalidArgument(field, "is missing")
	}
	s, ok := v.(string)
	if !ok {
		return "", InvalidArgument(field, "is %s, not a string", jsonKind(v))
	}
	return s, nil
}

// objectField reads a dict field. An optional field that is missing is {}.
func objectField(doc map[string]any, field string, required bool) (map[string]any, error) {
	v, ok := doc[field]
	if !ok {
		if required {
			return nil, InvalidArgument(field, "is missing")
		}
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, InvalidArgument(field, "is %s, not an object", jsonKind(v))
	}
	return m, nil
}

// chatFromStrands converts a decoded Strands Message dict, validating it as
// PrepareMessage would. A null metadata is taken as absent.
func chatFromStrands(field string, v any) (session.ChatMessage, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return session.ChatMessage{}, InvalidArgument(field, "is %s, not an object", jsonKind(v))
	}
	if md, has := m["metadata"]; has {
		switch md.(type) {
		case nil:
			delete(m, "metadata")
		case map[string]any:
		default:
			return session.ChatMessage{}, InvalidArgument(field+".metadata", "is %s, not an object", jsonKind(md))
		}
	}
	if _, ok := m["role"].(string); !ok {
		return session.ChatMessage{}, InvalidArgument(field+".role", "is missing or not a string")
	}
	c, err := session.ChatMessageFromMap(m)
	if err != nil {
		return session.ChatMessage{}, fmt.Errorf("%s: %w", field, err)
	}
	return prepareChat(field, c)
}

// normalizeObject normalizes a record's dict field; nil becomes {}.
func normalizeObject(field string, m map[string]any) (map[string]any, error) {
	n, err := NormalizeMap(field, m)
	if err != nil {
		return nil, err
	}
	if n == nil {
		n = map[string]any{}
	}
	return n, nil
}

// jsonKind names the JSON type of a canonical value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case string:
		return "a string"
	case []byte:
		return "bytes"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// shape is the key order Strands writes a known dict in, and the shapes of
// the dicts nested in it. A nil shape is a free-form dict: sorted keys.
type shape struct {
	// first lists the keys written first, in this order, when present;
	// the other keys follow sorted.
	first []string
	// firstFor, when set, chooses first from the dict itself.
	firstFor func(m map[string]any) []string
	// fields is the shape of the value under a key.
	fields map[string]*shape
	// values is the shape of every value not in fields (a dict of records).
	values *shape
	// elems is the shape of each element of a list value.
	elems *shape
}

func (sh *shape) field(k string) *shape {
	if sh == nil {
		return nil
	}
	if f, ok := sh.fields[k]; ok {
		return f
	}
	return sh.values
}

func (sh *shape) elem() *shape {
	if sh == nil {
		return nil
	}
	return sh.elems
}

// order returns m's keys in the order Strands writes them.
func (sh *shape) order(m map[string]any) []string {
	var first []string
	if sh != nil {
		first = sh.first
		if sh.firstFor != nil {
			first = sh.firstFor(m)
		}
	}
	keys := make([]string, 0, len(m))
	for _, k := range first {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	rest := make([]string, 0, len(m)-len(keys))
	for k := range m {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// The shapes of the records and of the dicts inside them whose key order
// the Strands SDK fixes. Sources: types/session.py (records), the
// conversation managers' get_state, interrupt.py, and the event loop's
// message, tool-use and usage dicts.
var (
	sessionRecordShape = &shape{first: []string{"session_id", "session_type", "created_at", "updated_at"}}
	agentRecordShape   = &shape{first: []string{"agent_id", "state", "conversation_manager_state", "_internal_state", "created_at", "updated_at"}}
	messageRecordShape = &shape{first: []string{"message", "message_id", "redact_message", "created_at", "updated_at"}}
	messageShape       = &shape{first: []string{"role", "content", "metadata"}}
	contentBlockShape  = &shape{}
	toolResultShape    = &shape{first: []string{"toolUseId", "status", "content"}}
)

func init() {
	// Built here because the shapes refer to each other (a toolResult holds
	// content blocks, which may hold toolResults).
	contentList := &shape{elems: contentBlockShape}
	messageShape.fields = map[string]*shape{
		"content": contentList,
		"metadata": {first: []string{"usage", "metrics"}, fields: map[string]*shape{
			"usage":   {first: []string{"inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens", "cacheWriteInputTokens"}},
			"metrics": {first: []string{"latencyMs", "timeToFirstByteMs"}},
		}},
	}
	toolResultShape.fields = map[string]*shape{"content": contentList}
	source := &shape{first: []string{"bytes"}}
	media := &shape{first: []string{"format", "name", "source"}, fields: map[string]*shape{"source": source}}
	contentBlockShape.fields = map[string]*shape{
		"toolUse":    {first: []string{"toolUseId", "name", "input"}},
		"toolResult": toolResultShape,
		"image":      media,
		"document":   media,
		"video":      media,
		"reasoningContent": {first: []string{"reasoningText", "redactedContent"}, fields: map[string]*shape{
			"reasoningText": {first: []string{"text", "signature"}},
		}},
	}

	interruptState := &shape{first: []string{"interrupts", "context", "activated"}, fields: map[string]*shape{
		"interrupts": {values: &shape{first: []string{"id", "name", "reason", "response"}}},
		"context": {first: []string{"tool_use_message", "tool_results", "responses"}, fields: map[string]*shape{
			"tool_use_message": messageShape,
			"tool_results":     {elems: toolResultShape},
			"responses": {elems: &shape{fields: map[string]*shape{
				"interruptResponse": {first: []string{"interruptId", "response"}},
			}}},
		}},
	}}
	agentRecordShape.fields = map[string]*shape{
		"conversation_manager_state": {
			firstFor: func(m map[string]any) []string {
				if m["__name__"] == "SummarizingConversationManager" {
					return []string{"summary_message", "__name__", "removed_message_count"}
				}
				return []string{"__name__", "removed_message_count", "model_call_count"}
			},
			fields: map[string]*shape{"summary_message": messageShape},
		},
		"_internal_state": {first: []string{"interrupt_state", "model_state"}, fields: map[string]*shape{
			"interrupt_state": interruptState,
		}},
	}
	messageRecordShape.fields = map[string]*shape{"message": messageShape, "redact_message": messageShape}
}

// encodeStrands writes a canonical value as Python's json.dump(indent=2,
// ensure_ascii=False) does, ordering dict keys by sh.
func encodeStrands(v any, sh *shape) []byte {
	var buf bytes.Buffer
	writeShaped(&buf, v, sh, 0)
	return buf.Bytes()
}

func writeShaped(buf *bytes.Buffer, v any, sh *shape, level int) {
	switch x := v.(type) {
	case []byte:
		writeShaped(buf, map[string]any{
			bytesEncodedKey: true,
			"data":          base64.StdEncoding.EncodeToString(x),
		}, bytesShape, level)
	case session.ContentBlock:
		writeShaped(buf, map[string]any(x), sh, level)
	case []any:
		if len(x) == 0 {
			buf.WriteString("[]")
			return
		}
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			newline(buf, strandsIndent, level+1)
			writeShaped(buf, e, sh.elem(), level+1)
		}
		newline(buf, strandsIndent, level)
		buf.WriteByte(']')
	case map[string]any:
		if len(x) == 0 {
			buf.WriteString("{}")
			return
		}
		buf.WriteByte('{')
		for i, k := range sh.order(x) {
			if i > 0 {
				buf.WriteByte(',')
			}
			newline(buf, strandsIndent, level+1)
			writeJSONString(buf, k)
			buf.WriteString(": ")
			writeShaped(buf, x[k], sh.field(k), level+1)
		}
		newline(buf, strandsIndent, level)
		buf.WriteByte('}')
	default:
		writeJSON(buf, v, strandsIndent, level)
	}
}
