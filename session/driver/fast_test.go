package driver

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// TestNormalizeFast_MatchesNormalize: where the path-free pass accepts a
// value its result is normalize's, it never accepts what normalize
// rejects, and it leaves the input unchanged and unshared.
func TestNormalizeFast_MatchesNormalize(t *testing.T) {
	t.Parallel()
	type named struct{ A int }
	cases := []struct {
		name     string
		v        any
		wantFast bool // whether the fast pass is expected to handle it
	}{
		{"nil", nil, true},
		{"bool", true, true},
		{"string", "héllo", true},
		{"bad utf8", string([]byte{0xff}), false},
		{"int", 7, true},
		{"int64", int64(-3), true},
		{"int32", int32(3), false},
		{"float", 1.5, true},
		{"NaN", math.NaN(), false},
		{"Inf", math.Inf(1), false},
		{"json number", json.Number("12"), false},
		{"bytes", []byte("ab"), true},
		{"empty bytes", []byte{}, true},
		{"nil map", map[string]any(nil), true},
		{"nil list", []any(nil), true},
		{"tool input", map[string]any{"query": "q", "limit": 5, "deep": map[string]any{"x": []any{1, "a", 2.5, nil}}}, true},
		{"block", session.ContentBlock{"text": "t"}, true},
		{"nested block", map[string]any{"b": session.ContentBlock{"text": "t"}}, true},
		{"bad key", map[string]any{string([]byte{0xff}): 1}, false},
		{"bad nested string", map[string]any{"a": []any{"ok", string([]byte{0xfe})}}, false},
		{"nested NaN", map[string]any{"a": map[string]any{"f": math.NaN()}}, false},
		{"struct", named{A: 1}, false},
		{"nested struct", map[string]any{"s": named{A: 1}}, false},
		{"typed slice", []string{"a"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fast, ok := normalizeFast(tc.v, 0)
			assert.Equal(t, tc.wantFast, ok)
			slow, err := normalize(&valuePath{key: "v"}, tc.v, 0)
			if ok {
				require.NoError(t, err)
				assert.Equal(t, slow, fast)
			}
			// Either path, the entry point gives normalize's answer.
			got, gotErr := normalizeValue("v", tc.v)
			if err != nil {
				require.Error(t, gotErr)
				assert.Equal(t, err.Error(), gotErr.Error())
				return
			}
			require.NoError(t, gotErr)
			assert.Equal(t, slow, got)
		})
	}
}

// TestNormalizeFast_CopiesContainers: the result shares no container with
// the input, so changing the input afterwards changes nothing stored.
func TestNormalizeFast_CopiesContainers(t *testing.T) {
	t.Parallel()
	in := map[string]any{"m": map[string]any{"k": "v"}, "l": []any{"a"}, "b": []byte("x"), "s": "top"}
	out, ok := normalizeFast(in, 0)
	require.True(t, ok)
	in["m"].(map[string]any)["k"] = "changed"
	in["l"].([]any)[0] = "changed"
	in["b"].([]byte)[0] = 'y'
	in["s"] = "changed"
	assert.Equal(t, map[string]any{"m": map[string]any{"k": "v"}, "l": []any{"a"}, "b": []byte("x"), "s": "top"}, out)
}

// TestCheckNamed_ErrorNamesField: a content block that fails the path-free
// check is checked again with its path, so the error names the field.
func TestCheckNamed_ErrorNamesField(t *testing.T) {
	t.Parallel()
	bad := map[string]any{"toolResult": map[string]any{"toolUseId": "t", "content": []any{map[string]any{"text": 5}}}}
	require.Error(t, checkBlock(nil, bad))
	err := checkNamed(checkBlock, func() *valuePath { return blockPath("message", 2) }, bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "message.content[2].toolResult.content[0].text")
	assert.NoError(t, checkNamed(checkBlock, func() *valuePath { return blockPath("message", 0) }, map[string]any{"text": "ok"}))
}
