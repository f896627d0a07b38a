package driver_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func TestPythonFloat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string // Python 3 repr(float)
	}{
		{0.1, "0.1"},
		{1.0, "1.0"},
		{-2.0, "-2.0"},
		{0.0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1.5, "1.5"},
		{1e15, "1000000000000000.0"},
		{9999999999999998.0, "9999999999999998.0"},
		{1e16, "1e+16"},
		{1e22, "1e+22"},
		{1.5e300, "1.5e+300"},
		{123456789012345680.0, "1.2345678901234568e+17"},
		{0.0001, "0.0001"},
		{1e-5, "1e-05"},
		{1.5e-05, "1.5e-05"},
		{-1.25e-7, "-1.25e-07"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{1.0 / 3, "0.3333333333333333"},
		{123.456, "123.456"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			got := driver.PythonFloat(tt.in)
			assert.Equal(t, tt.want, got)
			if !math.IsNaN(tt.in) && !math.IsInf(tt.in, 0) {
				back, err := strconv.ParseFloat(got, 64)
				require.NoError(t, err)
				assert.Equal(t, math.Float64bits(tt.in), math.Float64bits(back), "round-trips exactly")
			}
		})
	}
}

func TestMarshalValueJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"bytes", []byte("Hello, world!"), `{"__bytes_encoded__":true,"data":"SGVsbG8sIHdvcmxkIQ=="}`},
		{"empty bytes", []byte{}, `{"__bytes_encoded__":true,"data":""}`},
		{"nested bytes", map[string]any{"l": []any{[]byte{0xff}}}, `{"l":[{"__bytes_encoded__":true,"data":"/w=="}]}`},
		{"int vs float", []any{1, 1.0, 1e16, int64(-3)}, `[1,1.0,1e+16,-3]`},
		{"sorted keys", map[string]any{"b": 1, "a": 2, "é": 3}, `{"a":2,"b":1,"é":3}`},
		{"no HTML or U+2028 escaping", "<&>\u2028\u2029", "\"<&>\u2028\u2029\""},
		{"control characters", "\x00\x1f\t\n\"\\\x7f", `"\u0000\u001f\t\n\"\\` + "\x7f\""},
		{"empty containers", map[string]any{"l": []any{}, "m": map[string]any{}}, `{"l":[],"m":{}}`},
		{"null and bools", []any{nil, true, false}, `[null,true,false]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := driver.MarshalValueJSON(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
	_, err := driver.MarshalValueJSON(map[string]any{"x": math.NaN()})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
}

func TestUnmarshalValueJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"bytes", `{"__bytes_encoded__": true, "data": "SGk="}`, []byte("Hi")},
		{"bytes, other keys dropped", `{"__bytes_encoded__": true, "data": "SGk=", "x": 1}`, []byte("Hi")},
		{"empty bytes", `{"__bytes_encoded__": true, "data": ""}`, []byte{}},
		{"nested bytes", `[{"a": {"__bytes_encoded__": true, "data": "AA=="}}]`, []any{map[string]any{"a": []byte{0}}}},
		{"marker 1 is not true", `{"__bytes_encoded__": 1, "data": "SGk="}`, map[string]any{"__bytes_encoded__": int64(1), "data": "SGk="}},
		{"marker string is not true", `{"__bytes_encoded__": "true", "data": "SGk="}`, map[string]any{"__bytes_encoded__": "true", "data": "SGk="}},
		{"marker false", `{"__bytes_encoded__": false, "data": "SGk="}`, map[string]any{"__bytes_encoded__": false, "data": "SGk="}},
		{"no data key", `{"__bytes_encoded__": true}`, map[string]any{"__bytes_encoded__": true}},
		{"ints stay ints", `[1, -0, 9223372036854775807]`, []any{int64(1), int64(0), int64(math.MaxInt64)}},
		{"floats stay floats", `[1.0, 1e16, 1.5e-05]`, []any{1.0, 1e16, 1.5e-05}},
		{"unicode escapes", `"\u2028\ud83c\udf89"`, "\u2028🎉"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := driver.UnmarshalValueJSON([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for name, bad := range map[string]string{
		"empty":             ``,
		"truncated":         `{"a":`,
		"trailing data":     `1 2`,
		"NaN":               `NaN`,
		"data not a string": `{"__bytes_encoded__": true, "data": 5}`,
		"data not base64":   `{"__bytes_encoded__": true, "data": "***"}`,
		"unpadded base64":   `{"__bytes_encoded__": true, "data": "SGk"}`,
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.UnmarshalValueJSON([]byte(bad))
			require.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func TestValueJSON_RoundTrip(t *testing.T) {
	t.Parallel()
	in := map[string]any{"b": []byte{0, 1}, "f": 2.0, "i": int64(2), "s": "\u2028", "l": []any{nil, true}}
	b, err := driver.MarshalValueJSON(in)
	require.NoError(t, err)
	out, err := driver.UnmarshalValueJSON(b)
	require.NoError(t, err)
	assert.Equal(t, in, out)
}
