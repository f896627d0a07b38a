package rediscache

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Cache is a session.Repository that serves reads from Redis and passes
// everything else to the Repository it wraps. It also implements
// session.StatsReporter, session.Pinger and session.MessageAppender (see
// AppendMessage for how it does over a repository that lacks it). It is
// safe for concurrent use.
type Cache struct {
	inner  session.Repository
	client redis.UniversalClient
	opts   Options
	br     *breaker
	flight singleflight.Group

	closed atomic.Bool
	once   sync.Once
	done   chan struct{}
	kick   chan struct{} // wakes the retry loop after a failed invalidation
	wg     sync.WaitGroup

	// pending holds the sessions written through this Cache whose
	// invalidation failed, with the sequence number of the latest such
	// write. While a session is pending this process never reads its cache
	// entries; the retry loop removes it once an invalidation succeeds.
	pendingMu     sync.Mutex
	pending       map[string]uint64
	pendingN      atomic.Int64
	seq           atomic.Uint64
	overflowUntil atomic.Int64 // unix nanos; bypass everything before it
	// retryMu serializes retry passes: two passes (the loop's tick and the
	// caller of retryPending) taking the same batch would send an
	// invalidation twice, and the second DEL would throw away an entry
	// filled after the first landed.
	retryMu sync.Mutex

	hits, misses, fills, fillsRejected, invalidations, invalidationFailures,
	bypasses, oversize, errs, writeThroughs atomic.Int64
}

var (
	_ session.Repository      = (*Cache)(nil)
	_ session.StatsReporter   = (*Cache)(nil)
	_ session.Pinger          = (*Cache)(nil)
	_ session.MessageAppender = (*Cache)(nil)
	_ driver.PreparedAppender = (*Cache)(nil)
)

// New wraps inner with a Redis read-through cache on client, which may be a
// single node, Sentinel or Cluster client. Close closes inner, and the
// client too when opts.CloseClient is set. For RedisTimeout to bound calls,
// build the client with ContextTimeoutEnabled.
func New(inner session.Repository, client redis.UniversalClient, opts Options) (*Cache, error) {
	if inner == nil {
		return nil, driver.InvalidArgument("inner", "is nil")
	}
	if client == nil {
		return nil, driver.InvalidArgument("client", "is nil")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache{
		inner: inner, client: client, opts: o,
		br:      &breaker{threshold: o.BreakerFailures, cooldown: o.BreakerCooldown, now: o.Now, log: o.Logger},
		done:    make(chan struct{}),
		kick:    make(chan struct{}, 1),
		pending: map[string]uint64{},
	}
	c.wg.Add(1)
	go c.retryLoop()
	return c, nil
}

// Inner returns the wrapped repository.
func (c *Cache) Inner() session.Repository { return c.inner }

// Close stops the retry loop and closes the wrapped repository (and the
// Redis client when Options.CloseClient is set). It is idempotent; calls
// after Close return session.ErrClosed.
func (c *Cache) Close() error {
	var err error
	c.once.Do(func() {
		c.closed.Store(true)
		close(c.done)
		c.wg.Wait()
		err = c.inner.Close()
		if c.opts.CloseClient {
			if cerr := c.client.Close(); cerr != nil && !errors.Is(cerr, redis.ErrClosed) {
				err = errors.Join(err, fmt.Errorf("rediscache: close redis client: %w", cerr))
			}
		}
	})
	return err
}

func (c *Cache) check() error {
	if c.closed.Load() {
		return fmt.Errorf("rediscache: %w", session.ErrClosed)
	}
	return nil
}

// Ping implements session.Pinger for the backend alone: it is the wrapped
// repository's Ping (nil when it has none). Redis is not part of it — the
// cache fails open, so a Redis outage does not make the repository
// unavailable; PingCache reports on Redis.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.check(); err != nil {
		return err
	}
	if p, ok := c.inner.(session.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("backend: %w", err)
		}
	}
	return nil
}

