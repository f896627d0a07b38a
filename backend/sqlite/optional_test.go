package sqlite

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnlyThisPackageImportsSQLite keeps SQLite optional: no package but
// this one imports modernc.org/sqlite, and no library package (another
// backend, session, hooks, conformance) depends on it, so a program that
// imports only the Mongo backend does not compile SQLite in. Programs —
// the commands, which choose SQLite as their default, and the examples,
// which register every backend their URLs may name — may depend on it.
func TestOnlyThisPackageImportsSQLite(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	const module = "github.com/sessionkit/sessionkit"
	out, err := exec.Command(goTool, "list", "-e", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}",
		module+"/...").Output()
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		require.Len(t, parts, 3, line)
		pkg := parts[0]
		if pkg == module+"/backend/sqlite" {
			continue
		}
		for _, imp := range strings.Fields(parts[1]) {
			assert.False(t, strings.HasPrefix(imp, "modernc.org/"), "%s imports %s", pkg, imp)
		}
		if strings.HasPrefix(pkg, module+"/cmd/") || strings.HasPrefix(pkg, module+"/examples/") {
			continue
		}
		for _, dep := range strings.Fields(parts[2]) {
			assert.False(t, strings.HasPrefix(dep, "modernc.org/sqlite"), "%s depends on %s", pkg, dep)
		}
	}
}
