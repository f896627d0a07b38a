package driver_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

type myString string

func TestNormalize_ConvertsToCanonicalTypes(t *testing.T) {
	t.Parallel()
	s := "ptr"
	var nilPtr *int
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"bool", true, true},
		{"string", "é\u2028", "é\u2028"},
		{"bytes", []byte{1, 2}, []byte{1, 2}},
		{"nil bytes", []byte(nil), []byte{}},
		{"int", 7, int64(7)},
		{"int8", int8(-8), int64(-8)},
		{"int16", int16(16), int64(16)},
		{"int32", int32(-32), int64(-32)},
		{"int64", int64(math.MinInt64), int64(math.MinInt64)},
		{"uint", uint(5), int64(5)},
		{"uint8", uint8(255), int64(255)},
		{"uint16", uint16(65535), int64(65535)},
		{"uint32", uint32(math.MaxUint32), int64(math.MaxUint32)},
		{"uint64 max int64", uint64(math.MaxInt64), int64(math.MaxInt64)},
		{"float32", float32(0.5), 0.5},
		{"float64", 1.0, 1.0},
		{"negative zero", math.Copysign(0, -1), math.Copysign(0, -1)},
		{"json.Number int", json.Number("42"), int64(42)},
		{"json.Number negative int", json.Number("-7"), int64(-7)},
		{"json.Number float", json.Number("1.0"), 1.0},
		{"json.Number exponent", json.Number("1e3"), 1000.0},
		{"json.Number beyond int64", json.Number("9223372036854775808"), 9223372036854775808.0},
		{"[]any", []any{1, "a", nil}, []any{int64(1), "a", nil}},
		{"typed slice", []string{"a", "b"}, []any{"a", "b"}},
		{"nil typed slice", []int(nil), []any{}},
		{"array", [2]int{1, 2}, []any{int64(1), int64(2)}},
		{"map[string]any", map[string]any{"a": 1}, map[string]any{"a": int64(1)}},
		{"typed map", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{"named string key map", map[myString]bool{"k": true}, map[string]any{"k": true}},
		{"content block", session.ContentBlock{"text": "hi"}, map[string]any{"text": "hi"}},
		{"pointer", &s, "ptr"},
		{"nil pointer", nilPtr, nil},
		{"named string", myString("x"), "x"},
		{"nested", map[string]any{"a": []any{map[string]any{"b": []byte("x")}}},
			map[string]any{"a": []any{map[string]any{"b": []byte("x")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := driver.Normalize("v", tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			if f, ok := tt.want.(float64); ok {
				assert.Equal(t, math.Signbit(f), math.Signbit(got.(float64)))
			}
		})
	}
}

func TestNormalize_RejectsWithPath(t *testing.T) {
	t.Parallel()
	deep := any("leaf")
	for range 250 {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		in   any
		path string
	}{
		{"NaN", math.NaN(), "v"},
		{"+Inf", math.Inf(1), "v"},
		{"-Inf in list", []any{1, math.Inf(-1)}, "v[1]"},
		{"float32 NaN", float32(math.NaN()), "v"},
		{"uint64 overflow", uint64(math.MaxInt64) + 1, "v"},
		{"uint overflow in map", map[string]any{"n": uint(math.MaxUint)}, "v.n"},
		{"struct", struct{ A int }{1}, "v"},
		{"channel", map[string]any{"a": []any{make(chan int)}}, "v.a[0]"},
		{"func", func() {}, "v"},
		{"complex", complex(1, 2), "v"},
		{"int keys", map[int]string{1: "a"}, "v"},
		{"invalid UTF-8 string", map[string]any{"s": "\xff"}, "v.s"},
		{"invalid UTF-8 key", map[string]any{"\xff": 1}, "v"},
		{"bad json.Number", json.Number("1x"), "v"},
		{"json.Number overflow to Inf", json.Number("1e400"), "v"},
		{"too deep", deep, "v[0][0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.Normalize("v", tt.in)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.path)
		})
	}
}

func TestNormalize_DepthLimitBoundary(t *testing.T) {
	t.Parallel()
	nest := func(n int) any {
		v := any(int64(1))
		for range n {
			v = []any{v}
		}
		return v
	}
	_, err := driver.Normalize("v", nest(200))
	require.NoError(t, err)
	_, err = driver.Normalize("v", nest(202))
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "deeper")
}

func TestNormalize_SharesNothingWithInput(t *testing.T) {
	t.Parallel()
	b := []byte("abc")
	in := map[string]any{"b": b, "l": []any{"x"}, "m": map[string]any{"k": 1}}
	out, err := driver.NormalizeMap("v", in)
	require.NoError(t, err)
	b[0] = 'X'
	in["l"].([]any)[0] = "changed"
	in["m"].(map[string]any)["k"] = 2
	assert.Equal(t, map[string]any{"b": []byte("abc"), "l": []any{"x"}, "m": map[string]any{"k": int64(1)}}, out)

	nilMap, err := driver.NormalizeMap("v", nil)
	require.NoError(t, err)
	assert.Nil(t, nilMap)
}

func TestCloneValue_IsIndependent(t *testing.T) {
	t.Parallel()
	orig := map[string]any{
		"b": []byte("abc"),
		"l": []any{map[string]any{"x": int64(1)}, []byte{}},
		"c": session.ContentBlock{"text": "t"},
	}
	c := driver.CloneValue(orig).(map[string]any)
	require.Equal(t, orig, c)
	c["b"].([]byte)[0] = 'X'
	c["l"].([]any)[0].(map[string]any)["x"] = int64(2)
	c["c"].(session.ContentBlock)["text"] = "u"
	assert.Equal(t, []byte("abc"), orig["b"])
	assert.Equal(t, int64(1), orig["l"].([]any)[0].(map[string]any)["x"])
	assert.Equal(t, "t", orig["c"].(session.ContentBlock)["text"])
	assert.NotNil(t, c["l"].([]any)[1], "empty bytes stay non-nil")
	assert.Nil(t, driver.CloneMap(nil))
	assert.Equal(t, "scalar", driver.CloneValue("scalar"))
}

func TestValueSize_GrowsWithContent(t *testing.T) {
	t.Parallel()
	small := driver.ValueSize(map[string]any{"k": "v"})
	big := driver.ValueSize(map[string]any{"k": strings.Repeat("v", 1000)})
	assert.Greater(t, big-small, 990)
	assert.GreaterOrEqual(t, driver.ValueSize([]byte("12345")), 5)
	assert.Greater(t, driver.ValueSize([]any{[]any{"a"}, "b"}), driver.ValueSize([]any{"b"}))
}