// PingCache reports whether the cache is doing its job: nil when Redis
// answers a PING within ctx and the breaker is closed; otherwise an error
// saying why reads are (or may be) served from the backend. A non-nil
// result means "degraded", never "down": every call still succeeds.
func (c *Cache) PingCache(ctx context.Context) error {
	if err := c.check(); err != nil {
		return err
	}
	if err := c.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("rediscache: redis did not answer PING: %w", err)
	}
	if state, _ := c.br.snapshot(); state != BreakerClosed {
		return fmt.Errorf("rediscache: circuit breaker %s after failed Redis calls; reads go to the backend", state)
	}
	return nil
}

// Stats reports the cache counters, merged with the wrapped repository's
// when it is a session.StatsReporter.
func (c *Cache) Stats() map[string]float64 {
	out := map[string]float64{}
	if sr, ok := c.inner.(session.StatsReporter); ok {
		for k, v := range sr.Stats() {
			out[k] = v
		}
	}
	state, opens := c.br.snapshot()
	for k, v := range map[string]int64{
		"cache_hits_total":                  c.hits.Load(),
		"cache_misses_total":                c.misses.Load(),
		"cache_fills_total":                 c.fills.Load(),
		"cache_fills_rejected_total":        c.fillsRejected.Load(),
		"cache_invalidations_total":         c.invalidations.Load(),
		"cache_invalidation_failures_total": c.invalidationFailures.Load(),
		"cache_bypasses_total":              c.bypasses.Load(),
		"cache_oversize_total":              c.oversize.Load(),
		"cache_errors_total":                c.errs.Load(),
		"cache_breaker_state":               int64(state),
		"cache_breaker_opens_total":         opens,
		"cache_pending_invalidations":       c.pendingN.Load(),
		"cache_write_throughs_total":        c.writeThroughs.Load(),
	} {
		out[k] = float64(v)
	}
	return out
}

// StatsHelp returns a one-line description of each counter Stats reports
// itself (the wrapped repository's are described by it), for /metrics HELP
// lines.
func (c *Cache) StatsHelp() map[string]string {
	out := map[string]string{}
	if sh, ok := c.inner.(interface{ StatsHelp() map[string]string }); ok {
		for k, v := range sh.StatsHelp() {
			out[k] = v
		}
	}
	for k, v := range statsHelp {
		out[k] = v
	}
	return out
}

var statsHelp = map[string]string{
	"cache_hits_total":                  "Reads served from Redis.",
	"cache_misses_total":                "Reads that looked in Redis and went to the backend.",
	"cache_fills_total":                 "Backend answers stored in Redis.",
	"cache_fills_rejected_total":        "Fills dropped because a write changed the session meanwhile.",
	"cache_invalidations_total":         "Generation-key DELs that reached Redis after a write.",
	"cache_invalidation_failures_total": "Writes whose invalidation did not land within the invalidate timeout (retried in the background).",
	"cache_bypasses_total":              "Reads sent straight to the backend (breaker open, Redis failing, or the session's invalidation pending).",
	"cache_oversize_total":              "Backend answers too large to cache.",
	"cache_errors_total":                "Failed Redis calls on the read path.",
	"cache_breaker_state":               "Circuit breaker over Redis reads: 0 closed, 1 half-open, 2 open.",
	"cache_breaker_opens_total":         "Times the circuit breaker opened.",
	"cache_write_throughs_total":        "Writes whose commit carried entries they had not made wrong (updated to the write) to the new generation.",
	"cache_pending_invalidations":       "Sessions written by this process whose invalidation has not reached Redis yet; other processes may serve them stale until it does or their entries expire.",
}

// --- Redis calls and the breaker ---

// redisDone feeds the outcome of a Redis call made under ctx to the
// breaker. redis.Nil is a success. It reports whether the call worked.
func (c *Cache) redisDone(ctx context.Context, err error) bool {
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		c.br.success()
		return true
	case ctx.Err() != nil:
		// The caller's own deadline or cancellation: says nothing about Redis.
		c.br.abandon()
	default:
		c.errs.Add(1)
		c.br.failure(err)
		c.refreshTopology()
	}
	return false
}

