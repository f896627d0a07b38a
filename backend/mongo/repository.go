package mongo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/sessionkit/sessionkit/session"
	sessiondriver "github.com/sessionkit/sessionkit/session/driver"
)

// Repository is the MongoDB session.Repository. It is safe for concurrent
// use. On servers with atomic single-document updates (MongoDB, Atlas,
// mongo-java-server) it is also safe for many processes sharing one
// collection; on FerretDB v1 it serializes writes per session inside the
// process, and only one process may use the collection.
type Repository struct {
	opts   Options
	client *driver.Client
	coll   *driver.Collection
	shared *sharedClient // nil for a borrowed client
	caps   Capabilities
	// lockPrefix scopes the per-session write locks to the collection.
	lockPrefix string
	layout     layout

	closed    atomic.Bool
	closeMu   sync.RWMutex   // orders inflight.Add before Close's Wait
	inflight  sync.WaitGroup // detached writes (see write)
	closeOnce sync.Once
	closeErr  error
	counters  counters

	sweeper *sessiondriver.Sweeper // expiry sweeper (expiry.go); nil when disabled
}

var (
	_ session.Repository    = (*Repository)(nil)
	_ session.Pinger        = (*Repository)(nil)
	_ session.StatsReporter = (*Repository)(nil)
)

// counters are the repository's own statistics.
type counters struct {
	operations, failures, tooLarge, repairs atomic.Int64
	largestDocument                         atomic.Int64

	mu          sync.Mutex
	overWarning map[string]struct{} // sessions seen past WarnDocumentBytes
}

// maxTrackedOverWarning bounds the set of sessions remembered as being past
// the warning size.
const maxTrackedOverWarning = 10000

// observeSize records a session document's size bound as seen by a read or a
// failed write.
func (r *Repository) observeSize(sessionID string, size int64) {
	for {
		cur := r.counters.largestDocument.Load()
		if size <= cur || r.counters.largestDocument.CompareAndSwap(cur, size) {
			break
		}
	}
	r.counters.mu.Lock()
	defer r.counters.mu.Unlock()
	if size < r.opts.WarnDocumentBytes {
		delete(r.counters.overWarning, sessionID)
		return
	}
	if r.counters.overWarning == nil {
		r.counters.overWarning = map[string]struct{}{}
	}
	if len(r.counters.overWarning) < maxTrackedOverWarning {
		r.counters.overWarning[sessionID] = struct{}{}
	}
}

