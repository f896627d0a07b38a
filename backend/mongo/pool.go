package mongo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/session"
	sessiondriver "github.com/sessionkit/sessionkit/session/driver"
)

// The process-wide pool of shared clients: one *mongo.Client per connection
// string and PoolOptions, reference-counted. Releasing one reference never
// disconnects a client that another holder still uses (the original's B12).
var pool = struct {
	sync.Mutex
	clients map[string]*sharedClient
}{clients: map[string]*sharedClient{}}

// sharedClient is one pooled client and its live statistics.
type sharedClient struct {
	key    string
	client *driver.Client
	refs   int
	stats  *clientStats
}

// clientStats counts what the driver's pool and command monitors report.
type clientStats struct {
	open, inUse, waiting        atomic.Int64
	checkouts, checkoutFailures atomic.Int64
	commands, commandFailures   atomic.Int64
	commandNanos                atomic.Int64
	poolCleared                 atomic.Int64
}

func (s *clientStats) poolMonitor() *event.PoolMonitor {
	return &event.PoolMonitor{Event: func(e *event.PoolEvent) {
		switch e.Type {
		case event.ConnectionCreated:
			s.open.Add(1)
		case event.ConnectionClosed:
			s.open.Add(-1)
		case event.ConnectionCheckOutStarted:
			s.waiting.Add(1)
		case event.ConnectionCheckedOut:
			s.waiting.Add(-1)
			s.inUse.Add(1)
			s.checkouts.Add(1)
		case event.ConnectionCheckOutFailed:
			s.waiting.Add(-1)
			s.checkoutFailures.Add(1)
		case event.ConnectionCheckedIn:
			s.inUse.Add(-1)
		case event.ConnectionPoolCleared:
			s.poolCleared.Add(1)
		}
	}}
}

func (s *clientStats) commandMonitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			s.commands.Add(1)
			s.commandNanos.Add(int64(e.Duration))
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			s.commands.Add(1)
			s.commandFailures.Add(1)
			s.commandNanos.Add(int64(e.Duration))
		},
	}
}

// snapshot returns the statistics under Prometheus-style names.
func (s *clientStats) snapshot(out map[string]float64) {
	open, inUse := s.open.Load(), s.inUse.Load()
	idle := open - inUse
	if idle < 0 {
		idle = 0
	}
	out["mongo_connections_open"] = float64(open)
	out["mongo_connections_in_use"] = float64(inUse)
	out["mongo_connections_idle"] = float64(idle)
	out["mongo_checkouts_waiting"] = float64(s.waiting.Load())
	out["mongo_checkouts_total"] = float64(s.checkouts.Load())
	out["mongo_checkout_failures_total"] = float64(s.checkoutFailures.Load())
	out["mongo_commands_total"] = float64(s.commands.Load())
	out["mongo_command_failures_total"] = float64(s.commandFailures.Load())
	out["mongo_command_seconds_total"] = time.Duration(s.commandNanos.Load()).Seconds()
	out["mongo_pool_cleared_total"] = float64(s.poolCleared.Load())
}

// clientOptions builds the driver options: the original's pool defaults,
// then po's overrides, then the connection string (whose own parameters win,
// so anything the driver understands can be given there).
func clientOptions(uri string, po PoolOptions, st *clientStats) *options.ClientOptions {
	or := func(v, d uint64) uint64 {
		if v == 0 {
			return d
		}
		return v
	}
	ord := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	o := options.Client().
		SetMaxPoolSize(or(po.MaxPoolSize, 100)).
		SetMinPoolSize(or(po.MinPoolSize, 10)).
		SetMaxConnIdleTime(ord(po.MaxConnIdleTime, 30*time.Second)).
		SetServerSelectionTimeout(ord(po.ServerSelectionTimeout, 5*time.Second)).
		SetConnectTimeout(ord(po.ConnectTimeout, 10*time.Second)).
		SetTimeout(ord(po.Timeout, DefaultOperationTimeout)).
		SetRetryWrites(!po.DisableRetryWrites).
		SetRetryReads(!po.DisableRetryReads)
	if po.AppName != "" {
		o.SetAppName(po.AppName)
	}
	if len(po.Compressors) > 0 {
		o.SetCompressors(po.Compressors)
	}
	if po.ReadPreference != nil {
		o.SetReadPreference(po.ReadPreference)
	}
	if po.WriteConcern != nil {
		o.SetWriteConcern(po.WriteConcern)
	}
	o.ApplyURI(uri)
	// A connection string lowering maxPoolSize below the default
	// minPoolSize lowers the minimum with it, unless it sets both.
	if po.MinPoolSize == 0 && o.MaxPoolSize != nil && o.MinPoolSize != nil && *o.MaxPoolSize != 0 &&
		*o.MinPoolSize > *o.MaxPoolSize && !strings.Contains(strings.ToLower(uri), "minpoolsize=") {
		o.SetMinPoolSize(*o.MaxPoolSize)
	}
	o.SetPoolMonitor(st.poolMonitor())
	o.SetMonitor(st.commandMonitor())
	return o
}

// poolKey identifies a shared client: the connection string and every
// option that changes the client.
func poolKey(uri string, po PoolOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d|%d|%s|%s|%s|%s|%t|%t|%s|%s", uri, po.MaxPoolSize, po.MinPoolSize, po.MaxConnIdleTime,
		po.ServerSelectionTimeout, po.ConnectTimeout, po.Timeout, po.DisableRetryWrites, po.DisableRetryReads,
		po.AppName, strings.Join(po.Compressors, ","))
	if po.ReadPreference != nil {
		b.WriteString("|rp=" + po.ReadPreference.String())
	}
	if po.WriteConcern != nil {
		fmt.Fprintf(&b, "|wc=%v/%v", po.WriteConcern.W, po.WriteConcern.Journal)
	}
	return b.String()
}

