package conformance_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/conformance"
)

func TestCaseNames_AreDistinctAndNumerous(t *testing.T) {
	t.Parallel()
	names := conformance.CaseNames()
	require.GreaterOrEqual(t, len(names), 60)
	seen := map[string]bool{}
	for _, n := range names {
		assert.False(t, seen[n], "duplicate case %q", n)
		seen[n] = true
	}
}
