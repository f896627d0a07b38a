package driver_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func TestCheckMessageIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ids       []int
		dense     bool
		dups      []int
		missing   []int
		misplaced int
	}{
		{name: "empty", ids: nil, dense: true},
		{name: "dense", ids: []int{0, 1, 2}, dense: true},
		{name: "the original's stale id after sessionkit", ids: []int{0, 1, 2, 3, 2, 3}, dups: []int{2, 3}, missing: []int{4, 5}, misplaced: 2},
		{name: "gap", ids: []int{0, 1, 5}, missing: []int{2}, misplaced: 1},
		{name: "no id", ids: []int{0, -1}, missing: []int{1}, misplaced: 1},
		{name: "swapped", ids: []int{1, 0}, misplaced: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := driver.CheckMessageIDs("s", "a", tc.ids)
			if tc.dense {
				assert.Nil(t, rep)
				return
			}
			require.NotNil(t, rep)
			assert.Equal(t, len(tc.ids), rep.Count)
			assert.Equal(t, tc.dups, rep.Duplicates)
			assert.Equal(t, tc.missing, rep.Missing)
			assert.Equal(t, tc.misplaced, rep.Misplaced)
			var err error = rep
			assert.True(t, errors.Is(err, session.ErrMessageIDs))
			assert.Contains(t, err.Error(), `session "s": agent "a"`)
		})
	}
}