// acquireClient returns the shared client for uri and po, connecting it on
// first use, and takes a reference that releaseClient gives back. Errors
// never contain the password (session.RedactURL).
func acquireClient(uri string, po PoolOptions) (*sharedClient, error) {
	key := poolKey(uri, po)
	pool.Lock()
	defer pool.Unlock()
	if sc := pool.clients[key]; sc != nil {
		sc.refs++
		return sc, nil
	}
	st := &clientStats{}
	o := clientOptions(uri, po, st)
	if err := o.Validate(); err != nil {
		// A malformed connection string or option: the caller's mistake.
		return nil, sessiondriver.InvalidArgument("connection string", "%s: %v", session.RedactURL(uri), redactErr(err, uri))
	}
	client, err := driver.Connect(o)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect %s: %w", session.RedactURL(uri), redactErr(err, uri))
	}
	sc := &sharedClient{key: key, client: client, refs: 1, stats: st}
	pool.clients[key] = sc
	return sc, nil
}

// releaseClient drops one reference and disconnects the client when it was
// the last.
func releaseClient(ctx context.Context, sc *sharedClient) error {
	pool.Lock()
	sc.refs--
	last := sc.refs == 0
	if last {
		delete(pool.clients, sc.key)
	}
	pool.Unlock()
	if !last {
		return nil
	}
	capsCache.Delete(sc.client)
	if err := sc.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: disconnect: %w", err)
	}
	return nil
}

// PoolStats reports the process-wide pool: how many shared clients are open
// and how many references they have.
func PoolStats() map[string]float64 {
	pool.Lock()
	defer pool.Unlock()
	refs := 0
	for _, sc := range pool.clients {
		refs += sc.refs
	}
	return map[string]float64{"mongo_shared_clients": float64(len(pool.clients)), "mongo_shared_client_refs": float64(refs)}
}

// redactErr replaces the connection string's password in err's text, should
// the driver ever echo it.
func redactErr(err error, uri string) error {
	if err == nil {
		return nil
	}
	pw := passwordOf(uri)
	if pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), pw, "xxxxx"), cause: err}
}

type redactedError struct {
	msg   string
	cause error
}

func (e redactedError) Error() string { return e.msg }

// Unwrap keeps errors.Is working without exposing the text.
func (e redactedError) Unwrap() error { return e.cause }

func passwordOf(uri string) string {
	rest, ok := strings.CutPrefix(uri, "mongodb://")
	if !ok {
		rest, ok = strings.CutPrefix(uri, "mongodb+srv://")
	}
	if !ok {
		return ""
	}
	at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@")
	if at < 0 {
		return ""
	}
	_, pw, has := strings.Cut(rest[:at], ":")
	if !has {
		return ""
	}
	return pw
}

// capsCache holds the capabilities detected for each client, so detection
// costs one buildInfo per client and process.
var capsCache sync.Map // *driver.Client → *capsEntry

type capsEntry struct {
	once sync.Once
	caps Capabilities
	err  error
}

// detectCapabilities runs buildInfo once per client. FerretDB reports
// ferretdbVersion and lacks $slice projections, positional updates and
// atomic single-document updates (mongo-servers.md §3) and the aggregation
// operators ListAgents uses ($map); MongoDB and mongo-java-server have them.
func detectCapabilities(ctx context.Context, client *driver.Client) (Capabilities, error) {
	v, _ := capsCache.LoadOrStore(client, &capsEntry{})
	e := v.(*capsEntry)
	e.once.Do(func() {
		var info bson.M
		err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
		if err != nil {
			e.err = fmt.Errorf("mongo: buildInfo: %w", err)
			return
		}
		version, _ := info["version"].(string)
		if fv, ok := info["ferretdbVersion"]; ok {
			e.caps = Capabilities{Server: fmt.Sprintf("FerretDB %v (MongoDB %s wire)", fv, version)}
			return
		}
		e.caps = Capabilities{SliceProjection: true, Positional: true, AtomicUpdates: true, ExactDocumentSet: true, Aggregation: true, TTLIndexes: true, Server: "MongoDB " + version}
	})
	if e.err != nil {
		// Do not cache a failure: the server may come up later.
		capsCache.CompareAndDelete(client, e)
	}
	return e.caps, e.err
}

// indexCache remembers the collections whose indexes this process already
// created: once per cluster, database and collection.
var indexCache sync.Map // string → *indexEntry

type indexEntry struct {
	mu   sync.Mutex
	done bool
}

// sessionLocks serializes writes per session on servers without atomic
// single-document updates. It is process-wide (keyed by collection and
// session) so that every repository over the same collection shares it.
var sessionLocks = struct {
	sync.Mutex
	m map[string]*sessionLock
}{m: map[string]*sessionLock{}}

type sessionLock struct {
	ch   chan struct{} // holds one token while locked
	refs int
}

// lockSession locks key and returns the unlock function, or ctx's error if
// ctx ends first. Entries are removed when nobody holds or waits on them, so
// the map does not grow.
func lockSession(ctx context.Context, key string) (func(), error) {
	sessionLocks.Lock()
	l := sessionLocks.m[key]
	if l == nil {
		l = &sessionLock{ch: make(chan struct{}, 1)}
		sessionLocks.m[key] = l
	}
	l.refs++
	sessionLocks.Unlock()
	release := func() {
		sessionLocks.Lock()
		l.refs--
		if l.refs == 0 {
			delete(sessionLocks.m, key)
		}
		sessionLocks.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