// SessionsOverWarning returns the ids of sessions seen with a document past
// Options.WarnDocumentBytes (at most 10,000 are remembered), sorted.
func (r *Repository) SessionsOverWarning() []string {
	r.counters.mu.Lock()
	defer r.counters.mu.Unlock()
	out := make([]string, 0, len(r.counters.overWarning))
	for id := range r.counters.overWarning {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Open returns a Repository over the process-wide shared client for uri and
// po (connected on first use, reference-counted: Close releases this
// repository's reference and disconnects the client only when it was the
// last). It detects the server's capabilities and creates the indexes, each
// once per process. Errors never contain the password.
func Open(ctx context.Context, uri string, opts Options, po PoolOptions) (*Repository, error) {
	sc, err := acquireClient(uri, po)
	if err != nil {
		return nil, err
	}
	r, err := newRepository(ctx, sc.client, sc, poolKey(uri, po), opts)
	if err != nil {
		_ = releaseClient(context.WithoutCancel(ctx), sc)
		return nil, fmt.Errorf("mongo: open %s: %w", session.RedactURL(uri), redactErr(err, uri))
	}
	return r, nil
}

// New returns a Repository over a caller-owned client, which Close never
// disconnects.
func New(ctx context.Context, client *driver.Client, opts Options) (*Repository, error) {
	if client == nil {
		return nil, sessiondriver.InvalidArgument("client", "is nil")
	}
	return newRepository(ctx, client, nil, fmt.Sprintf("client@%p", client), opts)
}

func newRepository(ctx context.Context, client *driver.Client, sc *sharedClient, cluster string, opts Options) (*Repository, error) {
	opts = opts.withDefaults()
	for _, f := range opts.MetadataFields {
		if err := sessiondriver.ValidateMetadataKey(f); err != nil {
			return nil, err
		}
	}
	r := &Repository{
		opts: opts, client: client, shared: sc,
		coll: client.Database(opts.Database).Collection(opts.Collection),
		// The write locks are keyed by database and collection only, not by
		// client: two clients of one process on the same FerretDB must share
		// them. Serializing same-named collections of different servers too
		// costs little and only happens on servers without atomic updates.
		lockPrefix: opts.Database + "\x00" + opts.Collection + "\x00",
	}
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	if opts.Capabilities != nil {
		r.caps = *opts.Capabilities
	} else {
		caps, err := detectCapabilities(ctx, client)
		if err != nil {
			return nil, err
		}
		r.caps = caps
	}
	if err := r.ensureIndexes(ctx, cluster); err != nil {
		return nil, err
	}
	r.layout = &embeddedLayout{r: r}
	r.sweeper = sessiondriver.StartSweeper(r.SweepExpired, opts.Sweep)
	return r, nil
}

// Capabilities reports the server features in use (detected or forced).
func (r *Repository) Capabilities() Capabilities { return r.caps }

// Client returns the underlying driver client (shared or borrowed); the
// caller must not disconnect it.
func (r *Repository) Client() *driver.Client { return r.client }

// ensureIndexes creates the indexes, once per cluster, database and
// collection in this process (the original re-created them on every
// construction). See the package documentation for why each exists.
func (r *Repository) ensureIndexes(ctx context.Context, cluster string) error {
	key := cluster + "\x00" + r.opts.Database + "\x00" + r.opts.Collection
	v, _ := indexCache.LoadOrStore(key, &indexEntry{})
	e := v.(*indexEntry)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return nil
	}
	models := []driver.IndexModel{
		r.expiryIndex(),
		{Keys: bson.D{{Key: fCreatedAt, Value: 1}}},
		{Keys: bson.D{{Key: fUpdatedAt, Value: 1}}},
		{Keys: bson.D{{Key: fSessionID, Value: 1}}},
		{Keys: bson.D{{Key: fApplicationName, Value: 1}}},
		{Keys: bson.D{{Key: fApplicationName, Value: 1}, {Key: fCreatedAt, Value: -1}}},
		{Keys: bson.D{{Key: forkSourceIndex, Value: 1}}}, // the forks of a session (fork.go)
	}
	for _, f := range r.opts.MetadataFields {
		models = append(models, driver.IndexModel{Keys: bson.D{{Key: fMetadata + "." + f, Value: 1}}})
	}
	// Create only the missing indexes: FerretDB v1 drops the connection on
	// a createIndexes that repeats existing ones.
	existing := map[string]bool{}
	cur, err := r.coll.Indexes().List(ctx)
	if err != nil {
		return fmt.Errorf("mongo: list indexes on %s.%s: %w", r.opts.Database, r.opts.Collection, err)
	}
	var specs []bson.D
	if err := cur.All(ctx, &specs); err != nil {
		return fmt.Errorf("mongo: list indexes on %s.%s: %w", r.opts.Database, r.opts.Collection, err)
	}
	for _, s := range specs {
		existing[keySpec(mustField(s, "key"))] = true
	}
	var missing []driver.IndexModel
	for _, m := range models {
		if !existing[keySpec(m.Keys)] {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		if _, err := r.coll.Indexes().CreateMany(ctx, missing); err != nil {
			return fmt.Errorf("mongo: create indexes on %s.%s: %w", r.opts.Database, r.opts.Collection, err)
		}
	}
	e.done = true
	return nil
}

// keySpec renders an index key document ({a: 1, b: -1}) as "a:1,b:-1".
func keySpec(v any) string {
	var out []string
	switch d := v.(type) {
	case bson.D:
		for _, e := range d {
			out = append(out, fmt.Sprintf("%s:%v", e.Key, number(e.Value)))
		}
	case bson.M:
		// bson.M loses order; listIndexes decodes into bson.D below.
		for k, e := range d {
			out = append(out, fmt.Sprintf("%s:%v", k, number(e)))
		}
	}
	return strings.Join(out, ",")
}

// Close releases the repository: a shared client loses one reference (and
// is disconnected when it was the last), a borrowed client is left alone.
// It first waits for writes that outlived their caller's context on a server
// without atomic updates (each bounded by Options.OperationTimeout).
// Idempotent; later calls on the repository return session.ErrClosed.
func (r *Repository) Close() error {
	r.closeOnce.Do(func() {
		r.sweeper.Close() // before the client goes: a pass in progress is cancelled
		r.closeMu.Lock()
		r.closed.Store(true)
		r.closeMu.Unlock()
		r.inflight.Wait()
		if r.shared != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10e9)
			defer cancel()
			r.closeErr = releaseClient(ctx, r.shared)
		}
	})
	return r.closeErr
}