// refreshTopology asks a Cluster client to reload the slot map after a
// failed call. go-redis reloads it by itself on MOVED replies and every
// ClusterStateReloadInterval (a minute by default), but not when a master
// dies: until then it keeps sending that master's slots to the dead address,
// so pending invalidations would not reach the promoted replica. Reloads are
// coalesced by go-redis.
func (c *Cache) refreshTopology() {
	if cc, ok := c.client.(*redis.ClusterClient); ok {
		cc.ReloadState(context.Background())
	}
}

func (c *Cache) redisCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.RedisTimeout)
}

// newToken returns a random generation token. Tokens are never reused, so a
// reader holding an old token can never match a newer generation (no ABA).
func newToken() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// genScript returns the session's generation token, creating it from
// ARGV[1] (with a PX of ARGV[2]) when absent. KEYS[1] is the generation key.
// Hits never run it: it is needed only when a lookup found no generation.
var genScript = redis.NewScript(`
local g = redis.call('GET', KEYS[1])
if g then return g end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`)

// fillScript stores an entry (ARGV[2], which embeds the token ARGV[1]) at
// KEYS[2] only if the session's generation KEYS[1] is still the token the
// reader saw before it read the backend; a write in between deleted or
// replaced the token, and the old value is dropped. It keeps the generation
// alive at least as long as the entry. Both keys share the session's hash
// tag, hence its Cluster slot.
var fillScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`)

// --- staleness bookkeeping ---

// cacheable reports whether this process may use the cache for sessionID:
// not while an invalidation of it is pending, nor during a pending-set
// overflow.
func (c *Cache) cacheable(sessionID string) bool {
	if until := c.overflowUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return false
	}
	if c.pendingN.Load() == 0 {
		return true
	}
	c.pendingMu.Lock()
	_, dirty := c.pending[sessionID]
	c.pendingMu.Unlock()
	return !dirty
}

func (c *Cache) markPending(sessionID string) {
	c.invalidationFailures.Add(1)
	c.pendingMu.Lock()
	defer c.pendingMu.Unlock()
	if _, ok := c.pending[sessionID]; !ok && len(c.pending) >= c.opts.MaxPending {
		c.overflowUntil.Store(time.Now().Add(c.opts.maxTTL()).UnixNano())
		return
	}
	c.pending[sessionID] = c.seq.Add(1)
	c.pendingN.Store(int64(len(c.pending)))
}

// clearPending forgets sessionID if nothing was marked since seq.
func (c *Cache) clearPending(sessionID string, seq uint64) {
	c.pendingMu.Lock()
	defer c.pendingMu.Unlock()
	if s, ok := c.pending[sessionID]; ok && s <= seq {
		delete(c.pending, sessionID)
		c.pendingN.Store(int64(len(c.pending)))
	}
}

// invalidate runs after a write reached the backend: it deletes the
// session's generation token, which makes every entry of the session
// unusable (the next fill overwrites it, or it expires) and defeats any fill
// in flight.
//
// The DEL is sent whatever the breaker says: the breaker guards read
// latency, and an open breaker may only mean that fills failed (Redis out of
// memory, slow replies) while a DEL would land — skipping it would let other
// processes serve the old value. It gets Options.InvalidateTimeout, within
// which fast failures (a killed connection, a refused dial) are retried.
// When it still fails the session is marked pending: this process stops
// reading its entries, and the retry loop sends the DEL again every
// Options.InvalidateRetry until it lands.
func (c *Cache) invalidate(ctx context.Context, sessionID string) {
	if driver.ValidateSessionID(sessionID) != nil {
		return
	}
	seq := c.seq.Load()
	if c.delGen(ctx, sessionID) {
		c.clearPending(sessionID, seq)
		return
	}
	c.markPending(sessionID)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// delGen deletes the session's generation key within InvalidateTimeout
// (and ctx), retrying fast failures. Its outcome feeds the breaker as one
// call: a success closes it (Redis answers), a DEL that failed for its
// whole budget counts one failure.
func (c *Cache) delGen(ctx context.Context, sessionID string) bool {
	dctx, cancel := context.WithTimeout(ctx, c.opts.InvalidateTimeout)
	defer cancel()
	key := keysFor(c.opts.Prefix, sessionID).gen
	pause := 5 * time.Millisecond
	for {
		err := c.client.Del(dctx, key).Err()
		if err == nil {
			c.invalidations.Add(1)
			c.br.success()
			return true
		}
		c.refreshTopology()
		t := time.NewTimer(pause)
		select {
		case <-dctx.Done():
			t.Stop()
			// Not in cache_errors_total: a failed invalidation shows in
			// cache_invalidation_failures_total and the pending gauge.
			if ctx.Err() == nil {
				c.br.failure(err)
			}
			return false
		case <-t.C:
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// retryLoop retries pending invalidations every InvalidateRetry, and at
// once after a write could not invalidate, until Close.
func (c *Cache) retryLoop() {
	defer c.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-c.done
		cancel()
	}()
	t := time.NewTicker(c.opts.InvalidateRetry)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		case <-c.kick:
		}
		c.retryPending(ctx)
	}
}

// retryPending sends the DEL of up to 256 pending sessions, and stops at
// the first that fails (Redis is still unreachable from here).
func (c *Cache) retryPending(ctx context.Context) {
	if c.pendingN.Load() == 0 {
		return
	}
	c.retryMu.Lock()
	defer c.retryMu.Unlock()
	c.pendingMu.Lock()
	batch := make(map[string]uint64, min(len(c.pending), 256))
	for id, s := range c.pending {
		batch[id] = s
		if len(batch) == 256 {
			break
		}
	}
	c.pendingMu.Unlock()
	for id, s := range batch {
		if !c.delGen(ctx, id) {
			return
		}
		c.clearPending(id, s)
	}
}

// written invalidates sessionID after a write, unless err proves the write
// was refused before it looked at the stored state (bad input, a closed
// repository).
//
// Refusals that did look at it — already exists, not found, conflict, too
// large — invalidate too: the caller has just seen the backend's current
// state, which may come from another writer whose own invalidation has not
// reached Redis yet (it is between its backend write and its DEL, or Redis
// was unreachable when it tried). Without this, a caller told "already
// exists" by the backend could read a cached "not found" right after.
func (c *Cache) written(ctx context.Context, sessionID string, err error) error {
	if err != nil && (errors.Is(err, session.ErrInvalidArgument) || errors.Is(err, session.ErrClosed)) {
		return err
	}
	c.invalidate(ctx, sessionID)
	return err
}

// --- read-through ---

// cachedNotFound is a cached "not found" answer: the backend's message,
// matching session.ErrNotFound.
type cachedNotFound struct{ msg string }

func (e *cachedNotFound) Error() string        { return e.msg }
func (e *cachedNotFound) Is(target error) bool { return target == session.ErrNotFound }

// codec describes how one kind of entry is stored.
type codec[T any] struct {
	kind Kind
	enc  func(*encoder, T) error
	dec  func(*decoder) T
	// fillable, when set, says whether a backend answer may be stored.
	fillable func(T) bool
	// usable, when set, says whether a found entry answers this read; an
	// entry that does not is a miss (and is overwritten by the fill).
	usable func(T) bool
	// flight, when set, is added to the singleflight key: reads of one
	// entry that load different things from the backend must not share.
	flight string
	// expiry, when set, returns the session expiry a loaded value carries
	// (the session record): its fill records it for the session's other
	// entries (see expiry.go).
	expiry func(T) time.Time
}

// encodeEntry returns the cache entry for a backend answer read under
// generation token gen, or nil when the answer is not cacheable (an error
// other than not-found, or a value the codec does not store). See splitEntry for the layout.
func encodeEntry[T any](cd codec[T], gen string, v T, err error) ([]byte, error) {
	if len(gen) > 255 {
		return nil, fmt.Errorf("rediscache: generation token of %d bytes", len(gen))
	}
	if err != nil {
		if !errors.Is(err, session.ErrNotFound) {
			return nil, nil
		}
		e := newEncoder(gen, statusNotFound)
		e.string(err.Error())
		return e.buf, nil
	}
	if cd.fillable != nil && !cd.fillable(v) {
		return nil, nil
	}
	e := newEncoder(gen, statusFound)
	if eerr := cd.enc(e, v); eerr != nil {
		return nil, eerr
	}
	return e.buf, nil
}

// splitEntry splits an entry into the generation token it was filled under
// and its body (status byte and record). An entry is
//
//	version byte, token length byte, token, status byte, record
//
// ok is false for another format version or a truncated header.
func splitEntry(b string) (token, body string, ok bool) {
	if len(b) < 2 || b[0] != formatVersion || len(b)-2 < int(b[1]) {
		return "", "", false
	}
	n := 2 + int(b[1])
	return b[2:n], b[n:], true
}

// decodeEntry decodes a whole entry (whatever its token) into a fresh
// value or the cached not-found error; see decodeBody.
func decodeEntry[T any](cd codec[T], b string) (T, error, bool) {
	_, body, ok := splitEntry(b)
	if !ok {
		var zero T
		return zero, nil, false
	}
	return decodeBody(cd, body)
}

// decodeBody decodes an entry's body into a fresh value (or the cached
// not-found error). The value's strings are substrings of b (see decoder);
// nothing else in it is shared with b or with any other decode. ok is false
// when the body does not decode.
func decodeBody[T any](cd codec[T], b string) (T, error, bool) {
	var zero T
	if len(b) < 1 {
		return zero, nil, false
	}
	d := &decoder{buf: b[1:]}
	switch b[0] {
	case statusNotFound:
		msg := d.string()
		if d.err != nil || len(d.buf) != 0 {
			return zero, nil, false
		}
		return zero, &cachedNotFound{msg: msg}, true
	case statusFound:
		v := cd.dec(d)
		if d.err != nil || len(d.buf) != 0 {
			return zero, nil, false
		}
		return v, nil, true
	}
	return zero, nil, false
}

func (c *Cache) ttl(kind Kind, negative bool) time.Duration {
	d := c.opts.KindTTL[kind]
	if negative {
		d = min(d, c.opts.NegativeTTL)
	}
	if c.opts.Jitter > 0 {
		d += time.Duration(rand.Float64() * c.opts.Jitter * float64(d))
	}
	return max(d, time.Millisecond)
}

// flightResult is what one backend read shares with the callers that
// joined it: the encoded entry (each caller decodes its own copy) or the
// value itself when it could not be encoded.
type flightResult struct {
	entry    string
	hasEntry bool
	value    any
	err      error
}

// read serves one read through the cache. load reads the backend.
func read[T any](ctx context.Context, c *Cache, sessionID, field string, cd codec[T], load func(context.Context) (T, error)) (T, error) {
	if err := c.check(); err != nil {
		var zero T
		return zero, err
	}
	if !c.cacheable(sessionID) || !c.br.allow() {
		c.bypasses.Add(1)
		return load(ctx)
	}
	keys := keysFor(c.opts.Prefix, sessionID)
	entryKey := keys.entry(field)
	gen, raw, expiry, found, ok := c.lookup(ctx, keys, entryKey)
	if !ok {
		c.bypasses.Add(1)
		return load(ctx)
	}
	now := c.opts.Now()
	if c.expired(expiry, now) {
		found = false // never served: the backend answers for an expired session
	}
	if found {
		switch token, body, hdrOK := splitEntry(raw); {
		case !hdrOK:
			c.errs.Add(1) // corrupt or foreign entry: reload and overwrite it
		case token != gen:
			// Filled under an older generation: a write has happened since.
		default:
			v, err, ok := decodeBody(cd, body)
			switch {
			case !ok:
				c.errs.Add(1)
			case err == nil && cd.usable != nil && !cd.usable(v):
				// Found, but it does not cover this read.
			default:
				c.hits.Add(1)
				return v, err
			}
		}
	}
	c.misses.Add(1)

	// Callers that saw the same generation share one backend read. A caller
	// that arrives after a write sees a new generation and so never joins a
	// read that started before the write.
	ch := c.flight.DoChan(keys.gen+"\x00"+gen+"\x00"+field+"\x00"+cd.flight, func() (any, error) {
		v, lerr := load(ctx)
		b, eerr := encodeEntry(cd, gen, v, lerr)
		switch {
		case eerr != nil:
			c.errs.Add(1)
			return flightResult{value: v, err: lerr}, nil
		case b == nil:
			return flightResult{value: v, err: lerr}, nil
		}
		// One immutable copy that every caller decodes from (and that go-redis
		// sends as it is).
		entry := string(b)
		ttl := capTTL(c.ttl(cd.kind, lerr != nil), expiry, now)
		switch {
		case len(entry) > c.opts.MaxValueBytes:
			c.oversize.Add(1)
		case cd.expiry != nil && lerr == nil:
			c.fillSession(ctx, keys, entryKey, gen, entry, ttl, cd.expiry(v), now)
		case ttl > 0:
			c.fill(ctx, keys.gen, entryKey, gen, entry, ttl)
		}
		return flightResult{entry: entry, hasEntry: true, err: lerr}, nil
	})
	var r singleflight.Result
	select {
	case r = <-ch:
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("session %q: %w", sessionID, ctx.Err())
	}
	fr := r.Val.(flightResult)
	if fr.err != nil && ctx.Err() == nil && (errors.Is(fr.err, context.Canceled) || errors.Is(fr.err, context.DeadlineExceeded)) {
		// The read we joined died with its leader's context, not ours.
		return load(ctx)
	}
	if !fr.hasEntry {
		if fr.err != nil {
			var zero T
			return zero, fr.err
		}
		if r.Shared {
			return load(ctx) // not encodable, so not copyable: read our own
		}
		return fr.value.(T), nil
	}
	v, derr, ok := decodeEntry(cd, fr.entry)
	if !ok {
		return load(ctx)
	}
	if fr.err != nil {
		return v, fr.err
	}
	return v, derr
}

// lookup reads the session's generation token and the entry at entryKey in
// one MULTI/EXEC: atomic, one round trip, and sent to the primary by every
// go-redis client (a Cluster client in ReadOnly mode routes transactions to
// the slot's master), so the token is never a replica's lagging copy. The
// entry bytes reach the caller as go-redis read them, never copied through
// Lua. When the session has no generation, a second call (genScript)
// creates one; that read is a miss anyway. ok is false when Redis failed.
func (c *Cache) lookup(ctx context.Context, keys sessionKeys, entryKey string) (gen, entry string, expiry time.Time, found, ok bool) {
	rctx, cancel := c.redisCtx(ctx)
	defer cancel()
	var genCmd, entryCmd, expCmd *redis.StringCmd
	_, err := c.client.TxPipelined(rctx, func(p redis.Pipeliner) error {
		genCmd = p.Get(rctx, keys.gen)
		entryCmd = p.Get(rctx, entryKey)
		expCmd = p.Get(rctx, keys.expiry())
		return nil
	})
	// err is the first failed command's error, which may be redis.Nil
	// although another command failed for real: look at each.
	gen, gerr := genCmd.Result()
	entry, eerr := entryCmd.Result()
	exp, xerr := expCmd.Result()
	for _, e := range []error{err, gerr, eerr, xerr} {
		if e != nil && !errors.Is(e, redis.Nil) {
			err = e
		}
	}
	if !c.redisDone(ctx, err) {
		return "", "", time.Time{}, false, false
	}
	if xerr == nil {
		expiry = parseExpiry(exp)
	}
	switch {
	case gerr == nil && eerr == nil:
		return gen, entry, expiry, true, true
	case gerr == nil:
		return gen, "", expiry, false, true
	}
	gen, err = genScript.Run(rctx, c.client, []string{keys.gen}, newToken(), c.opts.maxTTL().Milliseconds()).Text()
	if !c.redisDone(ctx, err) || gen == "" {
		return "", "", time.Time{}, false, false
	}
	return gen, "", expiry, false, true
}

// fill stores entry at entryKey if the generation is still gen.
func (c *Cache) fill(ctx context.Context, genKey, entryKey, gen, entry string, ttl time.Duration) {
	if !c.br.allow() {
		return
	}
	rctx, cancel := c.redisCtx(ctx)
	n, err := fillScript.Run(rctx, c.client, []string{genKey, entryKey},
		gen, entry, ttl.Milliseconds()).Int()
	cancel()
	if !c.redisDone(ctx, err) {
		return
	}
	if n == 1 {
		c.fills.Add(1)
	} else {
		c.fillsRejected.Add(1)
	}
}
