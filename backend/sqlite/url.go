package sqlite

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func init() {
	session.Register("sqlite", openURL)
}

// OptionsFromURL parses a "sqlite://" URL into the directory and Options
// Open takes. Forms:
//
//	sqlite:///absolute/dir                  the directory /absolute/dir
//	sqlite://./relative/dir                 relative to the working directory
//	sqlite://../relative/dir                likewise
//
// Query parameters: file (database file name), max_session_bytes (int),
// max_snapshot_bytes (int), max_read_conns (int), busy_timeout (Go duration, "5s"), max_busy_retries
// (int). Unknown parameters are rejected so that typos fail fast.
func OptionsFromURL(u *url.URL) (string, Options, error) {
	var opts Options
	if u.Scheme != "sqlite" {
		return "", opts, driver.InvalidArgument("url", "scheme %q is not sqlite", u.Scheme)
	}
	if u.Opaque != "" || u.User != nil || u.Port() != "" {
		return "", opts, driver.InvalidArgument("url", "use sqlite:///absolute/dir or sqlite://./relative/dir")
	}
	var dir string
	switch u.Host {
	case "":
		dir = u.Path
	case ".", "..":
		dir = u.Host + u.Path
	default:
		return "", opts, driver.InvalidArgument("url",
			"host %q: sqlite URLs name a directory: sqlite:///absolute/dir or sqlite://./relative/dir", u.Host)
	}
	if dir == "" {
		return "", opts, driver.InvalidArgument("url", "no directory: use sqlite:///absolute/dir or sqlite://./relative/dir")
	}
	for k, vs := range u.Query() {
		if len(vs) != 1 {
			return "", opts, driver.InvalidArgument("url parameter "+k, "given %d times", len(vs))
		}
		v := vs[0]
		var err error
		switch k {
		case "file":
			opts.FileName = v
		case "max_session_bytes":
			opts.MaxSessionBytes, err = strconv.ParseInt(v, 10, 64)
		case "max_snapshot_bytes":
			opts.MaxSnapshotBytes, err = strconv.ParseInt(v, 10, 64)
			if err == nil && opts.MaxSnapshotBytes < 0 {
				err = errors.New("negative")
			}
		case "max_read_conns":
			opts.MaxReadConns, err = strconv.Atoi(v)
		case "busy_timeout":
			opts.BusyTimeout, err = time.ParseDuration(v)
		case "max_busy_retries":
			opts.MaxBusyRetries, err = strconv.Atoi(v)
		default:
			return "", opts, driver.InvalidArgument("url parameter "+k, "unknown (known: file, max_session_bytes, max_snapshot_bytes, "+
				"max_read_conns, busy_timeout, max_busy_retries)")
		}
		if err != nil {
			return "", opts, driver.InvalidArgument("url parameter "+k, "%q: %v", v, err)
		}
	}
	if _, err := opts.withDefaults(); err != nil {
		return "", opts, err
	}
	return dir, opts, nil
}

func openURL(ctx context.Context, u *url.URL) (session.Repository, error) {
	dir, opts, err := OptionsFromURL(u)
	if err != nil {
		return nil, err
	}
	return Open(ctx, dir, opts)
}
