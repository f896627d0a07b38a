package driver_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sessionkit/sessionkit/session/driver"
)

// TestSameValue_AgreesWithDeepEqual: the sync check's comparison answers
// as reflect.DeepEqual does on canonical values, nil and empty included.
func TestSameValue_AgreesWithDeepEqual(t *testing.T) {
	t.Parallel()
	shared := map[string]any{"k": "v"}
	values := []any{
		nil, true, false, "a", "b", int64(1), int64(2), 1.0, 2.5,
		[]byte("x"), []byte{}, []byte(nil),
		[]any{}, []any(nil), []any{"a", int64(1)}, []any{"a", int64(2)},
		map[string]any{}, map[string]any(nil), shared,
		map[string]any{"k": "v"}, map[string]any{"k": "w"}, map[string]any{"j": "v"},
		map[string]any{"k": map[string]any{"n": []any{1.0}}}, map[string]any{"k": map[string]any{"n": []any{2.0}}},
		[]string{"not canonical"},
	}
	for i, x := range values {
		for j, y := range values {
			assert.Equal(t, reflect.DeepEqual(x, y), driver.SameValue(x, y), "values[%d]=%#v vs values[%d]=%#v", i, x, j, y)
		}
	}
	assert.True(t, driver.SameValue(shared, shared))
}
