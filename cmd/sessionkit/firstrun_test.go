package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveOnce starts serve with args on a free loopback port, waits until it
// answers, stops it and returns its log lines (JSON) and the port it used.
func serveOnce(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	errw := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...),
			strings.NewReader(""), &out, errw)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errw.String(), `"msg":"serving"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, errw.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(errw.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines = append(lines, m)
	}
	return lines
}

// lockedBuffer is a bytes.Buffer safe to read while serve writes its log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func findLog(lines []map[string]any, key string) map[string]any {
	for _, l := range lines {
		if _, ok := l[key]; ok {
			return l
		}
	}
	return nil
}

func TestServe_AdminTokenPersistsInTheDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first := serveOnce(t, "--data-dir", dir)
	path := filepath.Join(dir, adminTokenFile)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	tok := strings.TrimSpace(string(b))
	assert.GreaterOrEqual(t, len(tok), minAdminToken)
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	}
	l := findLog(first, "admin_token_file")
	require.NotNil(t, l, "the log says where the token is")
	assert.Equal(t, path, l["admin_token_file"])
	assert.Nil(t, findLog(first, "admin_token"), "a persisted token is not printed into logs")

	serving := findLog(first, "viewer")
	require.NotNil(t, serving)
	assert.True(t, strings.HasPrefix(serving["viewer"].(string), "http://127.0.0.1:"))
	assert.Equal(t, dir, serving["data_dir"], "absolute data directory")
	assert.Contains(t, serving["backend"], "sqlite://"+filepath.ToSlash(dir))

	// A restart reuses it, so viewer logins survive.
	serveOnce(t, "--data-dir", dir)
	b2, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(b2))
}

func TestServe_RelativeDataDirIsLoggedAbsolute(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	lines := serveOnce(t, "--data-dir", "rel-data")
	serving := findLog(lines, "data_dir")
	require.NotNil(t, serving)
	want, err := filepath.EvalSymlinks(base)
	require.NoError(t, err)
	got, err := filepath.EvalSymlinks(serving["data_dir"].(string))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(want, "rel-data"), got)
	assert.True(t, filepath.IsAbs(serving["data_dir"].(string)))

	// The same through a relative sqlite URL: the token sits beside the database.
	lines = serveOnce(t, "--url", "sqlite://./url-data")
	tok := findLog(lines, "admin_token_file")
	require.NotNil(t, tok)
	got, err = filepath.EvalSymlinks(filepath.Dir(tok["admin_token_file"].(string)))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(want, "url-data"), got)
	_, err = os.Stat(filepath.Join(want, "url-data", "sessionkit.db"))
	require.NoError(t, err)
}

func TestServe_AdminTokenFlagAndEnvOverrideTheFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, adminTokenFile), []byte("file-token-0123456789\n"), 0o600))
	for _, tc := range []struct {
		name string
		env  string
		args []string
	}{
		{"flag", "", []string{"--admin-token", "flag-token-0123456789"}},
		{"env", "env-token-0123456789", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("SESSIONKIT_ADMIN_TOKEN", tc.env)
			}
			lines := serveOnce(t, append([]string{"--data-dir", dir}, tc.args...)...)
			assert.Nil(t, findLog(lines, "admin_token_file"), "an explicit token does not read the file")
		})
	}
	// The explicit token is the one the server accepts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errw := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--admin-token", "flag-token-0123456789"},
			strings.NewReader(""), &bytes.Buffer{}, errw)
	}()
	status := func(tok string) int {
		for range 200 {
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/sessions", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				return resp.StatusCode
			}
			time.Sleep(20 * time.Millisecond)
		}
		return 0
	}
	assert.Equal(t, http.StatusOK, status("flag-token-0123456789"))
	assert.Equal(t, http.StatusUnauthorized, status("file-token-0123456789"))
	cancel()
	<-done
}

func TestServe_WarnsAboutAReadableTokenFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, adminTokenFile)
	require.NoError(t, os.WriteFile(path, []byte("shared-token-0123456789\n"), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	lines := serveOnce(t, "--data-dir", dir)
	var warned bool
	for _, l := range lines {
		if l["level"] == "WARN" && strings.Contains(l["msg"].(string), "chmod 600") {
			warned = true
		}
	}
	assert.True(t, warned, "a world-readable token file is reported")
}

func TestServe_ShortTokenFileIsAnErrorNotReplaced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, adminTokenFile)
	require.NoError(t, os.WriteFile(path, []byte("short\n"), 0o600))
	code, _, errw := runCLI(t, context.Background(), "", "serve", "--addr", "127.0.0.1:0", "--data-dir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errw, path)
	assert.Contains(t, errw, "delete it")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "short\n", string(b))
}

func TestExport_EmptyOrMissingStoreFails(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing sqlite directory", []string{"--data-dir", missing}, "no store at " + missing},
		{"empty sqlite store", []string{"--data-dir", t.TempDir()}, "the store is empty"},
		{"memory", []string{"--backend", "memory"}, "the store is empty"},
	}
	for _, tt := range tests {
		code, out, errw := runCLI(t, context.Background(), "", append([]string{"export"}, tt.args...)...)
		assert.Equal(t, 1, code, tt.name)
		assert.Empty(t, out, tt.name)
		assert.Contains(t, errw, tt.want, tt.name)
		assert.NotContains(t, errw, "exported 0", tt.name)
	}
	_, err := os.Stat(missing)
	assert.ErrorIs(t, err, os.ErrNotExist, "export never creates the store it reads")

	src := t.TempDir()
	code, _, errw := runCLI(t, context.Background(), "", "demo", "--data-dir", src, "--run-id", "f")
	require.Equal(t, 0, code, errw)
	code, _, errw = runCLI(t, context.Background(), "", "export", "--data-dir", src, "--application", "no-such-app")
	assert.Equal(t, 1, code)
	assert.Contains(t, errw, "no session matches")
}

func TestMemoryImportAndDemo_WarnThatDataDies(t *testing.T) {
	t.Parallel()
	code, out, errw := runCLI(t, context.Background(), "", "demo", "--backend", "memory")
	require.Equal(t, 0, code, errw)
	assert.Contains(t, errw, "discarded when it exits")
	assert.NotContains(t, out, "Browse them: sessionkit serve (same backend flags)")
	assert.Contains(t, out, "--data-dir")

	code, _, errw = runCLI(t, context.Background(), "", "import", "--to", "memory://")
	require.Equal(t, 0, code, errw)
	assert.Contains(t, errw, "discarded when it exits")

	code, _, errw = runCLI(t, context.Background(), "", "demo", "--data-dir", t.TempDir())
	require.Equal(t, 0, code, errw)
	assert.NotContains(t, errw, "discarded")
}
