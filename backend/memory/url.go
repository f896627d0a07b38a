package memory

import (
	"context"
	"net/url"
	"strconv"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func init() {
	session.Register("memory", Open)
}

// Open returns a new, empty Repository for a "memory://" URL; it is the
// opener registered for the "memory" scheme. Query parameters:
//
//	max_sessions=N        Options.MaxSessions
//	max_session_bytes=N   Options.MaxSessionBytes
//	max_snapshot_bytes=N  Options.MaxSnapshotBytes
//
// A host, a path, an unknown parameter or a value that is not a
// non-negative integer is session.ErrInvalidArgument.
func Open(ctx context.Context, u *url.URL) (session.Repository, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u.Host != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" || u.User != nil {
		return nil, driver.InvalidArgument("url", "memory:// takes no host, user or path")
	}
	var opts Options
	var maxSnapshot int
	for name, values := range u.Query() {
		var dst *int
		switch name {
		case "max_sessions":
			dst = &opts.MaxSessions
		case "max_session_bytes":
			dst = &opts.MaxSessionBytes
		case "max_snapshot_bytes":
			dst = &maxSnapshot
		default:
			return nil, driver.InvalidArgument("url", "unknown parameter %q (known: max_sessions, max_session_bytes, max_snapshot_bytes)", name)
		}
		if len(values) != 1 {
			return nil, driver.InvalidArgument(name, "given %d times", len(values))
		}
		n, err := strconv.Atoi(values[0])
		if err != nil || n < 0 {
			return nil, driver.InvalidArgument(name, "%q is not a non-negative integer", values[0])
		}
		*dst = n
	}
	opts.MaxSnapshotBytes = int64(maxSnapshot)
	return New(opts), nil
}
