package mongo

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/session"
)

// escapePrefix marks a free-form map key that was escaped because MongoDB-wire
// servers may reject it as a field name (FerretDB rejects every key that
// contains "." or starts with "$"; MongoDB before 5.0 did too). The escaped
// form is escapePrefix followed by the key with "%", "." and "$"
// percent-encoded. Keys that need no escaping are stored verbatim, so
// documents stay readable by the Python original; a key that itself starts
// with escapePrefix is escaped too, which keeps the mapping reversible.
// U+FFF0 is an unassigned code point in the Specials block: it does not occur
// in real tool inputs or JSON schemas.
const escapePrefix = "\uFFF0"

// escapeKey returns the stored form of a free-form map key.
func escapeKey(k string) string {
	if !strings.Contains(k, ".") && !strings.HasPrefix(k, "$") && !strings.HasPrefix(k, escapePrefix) {
		return k
	}
	var b strings.Builder
	b.WriteString(escapePrefix)
	for i := 0; i < len(k); i++ {
		switch c := k[i]; c {
		case '%', '.', '$':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeKey reverses escapeKey.
func unescapeKey(k string) string {
	rest, ok := strings.CutPrefix(k, escapePrefix)
	if !ok {
		return k
	}
	out, err := url.PathUnescape(rest)
	if err != nil {
		return k
	}
	return out
}

// toBSON converts a canonical value (see driver.Normalize) to its BSON form:
// maps become bson.D with sorted (and, where needed, escaped) keys so that equal
// maps encode to equal bytes, []byte becomes binary subtype 0 as PyMongo
// writes it, ints int64, floats double.
func toBSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return mapToD(x)
	case session.ContentBlock:
		return mapToD(x)
	case []any:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = toBSON(e)
		}
		return out
	case []byte:
		return bson.Binary{Subtype: 0, Data: append([]byte(nil), x...)}
	case int:
		return int64(x)
	}
	return v
}

// mapToD converts a free-form map to a bson.D with sorted, escaped keys. A nil
// map becomes an empty document.
func mapToD(m map[string]any) bson.D {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d := make(bson.D, 0, len(keys))
	for _, k := range keys {
		d = append(d, bson.E{Key: escapeKey(k), Value: toBSON(m[k])})
	}
	return d
}

// fromBSON converts a decoded BSON value to its canonical form:
//   - int32 and int64 become int64, double float64, decimal128 its string;
//   - binary becomes []byte (whatever the subtype);
//   - null and undefined become nil;
//   - a date inside free-form data becomes its RFC 3339 string in UTC with
//     millisecond precision ("2026-03-23T10:00:00.123Z"), which is what the
//     Strands SDK would have written had the value gone through JSON;
//   - an ObjectID becomes its hex string, a timestamp its seconds (int64);
//   - documents become map[string]any (keys unescaped), arrays []any.
func fromBSON(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bson.D:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[unescapeKey(e.Key)] = fromBSON(e.Value)
		}
		return m
	case bson.M:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[unescapeKey(k)] = fromBSON(e)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[unescapeKey(k)] = fromBSON(e)
		}
		return m
	case bson.A:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromBSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromBSON(e)
		}
		return out
	case int32:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return x
	case string, bool:
		return x
	case bson.Binary:
		return append([]byte{}, x.Data...)
	case []byte:
		return append([]byte{}, x...)
	case bson.DateTime:
		return x.Time().UTC().Format(dateLayout)
	case time.Time:
		return x.UTC().Format(dateLayout)
	case bson.Decimal128:
		return x.String()
	case bson.ObjectID:
		return x.Hex()
	case bson.Timestamp:
		return int64(x.T)
	case bson.Null, bson.Undefined:
		return nil
	case bson.Regex:
		return x.Pattern
	case bson.Symbol:
		return string(x)
	case bson.JavaScript:
		return string(x)
	}
	return fmt.Sprint(v)
}

// dateLayout is how a BSON date found inside free-form data is presented.
const dateLayout = "2006-01-02T15:04:05.000Z07:00"

// fromBSONMap converts a decoded document to a canonical map; anything that
// is not a document gives nil.
func fromBSONMap(v any) map[string]any {
	m, _ := fromBSON(v).(map[string]any)
	return m
}

// docOf returns v as a bson.D (nil when it is not a document).
func docOf(v any) bson.D {
	d, _ := v.(bson.D)
	return d
}

// field returns the value of key in d, and whether it is present.
func field(d bson.D, key string) (any, bool) {
	for _, e := range d {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// path walks d along the given keys; a numeric key indexes an array.
func path(d bson.D, keys ...string) (any, bool) {
	var cur any = d
	for _, k := range keys {
		switch x := cur.(type) {
		case bson.D:
			var ok bool
			if cur, ok = field(x, k); !ok {
				return nil, false
			}
		case bson.A:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// str returns a string field of d ("" when absent or not a string).
func str(d bson.D, key string) string {
	v, _ := field(d, key)
	s, _ := v.(string)
	return s
}

// integer returns an integer field of d: int32, int64 and integral doubles
// are accepted, as PyMongo writes int32 and other writers may write doubles.
func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return int64(x), true
		}
	}
	return 0, false
}

// number returns a numeric value as float64.
func number(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// timeOf returns a BSON date (or an ISO string, as older SDK versions wrote
// agent timestamps) as a UTC time; the zero time when absent or unparsable.
func timeOf(v any) time.Time {
	switch x := v.(type) {
	case bson.DateTime:
		return x.Time().UTC()
	case time.Time:
		return x.UTC()
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}

// bsonTime is t as stored: a BSON date, which has millisecond precision.
func bsonTime(t time.Time) bson.DateTime {
	return bson.NewDateTimeFromTime(t)
}

// msTime truncates t to what a BSON date keeps.
func msTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}
