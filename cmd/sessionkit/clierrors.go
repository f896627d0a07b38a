package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// urlHelp lists the backend URLs the command accepts, for error messages.
const urlHelp = "want memory://, sqlite:///abs/dir, sqlite://./rel/dir or mongodb://host/db (or use --data-dir, --backend memory, --mongo-uri)"

// checkBackendURL refuses, before anything is opened, a backend URL the
// command cannot use, saying what to pass instead. The library's own errors
// speak to Go programmers ("import its package"); these speak to someone at
// a shell, for whom every backend is already compiled in.
func checkBackendURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return driver.InvalidArgument("--url", "%q is not a URL: %s", session.RedactURL(raw), urlHelp)
	}
	switch u.Scheme {
	case "":
		hint := ""
		if fi, serr := os.Stat(raw); serr == nil && fi.IsDir() {
			hint = "; for a SQLite directory pass --data-dir " + raw
		}
		return driver.InvalidArgument("--url", "%q names no backend: %s%s", session.RedactURL(raw), urlHelp, hint)
	case "sqlite":
		if _, _, err := sqlite.OptionsFromURL(u); err != nil {
			return fmt.Errorf("--url %q: %w", session.RedactURL(raw), err)
		}
	}
	if !registered(u.Scheme) {
		return driver.InvalidArgument("--url", "unknown backend %q in %s: %s", u.Scheme, session.RedactURL(raw), urlHelp)
	}
	return nil
}

func registered(scheme string) bool {
	for _, s := range session.Schemes() {
		if s == scheme {
			return true
		}
	}
	return false
}

// sqliteDir returns the absolute directory of a sqlite:// URL, or "" for any
// other backend.
func sqliteDir(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "sqlite" {
		return "", nil
	}
	dir, _, err := sqlite.OptionsFromURL(u)
	if err != nil {
		return "", err
	}
	return filepath.Abs(filepath.FromSlash(dir))
}

// explainOpenError turns session.Open's error into one line for a CLI user:
// the URL once (a backend's own error often repeats "open <url>"), the
// cause, and what to check.
func explainOpenError(raw string, err error) error {
	if inner := errors.Unwrap(err); inner != nil && strings.Contains(inner.Error(), "open ") {
		err = inner // drop session.Open's "open <url>:" — the backend says it already
	}
	hint := "check --url"
	switch u, _ := url.Parse(raw); {
	case u == nil:
	case strings.HasPrefix(u.Scheme, "mongodb"):
		hint = "check --mongo-uri (or $MONGODB_URI) and that the MongoDB server is reachable from here"
	case u.Scheme == "sqlite":
		hint = "check that --data-dir is a writable directory and that no other program holds the database locked"
	}
	if strings.Contains(raw, "cache=") {
		hint += "; the cache (--redis-url) must be reachable too"
	}
	return fmt.Errorf("cannot open the backend: %w (%s)", err, hint)
}

// redisLogger sends go-redis's own log lines (reconnects, pool errors)
// through the command's slog logger, so that --log-format json output stays
// one JSON object per line.
type redisLogger struct{ log *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// useRedisLogger routes go-redis logging to log. go-redis keeps one
// process-wide logger; the CLI runs one command per process.
func useRedisLogger(log *slog.Logger) { redis.SetLogger(redisLogger{log}) }
