package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	driver "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sessionkit/sessionkit/session"
	sessiondriver "github.com/sessionkit/sessionkit/session/driver"
)

// FactoryConfig configures a Factory: either URI (an owned client from the
// process-wide shared pool) or Client (borrowed, never disconnected by the
// factory). Client wins when both are set, as in the original.
type FactoryConfig struct {
	URI    string
	Client *driver.Client
	Pool   PoolOptions
	// Options are the defaults of every repository the factory creates.
	Options Options
}

// Factory creates repositories over one shared client, one per request if
// you like: creating one costs no round trip after the first (capabilities
// and indexes are cached per process). It is safe for concurrent use.
type Factory struct {
	cfg    FactoryConfig
	shared *sharedClient
	client *driver.Client

	mu     sync.Mutex
	closed bool
	// successor is the factory that replaced this one as the default
	// (InitDefaultFactory): Repository calls that reach this factory after
	// it was closed by the replacement go to the successor, so requests in
	// flight during a re-initialisation keep working.
	successor *Factory
}

// NewFactory connects (or borrows) the client and checks the server once by
// creating the default collection's indexes.
func NewFactory(ctx context.Context, cfg FactoryConfig) (*Factory, error) {
	f := &Factory{cfg: cfg, client: cfg.Client}
	if f.client == nil {
		if cfg.URI == "" {
			return nil, sessiondriver.InvalidArgument("factory", "either a connection string or a client is required")
		}
		sc, err := acquireClient(cfg.URI, cfg.Pool)
		if err != nil {
			return nil, err
		}
		f.shared, f.client = sc, sc.client
	}
	r, err := f.Repository(ctx, Overrides{})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	_ = r.Close()
	return f, nil
}

// Overrides change one repository's database, collection or metadata
// fields; empty fields keep the factory's defaults.
type Overrides struct {
	Database, Collection string
	MetadataFields       []string
}

// Repository returns a repository over the factory's client. Closing it
// never closes the client; closing the factory does not break repositories
// already handed out, which hold their own reference to the shared client.
// After Close it returns session.ErrClosed, except on a default factory
// replaced by InitDefaultFactory, whose calls go to its replacement.
func (f *Factory) Repository(ctx context.Context, o Overrides) (*Repository, error) {
	f.mu.Lock()
	if f.closed {
		next := f.successor
		f.mu.Unlock()
		if next == nil {
			return nil, session.ErrClosed
		}
		return next.Repository(ctx, o)
	}
	f.mu.Unlock()
	opts := f.cfg.Options
	if o.Database != "" {
		opts.Database = o.Database
	}
	if o.Collection != "" {
		opts.Collection = o.Collection
	}
	if o.MetadataFields != nil {
		opts.MetadataFields = o.MetadataFields
	}
	if f.shared == nil {
		return newRepository(ctx, f.client, nil, fmt.Sprintf("client@%p", f.client), opts)
	}
	// Each repository holds its own reference to the shared client, taken
	// without the factory's lock: creating repositories never serializes.
	sc, err := acquireClient(f.cfg.URI, f.cfg.Pool)
	if err != nil {
		return nil, err
	}
	r, err := newRepository(ctx, sc.client, sc, sc.key, opts)
	if err != nil {
		_ = releaseClient(context.WithoutCancel(ctx), sc)
		return nil, fmt.Errorf("mongo: open %s: %w", session.RedactURL(f.cfg.URI), redactErr(err, f.cfg.URI))
	}
	return r, nil
}

// Stats returns the connection statistics: the shared client's live pool
// and command counters ("mongo_external_client" = 1 for a borrowed client,
// whose monitors belong to its owner). It never contains a credential.
func (f *Factory) Stats() map[string]float64 {
	out := PoolStats()
	if f.shared == nil {
		out["mongo_external_client"] = 1
		return out
	}
	f.shared.stats.snapshot(out)
	return out
}

// Ping checks the server answers.
func (f *Factory) Ping(ctx context.Context) error {
	if err := f.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

// Close releases the factory's reference to the shared client (a borrowed
// client is left alone). Repositories still open keep theirs. Idempotent.
func (f *Factory) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if f.shared == nil {
		return nil
	}
	return releaseClient(context.Background(), f.shared)
}

// The process-wide default factory, for HTTP servers and Lambda-style
// handlers that initialise once and create a repository per request.
var defaultFactory struct {
	sync.RWMutex
	f *Factory
}

// ErrNoDefaultFactory is returned by DefaultFactory before InitDefaultFactory.
var ErrNoDefaultFactory = errors.New("mongo: default factory not initialized; call InitDefaultFactory during startup")

// InitDefaultFactory creates the default factory. If one exists it is
// replaced and closed; repositories created from it keep working, because
// they hold their own references (unlike the original, which closed the
// client under them), and a request that fetched the old factory just
// before the replacement gets its repository from the new one.
func InitDefaultFactory(ctx context.Context, cfg FactoryConfig) (*Factory, error) {
	f, err := NewFactory(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defaultFactory.Lock()
	old := defaultFactory.f
	defaultFactory.f = f
	defaultFactory.Unlock()
	if old != nil {
		old.mu.Lock()
		old.successor = f
		old.mu.Unlock()
		_ = old.Close()
	}
	return f, nil
}

// DefaultFactory returns the default factory, or ErrNoDefaultFactory.
func DefaultFactory() (*Factory, error) {
	defaultFactory.RLock()
	defer defaultFactory.RUnlock()
	if defaultFactory.f == nil {
		return nil, ErrNoDefaultFactory
	}
	return defaultFactory.f, nil
}

// CloseDefaultFactory closes and forgets the default factory; a no-op when
// there is none.
func CloseDefaultFactory() error {
	defaultFactory.Lock()
	f := defaultFactory.f
	defaultFactory.f = nil
	defaultFactory.Unlock()
	if f == nil {
		return nil
	}
	return f.Close()
}
