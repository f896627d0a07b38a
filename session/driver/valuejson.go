package driver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sessionkit/sessionkit/session"
)

// MarshalValueJSON encodes a canonical value (see Normalize) as compact JSON
// the way the Strands SDK does: []byte values become
// {"__bytes_encoded__": true, "data": "<standard base64>"}, floats keep a
// fraction or exponent as Python writes them (1.0, 1e+16), ints stay ints,
// and nothing is HTML- or U+2028-escaped. Map keys are sorted. Values that
// are not canonical are normalized first.
func MarshalValueJSON(v any) ([]byte, error) {
	n, err := Normalize("value", v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	writeJSON(&buf, n, "", 0)
	return buf.Bytes(), nil
}

// UnmarshalValueJSON decodes JSON into a canonical value, turning
// {"__bytes_encoded__": true, "data": ...} objects back into []byte and
// keeping integers (int64) distinct from floats (float64). Text that would
// decode lossily (see CheckJSONText) is rejected.
func UnmarshalValueJSON(data []byte) (any, error) {
	if err := CheckJSONText(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, InvalidArgument("json", "%v", err)
	}
	if dec.More() {
		return nil, InvalidArgument("json", "trailing data after value")
	}
	n, err := Normalize("json", raw)
	if err != nil {
		return nil, err
	}
	return decodeBytesValues(n)
}

// bytesEncodedKey marks an object that stands for a []byte value.
const bytesEncodedKey = "__bytes_encoded__"

// bytesShape is the key order of a bytes-encoded object.
var bytesShape = &shape{first: []string{bytesEncodedKey, "data"}}

// decodeBytesValues replaces every {"__bytes_encoded__": true, "data": s}
// object with the bytes s encodes, as Strands' decode_bytes_values does.
func decodeBytesValues(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if enc, ok := x[bytesEncodedKey].(bool); ok && enc {
			if data, has := x["data"]; has {
				s, ok := data.(string)
				if !ok {
					return nil, InvalidArgument(bytesEncodedKey, "data is %T, not a string", data)
				}
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return nil, InvalidArgument(bytesEncodedKey, "data is not base64: %v", err)
				}
				if b == nil {
					b = []byte{} // canonical empty bytes, as Normalize makes them
				}
				return b, nil
			}
		}
		for k, e := range x {
			d, err := decodeBytesValues(e)
			if err != nil {
				return nil, err
			}
			x[k] = d
		}
		return x, nil
	case []any:
		for i, e := range x {
			d, err := decodeBytesValues(e)
			if err != nil {
				return nil, err
			}
			x[i] = d
		}
		return x, nil
	}
	return v, nil
}

// writeJSON writes a canonical value. With a non-empty indent it follows
// Python's json.dumps(indent=...) layout; otherwise it is compact.
func writeJSON(buf *bytes.Buffer, v any, indent string, level int) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case float64:
		buf.WriteString(PythonFloat(x))
	case string:
		writeJSONString(buf, x)
	case []byte:
		// Strands writes "__bytes_encoded__" first; sorted order agrees.
		writeJSON(buf, map[string]any{bytesEncodedKey: true, "data": base64.StdEncoding.EncodeToString(x)}, indent, level)
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
			newline(buf, indent, level+1)
			writeJSON(buf, e, indent, level+1)
		}
		newline(buf, indent, level)
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeJSONObject(buf, keys, func(k string) any { return x[k] }, indent, level)
	case session.ContentBlock:
		writeJSON(buf, map[string]any(x), indent, level)
	case orderedObject:
		keys := make([]string, len(x))
		for i, kv := range x {
			keys[i] = kv.key
		}
		writeJSONObject(buf, keys, func(k string) any { return x.get(k) }, indent, level)
	default:
		// Unreachable for canonical values; keep output valid JSON.
		writeJSONString(buf, fmt.Sprint(x))
	}
}

func writeJSONObject(buf *bytes.Buffer, keys []string, get func(string) any, indent string, level int) {
	if len(keys) == 0 {
		buf.WriteString("{}")
		return
	}
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		newline(buf, indent, level+1)
		writeJSONString(buf, k)
		buf.WriteByte(':')
		if indent != "" {
			buf.WriteByte(' ')
		}
		writeJSON(buf, get(k), indent, level+1)
	}
	newline(buf, indent, level)
	buf.WriteByte('}')
}

// orderedObject is a JSON object whose keys are written in the given order,
// used for records whose field order Strands fixes.
type orderedObject []keyValue

type keyValue struct {
	key   string
	value any
}

func (o orderedObject) get(k string) any {
	for _, kv := range o {
		if kv.key == k {
			return kv.value
		}
	}
	return nil
}

func newline(buf *bytes.Buffer, indent string, level int) {
	if indent == "" {
		return
	}
	buf.WriteByte('\n')
	for range level {
		buf.WriteString(indent)
	}
}

// writeJSONString escapes as Python's json.dumps(ensure_ascii=False): only
// the quote, the backslash and characters below U+0020.
func writeJSONString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		case '\t':
			buf.WriteString(`\t`)
		case '\b':
			buf.WriteString(`\b`)
		case '\f':
			buf.WriteString(`\f`)
		default:
			if c < 0x20 {
				buf.WriteString(`\u00`)
				buf.WriteByte(hex[c>>4])
				buf.WriteByte(hex[c&0xf])
			} else {
				buf.WriteByte(c)
			}
		}
	}
	buf.WriteByte('"')
}

// PythonFloat formats f as Python's repr(float) does: the shortest digits
// that round-trip, a ".0" on integral values, and exponent notation (with a
// sign and at least two digits) below 1e-4 or from 1e16 on.
func PythonFloat(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 1) {
		return "Infinity"
	}
	if math.IsInf(f, -1) {
		return "-Infinity"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		return mant + "e" + expText[:1] + fmt.Sprintf("%02d", abs(exp))
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