// Ping checks that the server answers (one round trip).
func (r *Repository) Ping(ctx context.Context) error {
	if r.closed.Load() {
		return session.ErrClosed
	}
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	if err := r.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

// Stats returns the repository's counters and, for a shared client, the
// driver's live pool and command statistics. It makes no round trip and
// never includes a credential.
func (r *Repository) Stats() map[string]float64 {
	out := map[string]float64{
		"mongo_operations_total":          float64(r.counters.operations.Load()),
		"mongo_operation_failures_total":  float64(r.counters.failures.Load()),
		"mongo_too_large_total":           float64(r.counters.tooLarge.Load()),
		"mongo_sessions_over_warning":     float64(len(r.SessionsOverWarning())),
		"mongo_size_repairs_total":        float64(r.counters.repairs.Load()),
		"mongo_largest_document_bytes":    float64(r.counters.largestDocument.Load()),
		"mongo_max_document_bytes":        float64(r.opts.MaxDocumentBytes),
		"mongo_warn_document_bytes":       float64(r.opts.WarnDocumentBytes),
		"mongo_server_atomic_updates":     b2f(r.caps.AtomicUpdates),
		"mongo_server_slice_projection":   b2f(r.caps.SliceProjection),
		"mongo_server_positional_updates": b2f(r.caps.Positional),
		"mongo_server_aggregation":        b2f(r.caps.Aggregation),
	}
	if r.shared != nil {
		r.shared.stats.snapshot(out)
	}
	for k, v := range r.sweeper.Stats() {
		out[k] = v
	}
	out["mongo_server_ttl_indexes"] = b2f(r.caps.TTLIndexes)
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// opCtx bounds ctx by Options.OperationTimeout when it has no deadline.
func (r *Repository) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || r.opts.OperationTimeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, r.opts.OperationTimeout)
}

// begin starts a read: it checks Close and bounds ctx.
func (r *Repository) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if r.closed.Load() {
		return nil, nil, session.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	r.counters.operations.Add(1)
	ctx, cancel := r.opCtx(ctx)
	return ctx, cancel, nil
}

// write runs one write of sessionID and counts its failure.
//
// On servers with atomic single-document updates it is an ordinary call
// bounded by ctx. On servers without them (FerretDB v1) writes to a session
// are serialized in this process, and the lock must be held until the
// server has answered: a write the client gave up on may still be applied
// by the server, and the next writer's read-modify-write running beside it
// would silently lose one of the two. So once it holds the lock, the write
// runs on a context detached from ctx's cancellation, bounded by
// Options.OperationTimeout (DefaultOperationTimeout when that is negative),
// while the caller returns ctx's error as soon as ctx ends — the write's
// outcome is then unknown to it, as with any timed-out write. Close waits
// for such writes.
func (r *Repository) write(ctx context.Context, sessionID string, op func(context.Context) error) error {
	if r.caps.AtomicUpdates {
		ctx, cancel, err := r.begin(ctx)
		if err != nil {
			return err
		}
		defer cancel()
		return r.fail(op(ctx))
	}
	if r.closed.Load() {
		return session.ErrClosed
	}
	unlock, err := lockSession(ctx, r.lockPrefix+sessionID)
	if err == nil {
		// A ready lock can win the select over an ended ctx: never start a
		// write that ctx has already given up on.
		if err = ctx.Err(); err != nil {
			unlock()
		}
	}
	if err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: waiting for the session's write lock: %w", err))
	}
	r.closeMu.RLock() // so that Close never waits while a write is being added
	if r.closed.Load() {
		r.closeMu.RUnlock()
		unlock()
		return session.ErrClosed
	}
	r.inflight.Add(1)
	r.closeMu.RUnlock()
	r.counters.operations.Add(1)
	timeout := r.opts.OperationTimeout
	if timeout < 0 {
		timeout = DefaultOperationTimeout
	}
	result := make(chan error, 1)
	go func() {
		defer r.inflight.Done()
		defer unlock()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		result <- op(wctx)
	}()
	select {
	case err := <-result:
		return r.fail(err)
	case <-ctx.Done():
		r.counters.failures.Add(1)
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: write outcome unknown: %w", ctx.Err()))
	}
}

