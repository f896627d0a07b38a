package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// MetadataToolName is the name of the agent tool, as in the Python original.
const MetadataToolName = "manage_metadata"

// DefaultMaxUpdateBytes caps a manage_metadata update payload when
// MetadataToolOptions.MaxUpdateBytes is zero.
const DefaultMaxUpdateBytes = 32 << 10

// MetadataToolOptions restricts what the model may do with the session's
// metadata, beyond the original tool which exposes everything.
type MetadataToolOptions struct {
	// ReadableKeys, when non-nil, is the allow-list of keys the model may
	// see. Other keys are invisible to it: they are never returned, and it
	// can neither set nor delete them.
	ReadableKeys []string
	// ReadOnlyKeys are keys the model may see but not set or delete.
	ReadOnlyKeys []string
	// MaxUpdateBytes caps the JSON size of one set/update payload. Zero
	// means DefaultMaxUpdateBytes; negative means no cap.
	MaxUpdateBytes int
}

// ToolSpec is an agent tool's specification: what a model is told about it.
type ToolSpec struct {
	Name        string
	Description string
	// InputSchema is the tool's input JSON schema.
	InputSchema map[string]any
}

// MetadataTool is the manage_metadata agent tool over a Manager: get,
// set/update and delete of session metadata, with the Python original's
// name, input schema and result strings. It goes through the manager's
// hooked methods. It is safe for concurrent use.
type MetadataTool struct {
	m        *Manager
	readable map[string]bool // nil: every key
	readOnly map[string]bool
	maxBytes int
}

// MetadataTool returns the manage_metadata tool of the session.
func (m *Manager) MetadataTool(opts MetadataToolOptions) *MetadataTool {
	t := &MetadataTool{m: m, readOnly: map[string]bool{}, maxBytes: opts.MaxUpdateBytes}
	if t.maxBytes == 0 {
		t.maxBytes = DefaultMaxUpdateBytes
	}
	if opts.ReadableKeys != nil {
		t.readable = map[string]bool{}
		for _, k := range opts.ReadableKeys {
			t.readable[k] = true
		}
	}
	for _, k := range opts.ReadOnlyKeys {
		t.readOnly[k] = true
	}
	return t
}

// Spec returns the tool's name, description and input schema, identical to
// the Python original's.
func (t *MetadataTool) Spec() ToolSpec {
	return ToolSpec{
		Name:        MetadataToolName,
		Description: "Manage session metadata with get, set/update, or delete operations.",
		InputSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"action":   map[string]any{"type": "string"},
				"metadata": map[string]any{"type": "object"},
				"keys":     map[string]any{"type": "array"},
			},
			"required": []any{"action"},
		},
	}
}

// Invoke runs the tool. input is the tool-use input: a map[string]any, or
// its JSON text as json.RawMessage, []byte or string. metadata may be a JSON
// object string and keys a JSON array string, as models often send them.
// Invoke never panics and never returns an error: failures come back as the
// original's "Error: ..." and "Error managing metadata: ..." strings, which
// the model reads.
func (t *MetadataTool) Invoke(ctx context.Context, input any) (result string) {
	defer func() {
		if r := recover(); r != nil {
			result = fmt.Sprintf("Error managing metadata: internal error: %v", r)
		}
	}()
	args, order, err := toolArgs(input)
	if err != nil {
		return "Error managing metadata: " + err.Error()
	}
	action, ok := args["action"].(string)
	if !ok {
		if args["action"] == nil {
			return "Error managing metadata: action is required"
		}
		return fmt.Sprintf("Error managing metadata: action must be a string, got %s", pyTypeName(args["action"]))
	}
	metadata, keyOrder, errText := parseJSONParam("metadata", args["metadata"])
	if errText != "" {
		return errText
	}
	if keyOrder == nil {
		keyOrder = order
	}
	keys, _, errText := parseJSONParam("keys", args["keys"])
	if errText != "" {
		return errText
	}
	switch strings.ToLower(action) {
	case "get":
		return t.get(ctx, keys)
	case "set", "update":
		return t.update(ctx, metadata, keyOrder)
	case "delete":
		return t.delete(ctx, keys)
	}
	return fmt.Sprintf("Error: Unknown action '%s'. Use 'get', 'set', 'update', or 'delete'", action)
}

