package mongo

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/sessionkit/sessionkit/session"
)

// Defaults for Options and PoolOptions.
const (
	DefaultDatabase   = "sessionkit"
	DefaultCollection = "sessions"
	// MongoDBMaxDocumentBytes is MongoDB's hard limit on one document.
	MongoDBMaxDocumentBytes = 16 << 20
	// DefaultMaxDocumentBytes leaves 256 KiB of headroom below the 16 MiB
	// wall, so that the size bound (see Options.MaxDocumentBytes) being an
	// estimate never lets a write reach the server's own limit.
	DefaultMaxDocumentBytes = MongoDBMaxDocumentBytes - 256<<10
	// DefaultOperationTimeout bounds each operation whose context has no
	// deadline. It plays the part of the original's socketTimeoutMS=30000,
	// which driver v2 no longer has.
	DefaultOperationTimeout = 30 * time.Second
)

// Options configures a Repository. The zero value is useful: database
// "sessionkit", collection "sessions", no pre-filled metadata fields, the
// default size limit, capabilities detected from the server.
type Options struct {
	// Database and Collection name where sessions are stored.
	Database, Collection string
	// MetadataFields are pre-filled with "" in every new session's metadata
	// and get an index each (metadata.<field>), as in the original.
	MetadataFields []string
	// MaxDocumentBytes caps one session document (default
	// DefaultMaxDocumentBytes; values above 16 MiB are lowered to it). A
	// write that would push a session past it returns session.ErrTooLarge
	// naming the session and writes nothing.
	MaxDocumentBytes int64
	// WarnDocumentBytes is the size past which a session counts in the
	// "mongo_sessions_over_warning" statistic (default 80% of
	// MaxDocumentBytes).
	WarnDocumentBytes int64
	// Capabilities, when non-nil, replaces the detected server capabilities
	// (to test the portable fallbacks against MongoDB, for example).
	Capabilities *Capabilities
	// OperationTimeout bounds each call whose context has no deadline
	// (default DefaultOperationTimeout; negative disables it).
	OperationTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NewID returns a fresh feedback id (default driver.NewID).
	NewID func() string
	// MaxSnapshotBytes caps one snapshot (default
	// session.DefaultMaxSnapshotBytes); snapshots live outside the session
	// document (snapshots.go), so MaxDocumentBytes does not apply.
	MaxSnapshotBytes int64
	// SnapshotChunkBytes is the size of a snapshot's chunks (default
	// DefaultSnapshotChunkBytes).
	SnapshotChunkBytes int
	// Sweep configures the expiry sweeper, a goroutine started by the
	// constructor and stopped by Close that removes expired sessions and
	// their snapshots in bounded batches (Sweep.Interval < 0 disables it;
	// see expiry.go).
	Sweep session.SweeperOptions
}

// Capabilities are the server features this backend uses when present. They
// are detected once per client with buildInfo (FerretDB reports
// ferretdbVersion and has none of them).
type Capabilities struct {
	// SliceProjection: the server implements {$slice: [skip, limit]} in find
	// projections, so ListMessages and GetMessage fetch only the messages
	// they return. Without it the agent's whole array is fetched and sliced
	// here.
	SliceProjection bool
	// Positional: the server implements the positional "$" update operator,
	// which the Python original's metrics and guardrail writes need (so it
	// says whether the original can share this server). This backend does
	// not rely on it: it addresses a message by array index guarded by its
	// message_id on every server (see the package documentation).
	Positional bool
	// AtomicUpdates: concurrent updates of one document never lose writes.
	// Without it (FerretDB v1) writes to one session are serialized inside
	// this process; two processes must then not share the server.
	AtomicUpdates bool
	// ExactDocumentSet: a $set of a document replaces a stored document
	// that differs only in field names. FerretDB v1 compares documents
	// ignoring field names and skips such a $set (types.Identical), so on
	// it the backend first reads the old values of the document-valued
	// paths it sets (one more round trip) and sets the differing fields
	// one by one.
	ExactDocumentSet bool
	// Aggregation: the server implements $objectToArray, $map and $size in
	// an aggregation $project, so ListAgents reads every agent without its
	// messages in one round trip, and CountMessages gets the length of the
	// messages array as a number (without it, it reads the message ids).
	// Without it (FerretDB v1) ListAgents reads
	// the root agent_ids list first and then the session with an exclusion
	// projection of those agents' messages: two round trips, but bytes in
	// proportion to the agents, not to their messages.
	Aggregation bool
	// TTLIndexes: the server removes documents by a TTL index
	// (expireAfterSeconds), so expires_at gets one as a backstop to the
	// sweeper (see expiry.go). FerretDB v1 refuses the option; without it
	// the index on expires_at is a plain one.
	TTLIndexes bool
	// Server is the server's name and version as detected, for diagnostics.
	Server string
}

// PoolOptions tunes the shared client (see Open). Zero fields take the
// original's defaults.
type PoolOptions struct {
	// MaxPoolSize (default 100), MinPoolSize (default 10).
	MaxPoolSize, MinPoolSize uint64
	// MaxConnIdleTime (default 30 s, maxIdleTimeMS).
	MaxConnIdleTime time.Duration
	// ServerSelectionTimeout (default 5 s), ConnectTimeout (default 10 s).
	ServerSelectionTimeout, ConnectTimeout time.Duration
	// Timeout is the driver's client-side operation timeout applied when a
	// context has no deadline (default 30 s). Driver v2 has neither
	// socketTimeoutMS nor waitQueueTimeoutMS: a call's context deadline (or
	// this timeout) bounds the whole operation, waiting for a pooled
	// connection included.
	Timeout time.Duration
	// DisableRetryWrites and DisableRetryReads turn off the driver's retries
	// (on by default).
	DisableRetryWrites, DisableRetryReads bool
	// AppName is sent to the server in the handshake.
	AppName string
	// Compressors, e.g. ["zstd", "snappy"].
	Compressors []string
	// ReadPreference and WriteConcern, passed through when set.
	ReadPreference *readpref.ReadPref
	WriteConcern   *writeconcern.WriteConcern
}

func (o Options) withDefaults() Options {
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.Collection == "" {
		o.Collection = DefaultCollection
	}
	if o.MaxDocumentBytes <= 0 || o.MaxDocumentBytes > MongoDBMaxDocumentBytes {
		o.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if o.WarnDocumentBytes <= 0 || o.WarnDocumentBytes > o.MaxDocumentBytes {
		o.WarnDocumentBytes = o.MaxDocumentBytes / 10 * 8
	}
	if o.OperationTimeout == 0 {
		o.OperationTimeout = DefaultOperationTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.MetadataFields = append([]string(nil), o.MetadataFields...)
	return o
}