// fail counts a failed operation and returns err.
func (r *Repository) fail(err error) error {
	if err != nil && !errors.Is(err, session.ErrNotFound) && !errors.Is(err, session.ErrInvalidArgument) {
		r.counters.failures.Add(1)
	}
	if errors.Is(err, session.ErrTooLarge) {
		r.counters.tooLarge.Add(1)
	}
	return err
}

// CreateSession implements session.SessionStore.
func (r *Repository) CreateSession(ctx context.Context, s *session.Session) error {
	p, err := sessiondriver.PrepareSession(s, r.opts.Now())
	if err != nil {
		return err
	}
	return r.write(ctx, p.ID, func(ctx context.Context) error {
		return r.layout.createSession(ctx, p)
	})
}

// GetSession implements session.SessionStore.
func (r *Repository) GetSession(ctx context.Context, sessionID string) (*session.Session, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	s, err := r.layout.getSession(ctx, sessionID)
	return s, r.fail(err)
}

// DeleteSession implements session.SessionStore.
func (r *Repository) DeleteSession(ctx context.Context, sessionID string) error {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		// The snapshots go first, whether or not the document exists (a
		// session deleted by another writer may still own some): when their
		// delete fails the session is left whole and the caller retries;
		// deleting the document first would leave a failed delete's
		// snapshots to whoever creates the id next.
		if err := r.deleteSessionSnapshots(ctx, sessionID); err != nil {
			return err
		}
		return r.layout.deleteSession(ctx, sessionID)
	})
}

// ListSessions implements session.SessionStore.
func (r *Repository) ListSessions(ctx context.Context, q session.SessionQuery) (session.SessionPage, error) {
	q, cur, err := sessiondriver.PrepareQuery(q)
	if err != nil {
		return session.SessionPage{}, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return session.SessionPage{}, err
	}
	defer done()
	page, err := r.layout.listSessions(ctx, q, cur)
	return page, r.fail(err)
}

// CreateAgent implements session.AgentStore.
func (r *Repository) CreateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	p, err := sessiondriver.PrepareAgent(a, r.opts.Now())
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.createAgent(ctx, sessionID, p)
	})
}

// GetAgent implements session.AgentStore.
func (r *Repository) GetAgent(ctx context.Context, sessionID, agentID string) (*session.Agent, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	a, err := r.layout.getAgent(ctx, sessionID, agentID)
	return a, r.fail(err)
}

// UpdateAgent implements session.AgentStore.
func (r *Repository) UpdateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	p, err := sessiondriver.PrepareAgent(a, r.opts.Now())
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.updateAgent(ctx, sessionID, p)
	})
}

// UpdateAgentConfig implements session.AgentStore.
func (r *Repository) UpdateAgentConfig(ctx context.Context, sessionID, agentID string, patch session.AgentConfigPatch) error {
	if err := validateIDs(sessionID, agentID); err != nil {
		return err
	}
	if patch.Model == nil && patch.SystemPrompt == nil && patch.PromptMetadata == nil {
		return sessiondriver.InvalidArgument("agent config patch", "empty")
	}
	if err := sessiondriver.ValidatePromptMetadata(patch.PromptMetadata); err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.updateAgentConfig(ctx, sessionID, agentID, patch)
	})
}

// ListAgents implements session.AgentStore.
func (r *Repository) ListAgents(ctx context.Context, sessionID string) ([]*session.Agent, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	as, err := r.layout.listAgents(ctx, sessionID)
	return as, r.fail(err)
}

// CreateMessage implements session.MessageStore.
func (r *Repository) CreateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	if err := validateIDs(sessionID, agentID); err != nil {
		return err
	}
	p, err := sessiondriver.PrepareMessage(m, r.opts.Now())
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.createMessage(ctx, sessionID, agentID, p)
	})
}

// GetMessage implements session.MessageStore.
func (r *Repository) GetMessage(ctx context.Context, sessionID, agentID string, messageID int) (*session.Message, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, err
	}
	if err := sessiondriver.ValidateMessageID(messageID); err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	m, err := r.layout.getMessage(ctx, sessionID, agentID, messageID)
	return m, r.fail(err)
}

