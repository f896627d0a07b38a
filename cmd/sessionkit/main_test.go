package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

func runCLI(t *testing.T, ctx context.Context, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errw)
	return code, out.String(), errw.String()
}

func TestHelp_ExplainsEveryFlagOfEveryCommand(t *testing.T) {
	t.Parallel()
	code, _, errw := runCLI(t, context.Background(), "", "--help")
	assert.Equal(t, 0, code)
	for _, c := range commands() {
		assert.Contains(t, errw, c.name)
		code, _, help := runCLI(t, context.Background(), "", c.name, "--help")
		assert.Equal(t, 0, code, c.name)
		for _, flag := range []string{"-url", "-backend", "-data-dir", "-mongo-uri", "-redis-url", "-log-format", "-log-level"} {
			assert.Contains(t, help, flag, "%s --help", c.name)
		}
	}
	_, _, help := runCLI(t, context.Background(), "", "serve", "--help")
	for _, flag := range []string{"-addr", "-admin-token", "-sns-topic-good", "-sns-topic-bad", "-sns-topic-neutral", "-sqs-queue-url", "-ws-endpoint", "-aws-endpoint-url", "-drain-timeout"} {
		assert.Contains(t, help, flag)
	}
	_, _, help = runCLI(t, context.Background(), "", "import", "--help")
	for _, flag := range []string{"-overwrite", "-format", "-in", "-to", "-progress"} {
		assert.Contains(t, help, flag)
	}
}

func TestHelp_NeverPrintsSecretsFromTheEnvironment(t *testing.T) {
	t.Setenv("MONGODB_URI", "mongodb://user:hunter2@db.example/sessions")
	t.Setenv("SESSIONKIT_ADMIN_TOKEN", "hunter2-admin-token-value")
	_, _, help := runCLI(t, context.Background(), "", "serve", "--help")
	assert.NotContains(t, help, "hunter2")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{},
		{"nope"},
		{"serve", "--no-such-flag"},
		{"demo", "extra-arg"},
		{"demo", "--backend", "cassandra"},
		{"demo", "--backend", "memory", "--log-level", "loud"},
		{"export", "--backend", "memory", "--format", "xml"},
		{"import", "--backend", "memory", "--format", "strands"},
	}
	for _, args := range tests {
		code, _, errw := runCLI(t, context.Background(), "", args...)
		assert.Contains(t, []int{1, 2}, code, "%q: %s", args, errw)
		assert.NotEmpty(t, errw)
	}
}

func TestDemo_IntoMemoryAndSQLite(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--backend", "memory"},
		{"--data-dir", t.TempDir()},
	} {
		code, out, errw := runCLI(t, context.Background(), "", append([]string{"demo"}, args...)...)
		require.Equal(t, 0, code, errw)
		assert.Contains(t, out, "tool call lookup_order")
		assert.Contains(t, out, "GUARDRAIL BLOCKED")
		assert.Contains(t, out, "3 sessions written")
	}
}

