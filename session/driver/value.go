package driver

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
)

// Normalize converts a free-form value (state, metadata, content-block field,
// tool input) into its canonical form, the only form repositories store and
// return:
//
//	nil, bool, string, []byte, int64, float64, []any, map[string]any
//
// Other Go integers become int64 (an unsigned value above MaxInt64 is
// rejected), float32 becomes float64, json.Number becomes int64 when it is an
// integer literal and float64 otherwise, and any slice or string-keyed map is
// converted element by element. Integers and floats stay distinct, as Python
// keeps 1 and 1.0 distinct. Strings must be valid UTF-8; floats must be
// finite (JSON has no NaN). Anything else (structs, channels, functions,
// complex numbers, maps with non-string keys) is ErrInvalidArgument naming
// path. The result shares nothing with v.
func Normalize(path string, v any) (any, error) {
	return normalizeValue(path, v)
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

// normalizeValue normalizes v found at path: by normalizeFast when it can,
// else by normalize, which handles every type and names the path of what
// it rejects.
func normalizeValue(path string, v any) (any, error) {
	if n, ok := normalizeFast(v, 0); ok {
		return n, nil
	}
	return normalize(&valuePath{key: path}, v, 0)
}

// normalizeFast is normalize for the types messages and states usually
// hold, without tracking the path. normalize recurses with a pointer to
// its parent's path, which escape analysis cannot keep on the stack, so
// tracking costs a heap allocation per map key and list item even when
// nothing is wrong. ok is false for anything normalizeFast does not handle
// or finds invalid; its result is then dropped and normalize runs from the
// top. Where it returns ok, the result is normalize's.
func normalizeFast(v any, depth int) (any, bool) {
	if depth > maxDepth {
		return nil, false
	}
	switch x := v.(type) {
	case nil:
		return nil, true
	case bool, int64:
		return v, true // v, not x: no second boxing of the value
	case string:
		return v, utf8.ValidString(x)
	case int:
		return int64(x), true
	case float64:
		return v, !math.IsNaN(x) && !math.IsInf(x, 0)
	case []byte:
		out := make([]byte, len(x))
		copy(out, x)
		return out, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, ok := normalizeFast(e, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	case map[string]any:
		if x == nil {
			return map[string]any{}, true
		}
		// maps.Clone copies the table in bulk, cheaper than inserting
		// every key again; only values that normalize to something else
		// (containers, which get their own copies, and converted
		// numbers) are written back.
		out := maps.Clone(x)
		for k, e := range out {
			if !utf8.ValidString(k) {
				return nil, false
			}
			switch y := e.(type) {
			case nil, bool, int64:
				continue
			case string:
				if !utf8.ValidString(y) {
					return nil, false
				}
				continue
			case float64:
				if math.IsNaN(y) || math.IsInf(y, 0) {
					return nil, false
				}
				continue
			}
			n, ok := normalizeFast(e, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = n
		}
		return out, true
	case session.ContentBlock:
		return normalizeFast(map[string]any(x), depth)
	}
	return nil, false
}

func normalize(path *valuePath, v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, InvalidArgument(path.String(), "nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, InvalidArgument(path.String(), "string is not valid UTF-8")
		}
		return x, nil
	case []byte:
		// Never nil: an empty []byte stays distinguishable from null.
		out := make([]byte, len(x))
		copy(out, x)
		return out, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, InvalidArgument(path.String(), "integer %d overflows int64", x)
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, InvalidArgument(path.String(), "integer %d overflows int64", x)
		}
		return int64(x), nil
	case float32:
		return normalizeFloat(path, float64(x))
	case float64:
		return normalizeFloat(path, x)
	case json.Number:
		return normalizeNumber(path, string(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(&valuePath{parent: path, index: i, isIndex: true}, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, InvalidArgument(path.String(), "key is not valid UTF-8")
			}
			n, err := normalize(&valuePath{parent: path, key: k}, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case session.ContentBlock:
		return normalize(path, map[string]any(x), depth)
	}
	return normalizeReflect(path, v, depth)
}

func normalizeReflect(path *valuePath, v any, depth int) (any, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return normalize(path, rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return []any{}, nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			n, err := normalize(&valuePath{parent: path, index: i, isIndex: true}, rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, InvalidArgument(path.String(), "map keys must be strings, not %s", rv.Type().Key())
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k := it.Key().String()
			if !utf8.ValidString(k) {
				return nil, InvalidArgument(path.String(), "key is not valid UTF-8")
			}
			n, err := normalize(&valuePath{parent: path, key: k}, it.Value().Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case reflect.String:
		return normalize(path, rv.String(), depth)
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() > math.MaxInt64 {
			return nil, InvalidArgument(path.String(), "integer %d overflows int64", rv.Uint())
		}
		return int64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return normalizeFloat(path, rv.Float())
	}
	return nil, InvalidArgument(path.String(), "cannot store a value of type %T", v)
}

func normalizeFloat(path *valuePath, f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, InvalidArgument(path.String(), "float %v cannot be encoded", f)
	}
	return f, nil
}

func normalizeNumber(path *valuePath, s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, InvalidArgument(path.String(), "bad number %q", s)
	}
	return normalizeFloat(path, f)
}

// NormalizeMap is Normalize for a map; a nil map stays nil.
func NormalizeMap(path string, m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	n, err := normalizeValue(path, m)
	if err != nil {
		return nil, err
	}
	return n.(map[string]any), nil
}

// CloneValue deep-copies a canonical value: containers are copied, scalars
// returned as they are.
func CloneValue(v any) any {
	// The copy lives in package session, whose records' Clone methods use
	// it; a single-entry block reaches it for any value.
	return session.ContentBlock{"v": v}.Clone()["v"]
}

// CloneMap deep-copies a canonical map; nil stays nil.
func CloneMap(m map[string]any) map[string]any {
	return session.ContentBlock(m).Clone()
}

// ValueSize estimates the encoded size in bytes of a canonical value. Backends
// use it to enforce size limits before writing.
func ValueSize(v any) int {
	switch x := v.(type) {
	case nil, bool:
		return 5
	case int64, float64:
		return 8
	case string:
		return len(x) + 2
	case []byte:
		return len(x) + 5
	case []any:
		n := 5
		for _, e := range x {
			n += 8 + ValueSize(e)
		}
		return n
	case map[string]any:
		n := 5
		for k, e := range x {
			n += len(k) + 2 + ValueSize(e)
		}
		return n
	case session.ContentBlock:
		return ValueSize(map[string]any(x))
	}
	return len(fmt.Sprint(v))
}

// valuePath locates a value inside a nested structure for error messages.
// It is built as normalize descends and turned into text only when an error
// is reported, so valid input costs no string building.
type valuePath struct {
	parent  *valuePath
	key     string
	index   int
	isIndex bool
}

// String renders the path as "root.key[3].child".
func (p *valuePath) String() string {
	if p == nil {
		return ""
	}
	if p.parent == nil {
		return p.key
	}
	if p.isIndex {
		return p.parent.String() + "[" + strconv.Itoa(p.index) + "]"
	}
	return p.parent.String() + "." + p.key
}

// SameValue reports whether canonical values x and y (see Normalize) are
// deeply equal, as reflect.DeepEqual does (nil and empty containers
// differ), without reflection, for checks that run on every write (the
// session manager's sync, a repository keeping a stored map that an update
// repeats). A map is equal to itself at once. Since types must match
// exactly, a value equal to a canonical one is canonical itself.
// Non-canonical values fall back to reflect.DeepEqual.
func SameValue(x, y any) bool {
	switch a := x.(type) {
	case nil:
		return y == nil
	case bool, string, int64:
		return x == y
	case float64:
		b, ok := y.(float64)
		return ok && a == b
	case []byte:
		b, ok := y.([]byte)
		return ok && (a == nil) == (b == nil) && string(a) == string(b)
	case []any:
		b, ok := y.([]any)
		if !ok || (a == nil) != (b == nil) || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !SameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := y.(map[string]any)
		if !ok || (a == nil) != (b == nil) || len(a) != len(b) {
			return false
		}
		if len(a) > 0 && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() {
			return true
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !SameValue(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(x, y)
}
