package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCLIErrors_SayWhatToDo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{"empty sqlite URL", []string{"demo", "--url", "sqlite://"}, []string{"sqlite:///absolute/dir"}, []string{"mkdir"}},
		{"path instead of URL", []string{"demo", "--url", dir}, []string{"names no backend", "--data-dir " + dir}, []string{`scheme ""`}},
		{"unknown scheme", []string{"import", "--to", "postgres://h/db"}, []string{`unknown backend "postgres"`, "memory://"}, []string{"import its package"}},
		{"directory without --format strands", []string{"import", "--backend", "memory", "--in", dir}, []string{"--format strands"}, nil},
		{"unreachable mongo", []string{"demo", "--url", "mongodb://127.0.0.1:1/db?serverSelectionTimeoutMS=200&connectTimeoutMS=200"},
			[]string{"cannot open the backend", "reachable"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errw := runCLI(t, context.Background(), "", tt.args...)
			assert.NotEqual(t, 0, code)
			for _, w := range tt.want {
				assert.Contains(t, errw, w)
			}
			for _, w := range tt.notWant {
				assert.NotContains(t, errw, w)
			}
			assert.LessOrEqual(t, strings.Count(errw, "open mongodb://"), 1, "the URL once, not doubled: %s", errw)
		})
	}
}

func TestTransferSummaries_MentionSkippedOnlyWhenSomeWere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := t.TempDir()
	code, _, errw := runCLI(t, ctx, "", "demo", "--data-dir", src, "--run-id", "sum")
	require.Equal(t, 0, code, errw)
	code, jsonl, errw := runCLI(t, ctx, "", "export", "--data-dir", src)
	require.Equal(t, 0, code, errw)
	assert.NotContains(t, errw, "skipped", "an export skips nothing")
	dst := t.TempDir()
	code, _, errw = runCLI(t, ctx, jsonl, "import", "--data-dir", dst)
	require.Equal(t, 0, code, errw)
	assert.NotContains(t, errw, "skipped")
	code, _, errw = runCLI(t, ctx, jsonl, "import", "--data-dir", dst)
	require.Equal(t, 0, code, errw)
	assert.Contains(t, errw, "3 skipped (already present; --overwrite replaces them)")
	_, err := os.Stat(filepath.Join(dst, "sessionkit.db"))
	require.NoError(t, err)
}