func TestExportImport_BetweenSQLiteAndMemoryViaCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := t.TempDir()
	code, _, errw := runCLI(t, ctx, "", "demo", "--data-dir", src, "--run-id", "cli")
	require.Equal(t, 0, code, errw)
	code, jsonl, errw := runCLI(t, ctx, "", "export", "--data-dir", src)
	require.Equal(t, 0, code, errw)
	assert.Equal(t, 3, strings.Count(jsonl, "\n"))
	assert.Contains(t, errw, "exported 3 sessions")
	assert.NotContains(t, errw, "[#", "no progress bar when stderr is not a terminal")

	dst := t.TempDir()
	code, _, errw = runCLI(t, ctx, jsonl, "import", "--to", "sqlite://"+filepath.ToSlash(dst))
	require.Equal(t, 0, code, errw)
	assert.Contains(t, errw, "imported 3 sessions")
	code, _, errw = runCLI(t, ctx, jsonl, "import", "--data-dir", dst, "--progress")
	require.Equal(t, 0, code, errw)
	assert.Contains(t, errw, "3 skipped")
	assert.Contains(t, errw, "[###", "--progress forces the bar")
	code, again, errw := runCLI(t, ctx, "", "export", "--data-dir", dst)
	require.Equal(t, 0, code, errw)
	assert.Equal(t, len(strings.Split(jsonl, "\n")), len(strings.Split(again, "\n")))

	dir := filepath.Join(t.TempDir(), "strands")
	code, _, errw = runCLI(t, ctx, "", "export", "--data-dir", dst, "--format", "strands", "--out", dir)
	require.Equal(t, 0, code, errw)
	_, err := os.Stat(filepath.Join(dir, "session_demo-cli-support", "agents", "agent_support-agent", "messages", "message_0.json"))
	require.NoError(t, err)
	code, _, errw = runCLI(t, ctx, "", "import", "--backend", "memory", "--format", "strands", "--in", dir)
	require.Equal(t, 0, code, errw)
	assert.Contains(t, errw, "imported 3 sessions")
}

func TestServe_StopsCleanlyOnSignal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errw bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--backend", "memory", "--addr", "127.0.0.1:0", "--log-format", "json"},
			strings.NewReader(""), &out, &errw)
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, errw.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Contains(t, errw.String(), `"msg":"serving"`)
	assert.Contains(t, errw.String(), `"admin_token"`, "a generated token is logged once")
	assert.Equal(t, 1, strings.Count(errw.String(), `"admin_token"`))
}

func TestBackendFlags_URLsAndRedaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flags backendFlags
		want  string
	}{
		{backendFlags{backend: "memory"}, "memory://"},
		{backendFlags{backend: "memory", redisURL: "redis://127.0.0.1:6379/0"}, "memory://?cache=redis%3A%2F%2F127.0.0.1%3A6379%2F0"},
		{backendFlags{mongoURI: "mongodb://u:p@h/db"}, "mongodb://u:p@h/db"},
		{backendFlags{url: "memory://", backend: "sqlite"}, "memory://"},
		{backendFlags{dataDir: "/var/lib/sk"}, "sqlite:///var/lib/sk"},
	}
	for _, tt := range tests {
		got, err := tt.flags.resolve()
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
	_, err := (&backendFlags{backend: "mongo"}).resolve()
	require.ErrorIs(t, err, session.ErrInvalidArgument)

	code, _, errw := runCLI(t, context.Background(), "", "demo", "--url", "mongodb://user:hunter2@127.0.0.1:1/db?serverSelectionTimeoutMS=200&connectTimeoutMS=200")
	assert.NotEqual(t, 0, code)
	assert.NotContains(t, errw, "hunter2", "credentials never in errors or logs")
}

func TestImportExport_StrandsSnapshotTreeViaCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := t.TempDir()
	path := filepath.Join(in, "session", "s1", "scopes", "agent", "a", "snapshots", "snapshot_latest.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(`{"scope":"agent"}`), 0o600))
	data := t.TempDir()
	code, _, errw := runCLI(t, ctx, "", "import", "--data-dir", data, "--format", "strands-snapshots", "--in", in)
	require.Equal(t, 0, code, errw)
	assert.Contains(t, errw, "imported 1 sessions")
	assert.Contains(t, errw, "1 snapshots")
	out := t.TempDir()
	code, _, errw = runCLI(t, ctx, "", "export", "--data-dir", data, "--format", "strands-snapshots", "--out", out)
	require.Equal(t, 0, code, errw)
	b, err := os.ReadFile(filepath.Join(out, "session", "s1", "scopes", "agent", "a", "snapshots", "snapshot_latest.json"))
	require.NoError(t, err)
	assert.Equal(t, `{"scope":"agent"}`, string(b))
	code, _, errw = runCLI(t, ctx, "", "export", "--backend", "memory", "--format", "strands-snapshots")
	assert.Equal(t, 2, code, errw)
}