// UpdateMessage implements session.MessageStore.
func (r *Repository) UpdateMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	if err := validateIDs(sessionID, agentID); err != nil {
		return err
	}
	p, err := sessiondriver.PrepareMessage(m, r.opts.Now())
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.updateMessage(ctx, sessionID, agentID, p, m.EventLoopMetrics != nil, m.GuardrailEvent != nil)
	})
}

// ListMessages implements session.MessageStore.
func (r *Repository) ListMessages(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, sessiondriver.InvalidArgument("offset", "%d is negative", offset)
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	ms, err := r.layout.listMessages(ctx, sessionID, agentID, offset, limit)
	return ms, r.fail(err)
}

// CountMessages implements session.MessageStore.
func (r *Repository) CountMessages(ctx context.Context, sessionID, agentID string) (int, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return 0, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	n, err := r.layout.countMessages(ctx, sessionID, agentID)
	return n, r.fail(err)
}

// UpdateMetadata implements session.MetadataStore.
func (r *Repository) UpdateMetadata(ctx context.Context, sessionID string, metadata map[string]any) error {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	md, err := sessiondriver.PrepareMetadata(metadata)
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.updateMetadata(ctx, sessionID, md)
	})
}

// GetMetadata implements session.MetadataStore.
func (r *Repository) GetMetadata(ctx context.Context, sessionID string) (map[string]any, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	md, err := r.layout.getMetadata(ctx, sessionID)
	return md, r.fail(err)
}

// DeleteMetadata implements session.MetadataStore.
func (r *Repository) DeleteMetadata(ctx context.Context, sessionID string, keys []string) error {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	keys, err := sessiondriver.PrepareMetadataKeys(keys)
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.deleteMetadata(ctx, sessionID, keys)
	})
}

// AddFeedback implements session.FeedbackStore.
func (r *Repository) AddFeedback(ctx context.Context, sessionID string, f *session.Feedback) (*session.Feedback, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	newID := r.opts.NewID
	if newID == nil {
		newID = sessiondriver.NewID
	}
	p, err := sessiondriver.PrepareFeedback(f, r.opts.Now(), newID)
	if err != nil {
		return nil, err
	}
	p.CreatedAt = msTime(p.CreatedAt)
	if err := r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.addFeedback(ctx, sessionID, p)
	}); err != nil {
		return nil, err
	}
	return p.Clone(), nil
}

// ListFeedback implements session.FeedbackStore.
func (r *Repository) ListFeedback(ctx context.Context, sessionID string) ([]*session.Feedback, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	fs, err := r.layout.listFeedback(ctx, sessionID)
	return fs, r.fail(err)
}

// RecordGuardrailEvent implements session.GuardrailStore.
func (r *Repository) RecordGuardrailEvent(ctx context.Context, sessionID, agentID string, messageID int, ev *session.GuardrailEvent) error {
	if err := validateIDs(sessionID, agentID); err != nil {
		return err
	}
	if err := sessiondriver.ValidateMessageID(messageID); err != nil {
		return err
	}
	p, err := sessiondriver.PrepareGuardrailEvent(ev, r.opts.Now())
	if err != nil {
		return err
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.recordGuardrailEvent(ctx, sessionID, agentID, messageID, p)
	})
}

// ListGuardrailEvents implements session.GuardrailStore.
func (r *Repository) ListGuardrailEvents(ctx context.Context, sessionID string) ([]*session.SessionGuardrailEvent, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	evs, err := r.layout.listGuardrailEvents(ctx, sessionID)
	return evs, r.fail(err)
}

func validateIDs(sessionID, agentID string) error {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	return sessiondriver.ValidateAgentID(agentID)
}

// findOne runs a find by _id with a projection; it returns (nil, nil) when
// the session does not exist or has expired. The filter stays _id alone
// (FerretDB pushes down nothing else) and the expiry is checked here.
func (r *Repository) findOne(ctx context.Context, sessionID string, projection any) (bson.D, error) {
	o := options.FindOne()
	if projection != nil {
		o.SetProjection(withExpiry(projection))
	}
	var d bson.D
	err := r.coll.FindOne(ctx, bson.D{{Key: fID, Value: sessionID}}, o).Decode(&d)
	if errors.Is(err, driver.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: find: %w", err))
	}
	if r.expiredDoc(d) {
		return nil, nil
	}
	return d, nil
}

// Database and Collection name where the repository stores sessions.
func (r *Repository) Database() string { return r.opts.Database }

// Collection returns the collection name; see Database.
func (r *Repository) Collection() string { return r.opts.Collection }