func (t *MetadataTool) visible(k string) bool { return t.readable == nil || t.readable[k] }

func (t *MetadataTool) get(ctx context.Context, keysArg any) string {
	md, err := t.m.GetMetadata(ctx)
	if errors.Is(err, session.ErrNotFound) {
		return "No metadata found for this session"
	}
	if err != nil {
		return "Error managing metadata: " + err.Error()
	}
	shown := map[string]any{}
	for k, v := range md {
		if t.visible(k) {
			shown[k] = v
		}
	}
	if isFalsy(keysArg) {
		if len(shown) == 0 {
			return "No metadata stored in session"
		}
		return "All metadata: " + pyJSON(shown)
	}
	keys, err := keyList(keysArg)
	if err != nil {
		return "Error managing metadata: " + err.Error()
	}
	found := map[string]any{}
	for _, k := range keys {
		if v, ok := shown[k]; ok {
			found[k] = v
		}
	}
	if len(found) == 0 {
		return "No metadata found for keys: " + pyRepr(keysArg)
	}
	return "Metadata retrieved: " + pyJSON(found)
}

func (t *MetadataTool) update(ctx context.Context, metadataArg any, order []string) string {
	if isFalsy(metadataArg) {
		return "Error: metadata dictionary required for set/update action"
	}
	md, ok := metadataArg.(map[string]any)
	if !ok {
		return fmt.Sprintf("Error managing metadata: metadata must be an object, got %s", pyTypeName(metadataArg))
	}
	keys := orderedKeys(md, order)
	if denied := t.denied(keys); len(denied) > 0 {
		return "Error: metadata fields cannot be changed: " + pyRepr(toAny(denied))
	}
	if t.maxBytes > 0 {
		enc, err := driver.MarshalValueJSON(md)
		if err != nil {
			return "Error managing metadata: " + err.Error()
		}
		if len(enc) > t.maxBytes {
			return fmt.Sprintf("Error: metadata update is %d bytes, over the limit of %d bytes", len(enc), t.maxBytes)
		}
	}
	if err := t.m.UpdateMetadata(ctx, md); err != nil {
		return "Error managing metadata: " + err.Error()
	}
	return "Successfully updated metadata fields: " + pyRepr(toAny(keys))
}

func (t *MetadataTool) delete(ctx context.Context, keysArg any) string {
	if isFalsy(keysArg) {
		return "Error: keys list required for delete action"
	}
	keys, err := keyList(keysArg)
	if err != nil {
		return "Error managing metadata: " + err.Error()
	}
	if denied := t.denied(keys); len(denied) > 0 {
		return "Error: metadata fields cannot be changed: " + pyRepr(toAny(denied))
	}
	if err := t.m.DeleteMetadata(ctx, keys); err != nil {
		return "Error managing metadata: " + err.Error()
	}
	return "Successfully deleted metadata fields: " + pyRepr(keysArg)
}

// denied returns the keys the model may not change: read-only ones and,
// with an allow-list, invisible ones (reported alike, so the model learns
// nothing about hidden keys).
func (t *MetadataTool) denied(keys []string) []string {
	var out []string
	for _, k := range keys {
		if t.readOnly[k] || !t.visible(k) {
			out = append(out, k)
		}
	}
	return out
}

