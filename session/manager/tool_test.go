package manager_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session/manager"
)

func TestMetadataTool_Spec(t *testing.T) {
	t.Parallel()
	m := newManager(t, newMemory(), "s", manager.Options{})
	spec := m.MetadataTool(manager.MetadataToolOptions{}).Spec()
	assert.Equal(t, "manage_metadata", spec.Name)
	assert.Equal(t, "Manage session metadata with get, set/update, or delete operations.", spec.Description)
	b, err := json.Marshal(spec.InputSchema)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"object","properties":{"action":{"type":"string"},"metadata":{"type":"object"},"keys":{"type":"array"}},"required":["action"]}`, string(b))
}

func TestMetadataTool_OriginalBehaviour(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		seed  map[string]any
		opts  manager.MetadataToolOptions
		input any
		want  string
		after map[string]any // stored metadata afterwards, when checked
	}{
		{"get all", map[string]any{"key": "val"}, manager.MetadataToolOptions{}, map[string]any{"action": "get"}, `All metadata: {"key": "val"}`, nil},
		{"get empty", nil, manager.MetadataToolOptions{}, map[string]any{"action": "GET"}, "No metadata stored in session", nil},
		{"get keys", map[string]any{"a": 1, "b": 2}, manager.MetadataToolOptions{}, map[string]any{"action": "get", "keys": []any{"b", "zz"}}, `Metadata retrieved: {"b": 2}`, nil},
		{"get missing keys", map[string]any{"a": 1}, manager.MetadataToolOptions{}, map[string]any{"action": "get", "keys": []any{"zz"}}, "No metadata found for keys: ['zz']", nil},
		{"get escapes non-ASCII like json.dumps", map[string]any{"city": "Zürich"}, manager.MetadataToolOptions{}, map[string]any{"action": "get"}, `All metadata: {"city": "Z\u00fcrich"}`, nil},
		{"set", nil, manager.MetadataToolOptions{}, json.RawMessage(`{"action":"set","metadata":{"z":1,"a":2}}`), "Successfully updated metadata fields: ['z', 'a']", map[string]any{"z": int64(1), "a": int64(2)}},
		{"update", nil, manager.MetadataToolOptions{}, map[string]any{"action": "update", "metadata": map[string]any{"k": "v"}}, "Successfully updated metadata fields: ['k']", map[string]any{"k": "v"}},
		{"JSON-string metadata", nil, manager.MetadataToolOptions{}, map[string]any{"action": "set", "metadata": `{"key": "val", "n": 2}`}, "Successfully updated metadata fields: ['key', 'n']", map[string]any{"key": "val", "n": int64(2)}},
		{"set without metadata", nil, manager.MetadataToolOptions{}, map[string]any{"action": "set", "metadata": map[string]any{}}, "Error: metadata dictionary required for set/update action", nil},
		{"invalid JSON", nil, manager.MetadataToolOptions{}, map[string]any{"action": "set", "metadata": "{invalid json"}, "Error: metadata must be a valid JSON, got: {invalid json...", nil},
		{"delete", map[string]any{"key1": 1, "key2": 2, "k3": 3}, manager.MetadataToolOptions{}, map[string]any{"action": "delete", "keys": []any{"key1"}}, "Successfully deleted metadata fields: ['key1']", map[string]any{"key2": int64(2), "k3": int64(3)}},
		{"JSON-string keys", map[string]any{"key1": 1, "key2": 2}, manager.MetadataToolOptions{}, map[string]any{"action": "delete", "keys": `["key1","key2"]`}, "Successfully deleted metadata fields: ['key1', 'key2']", map[string]any{}},
		{"delete without keys", nil, manager.MetadataToolOptions{}, map[string]any{"action": "delete"}, "Error: keys list required for delete action", nil},
		{"unknown action", nil, manager.MetadataToolOptions{}, map[string]any{"action": "invalid"}, "Error: Unknown action 'invalid'. Use 'get', 'set', 'update', or 'delete'", nil},
		{"non-string action", nil, manager.MetadataToolOptions{}, map[string]any{"action": 3}, "Error managing metadata: action must be a string, got int", nil},
		{"bad key reaches the manager", nil, manager.MetadataToolOptions{}, map[string]any{"action": "set", "metadata": map[string]any{"a.b": 1}}, "Error managing metadata: update metadata: *", map[string]any{}},
		{"allow-list hides keys", map[string]any{"name": "Ann", "secret": "x"}, manager.MetadataToolOptions{ReadableKeys: []string{"name"}}, map[string]any{"action": "get"}, `All metadata: {"name": "Ann"}`, nil},
		{"allow-list: hidden keys cannot be read by name", map[string]any{"secret": "x"}, manager.MetadataToolOptions{ReadableKeys: []string{"name"}}, map[string]any{"action": "get", "keys": []any{"secret"}}, "No metadata found for keys: ['secret']", nil},
		{"allow-list: hidden keys cannot be set", map[string]any{"secret": "x"}, manager.MetadataToolOptions{ReadableKeys: []string{"name"}}, map[string]any{"action": "set", "metadata": map[string]any{"secret": "y", "name": "B"}}, "Error: metadata fields cannot be changed: ['secret']", map[string]any{"secret": "x"}},
		{"read-only keys cannot be deleted", map[string]any{"tier": "gold"}, manager.MetadataToolOptions{ReadOnlyKeys: []string{"tier"}}, map[string]any{"action": "delete", "keys": []any{"tier"}}, "Error: metadata fields cannot be changed: ['tier']", map[string]any{"tier": "gold"}},
		{"size cap", nil, manager.MetadataToolOptions{MaxUpdateBytes: 20}, map[string]any{"action": "set", "metadata": map[string]any{"note": strings.Repeat("x", 30)}}, "Error: metadata update is 41 bytes, over the limit of 20 bytes", map[string]any{}},
		{"input not an object", nil, manager.MetadataToolOptions{}, json.RawMessage(`[1]`), "Error managing metadata: tool input is not a JSON object", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			m := newManager(t, newMemory(), "s", manager.Options{})
			if tc.seed != nil {
				require.NoError(t, m.UpdateMetadata(ctx, tc.seed))
			}
			got := m.MetadataTool(tc.opts).Invoke(ctx, tc.input)
			if prefix, ok := strings.CutSuffix(tc.want, "*"); ok {
				assert.True(t, strings.HasPrefix(got, prefix), "got %q", got) // the rest is the backend's error text
			} else {
				assert.Equal(t, tc.want, got)
			}
			if tc.after != nil {
				md, err := m.GetMetadata(ctx)
				require.NoError(t, err)
				assert.Equal(t, tc.after, md)
			}
		})
	}
}

func TestMetadataTool_GoesThroughHooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var ops []manager.Operation
	hook := func(ctx context.Context, ev *manager.Event, next manager.Next) error {
		ops = append(ops, ev.Operation)
		return next(ctx, ev)
	}
	m := newManager(t, newMemory(), "s", manager.Options{Hooks: []manager.Hook{hook}})
	tool := m.MetadataTool(manager.MetadataToolOptions{})
	tool.Invoke(ctx, map[string]any{"action": "set", "metadata": map[string]any{"a": 1}})
	tool.Invoke(ctx, map[string]any{"action": "get"})
	tool.Invoke(ctx, map[string]any{"action": "delete", "keys": []any{"a"}})
	assert.Equal(t, []manager.Operation{manager.OpUpdate, manager.OpGet, manager.OpDelete}, ops)
}

func FuzzMetadataToolInvoke(f *testing.F) {
	for _, s := range []string{
		`{"action":"get"}`,
		`{"action":"set","metadata":{"a":1}}`,
		`{"action":"set","metadata":"{\"a\": [1, 2.5, null]}"}`,
		`{"action":"delete","keys":"[\"a\"]"}`,
		`{"action":"delete","keys":"\"a\""}`,
		`{"action":"get","keys":[1, {"x":true}]}`,
		`{"action":"update","metadata":"{bad"}`,
		`{"action":null}`,
		`[]`,
		`{"action":"set","metadata":{"$x":{"__bytes_encoded__":true,"data":"AA=="}}}`,
	} {
		f.Add(s)
	}
	repo := newMemory()
	m, err := manager.New(context.Background(), repo, "fuzz", manager.Options{Now: clock})
	if err != nil {
		f.Fatal(err)
	}
	tool := m.MetadataTool(manager.MetadataToolOptions{ReadOnlyKeys: []string{"ro"}, MaxUpdateBytes: 4096})
	f.Fuzz(func(t *testing.T, input string) {
		out := tool.Invoke(context.Background(), json.RawMessage(input))
		if out == "" {
			t.Fatal("empty result")
		}
		if strings.Contains(out, "internal error") {
			t.Fatalf("panic recovered for %q: %s", input, out)
		}
	})
}
