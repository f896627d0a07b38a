package mongo

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func init() {
	session.Register("mongodb", openURL)
	session.Register("mongodb+srv", openURL)
}

// URL parameters this package reads (and removes before the connection
// string reaches the driver). Every other parameter — authSource, tls,
// replicaSet, readPreference, w, compressors, appName, maxPoolSize … — is
// passed to the driver untouched.
const (
	paramDatabase       = "database"
	paramCollection     = "collection"
	paramMetadataFields = "metadata_fields" // comma-separated
	paramMaxDocument    = "max_document_bytes"
	paramOpTimeout      = "operation_timeout" // Go duration, e.g. 10s
)

// openURL opens a Repository from a URL such as
// mongodb://user:pw@host/?database=app&collection=sessions&metadata_fields=status,priority&maxPoolSize=50.
// The shared pool's defaults apply; the driver's own URL options override
// them. Errors never contain the password.
func openURL(ctx context.Context, u *url.URL) (session.Repository, error) {
	q := u.Query()
	var opts Options
	opts.Database = q.Get(paramDatabase)
	opts.Collection = q.Get(paramCollection)
	if f := q.Get(paramMetadataFields); f != "" {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				opts.MetadataFields = append(opts.MetadataFields, name)
			}
		}
	}
	if v := q.Get(paramMaxDocument); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, driver.InvalidArgument(paramMaxDocument, "%q is not a positive integer", v)
		}
		opts.MaxDocumentBytes = n
	}
	if v := q.Get(paramOpTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, driver.InvalidArgument(paramOpTimeout, "%q is not a positive duration", v)
		}
		opts.OperationTimeout = d
	}
	for _, p := range []string{paramDatabase, paramCollection, paramMetadataFields, paramMaxDocument, paramOpTimeout} {
		q.Del(p)
	}
	// A database in the path (mongodb://host/app) is the default database.
	if opts.Database == "" {
		opts.Database = strings.TrimPrefix(u.Path, "/")
	}
	clean := *u
	clean.RawQuery = q.Encode()
	return Open(ctx, clean.String(), opts, PoolOptions{})
}