// toolArgs decodes the tool input into canonical values and, for JSON
// input, the order of the metadata object's keys.
func toolArgs(input any) (map[string]any, []string, error) {
	var raw []byte
	switch x := input.(type) {
	case nil:
		return map[string]any{}, nil, nil
	case map[string]any:
		n, err := driver.NormalizeMap("input", x)
		if err != nil {
			return nil, nil, err
		}
		return n, nil, nil
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	case string:
		raw = []byte(x)
	default:
		return nil, nil, fmt.Errorf("tool input is %T, not an object", input)
	}
	v, err := driver.UnmarshalValueJSON(raw)
	if err != nil {
		return nil, nil, err
	}
	args, ok := v.(map[string]any)
	if !ok {
		return nil, nil, errors.New("tool input is not a JSON object")
	}
	var order []string
	if _, isObj := args["metadata"].(map[string]any); isObj {
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) == nil {
			order = objectKeyOrder(fields["metadata"])
		}
	}
	return args, order, nil
}

// parseJSONParam is the original's _parse_json_param: a string value is
// parsed as JSON; anything else is returned as it is. The second result is
// the key order of a parsed JSON object.
func parseJSONParam(name string, v any) (any, []string, string) {
	s, ok := v.(string)
	if !ok {
		return v, nil, ""
	}
	parsed, err := driver.UnmarshalValueJSON([]byte(s))
	if err != nil {
		return nil, nil, fmt.Sprintf("Error: %s must be a valid JSON, got: %s...", name, firstRunes(s, 100))
	}
	return parsed, objectKeyOrder([]byte(s)), ""
}

// objectKeyOrder returns the top-level keys of a JSON object in the order
// they appear, or nil when raw is not an object.
func objectKeyOrder(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		k, ok := tok.(string)
		if !ok {
			return nil
		}
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return keys
}

// orderedKeys returns md's keys in JSON order when known, else sorted.
func orderedKeys(md map[string]any, order []string) []string {
	keys := make([]string, 0, len(md))
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := md[k]; ok && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range md {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// keyList turns the keys argument into metadata keys: a list of strings,
// or a single string (the original iterated it character by character).
func keyList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("keys[%d] must be a string, got %s", i, pyTypeName(e))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("keys must be a list, got %s", pyTypeName(v))
}

// isFalsy is Python truthiness for the values a tool input holds.
func isFalsy(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case int64:
		return x == 0
	case float64:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case []byte:
		return len(x) == 0
	}
	return false
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func firstRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case int64:
		return "int"
	case float64:
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case []byte:
		return "bytes"
	}
	return fmt.Sprintf("%T", v)
}

// pyRepr formats a canonical value as Python's repr() does, for the
// original's "{keys}" result strings: ['a', 'b'].
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case string:
		b.WriteString(pyQuote(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := sortedKeys(x)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyQuote(k))
			b.WriteString(": ")
			writeRepr(b, x[k])
		}
		b.WriteByte('}')
	case []byte:
		b.WriteString("b" + pyQuote(string(x)))
	default:
		b.WriteString(pyStr(v, "None"))
	}
}

// pyQuote quotes s as Python's repr(str): single quotes unless s holds a
// single quote and no double quote.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyJSON formats a canonical value as Python's json.dumps(v, default=str):
// ", " and ": " separators, non-ASCII escaped as \uXXXX. Keys are sorted
// (Go maps keep no insertion order).
func pyJSON(v any) string {
	var b strings.Builder
	writePyJSON(&b, v)
	return b.String()
}

func writePyJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(driver.PythonFloat(x))
	case string:
		writePyJSONString(b, x)
	case []byte:
		writePyJSONString(b, "b"+pyQuote(string(x)))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSONString(b, k)
			b.WriteString(": ")
			writePyJSON(b, x[k])
		}
		b.WriteByte('}')
	default:
		writePyJSONString(b, fmt.Sprint(v))
	}
}

func writePyJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || (r >= 0x7f && r < 0x10000):
				if r < 0x7f || r > 0x7f {
					fmt.Fprintf(b, `\u%04x`, r)
				} else {
					b.WriteRune(r) // DEL is ASCII: Python keeps it
				}
			case r >= 0x10000:
				r1, r2 := utf16Surrogates(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
