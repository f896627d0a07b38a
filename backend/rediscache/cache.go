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
)

// Cache is a session.Repository that serves reads from Redis and passes
// everything else to the Repository it wraps. It also implements
// session.StatsReporter and session.Pinger. It is safe for concurrent use.
type Cache struct {
	inner  session.Repository
	client redis.UniversalClient
	opts   Options
	br     *breaker
	flight singleflight.Group

	closed atomic.Bool
	once   sync.Once
	done   chan struct{}
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

	hits, misses, fills, fillsRejected, invalidations, invalidationFailures,
	bypasses, oversize, errs atomic.Int64
}

var (
	_ session.Repository    = (*Cache)(nil)
	_ session.StatsReporter = (*Cache)(nil)
	_ session.Pinger        = (*Cache)(nil)
)

// New wraps inner with a Redis read-through cache on client, which may be a
// single node, Sentinel or Cluster client. Close closes inner, and the
// client too when opts.CloseClient is set. For RedisTimeout to bound calls,
// build the client with ContextTimeoutEnabled.
func New(inner session.Repository, client redis.UniversalClient, opts Options) (*Cache, error) {
	if inner == nil {
		return nil, session.InvalidArgument("inner", "is nil")
	}
	if client == nil {
		return nil, session.InvalidArgument("client", "is nil")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache{
		inner: inner, client: client, opts: o,
		br:      &breaker{threshold: o.BreakerFailures, cooldown: o.BreakerCooldown, now: o.Now, log: o.Logger},
		done:    make(chan struct{}),
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

// Ping checks both the wrapped repository (when it is a session.Pinger) and
// Redis. The cache fails open, so a Redis error here means "degraded", not
// "down"; it is reported so that health checks can tell.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.check(); err != nil {
		return err
	}
	var errs []error
	if p, ok := c.inner.(session.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("backend: %w", err))
		}
	}
	if err := c.client.Ping(ctx).Err(); err != nil {
		errs = append(errs, fmt.Errorf("rediscache: ping redis: %w", err))
	}
	return errors.Join(errs...)
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
	} {
		out[k] = float64(v)
	}
	return out
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
	}
	return false
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

// lookupScript returns {generation, entry}: it reads the session's
// generation token — creating it from ARGV[3] when absent — and the entry
// stored under that generation. KEYS[1] is the generation key; the entry key
// base..token..":"..field shares its hash tag, hence its Cluster slot.
var lookupScript = redis.NewScript(`
local g = redis.call('GET', KEYS[1])
if not g then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
  return {ARGV[3], false}
end
return {g, redis.call('GET', ARGV[1] .. g .. ':' .. ARGV[2])}
`)

// fillScript stores an entry only if the session's generation is still the
// token the reader saw before it read the backend; a write in between
// deleted or replaced the token, and the old value is dropped. It keeps the
// generation alive at least as long as the entry.
var fillScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[3] then return 0 end
redis.call('SET', ARGV[1] .. ARGV[3] .. ':' .. ARGV[2], ARGV[4], 'PX', ARGV[5])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
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
// session's generation token, which orphans every entry of the session
// (they expire on their own) and defeats any fill in flight. When Redis
// cannot be reached the session is marked pending instead.
func (c *Cache) invalidate(ctx context.Context, sessionID string) {
	if session.ValidateSessionID(sessionID) != nil {
		return
	}
	seq := c.seq.Load()
	if c.br.allow() {
		rctx, cancel := c.redisCtx(ctx)
		err := c.client.Del(rctx, keysFor(c.opts.Prefix, sessionID).gen).Err()
		cancel()
		if c.redisDone(ctx, err) {
			c.invalidations.Add(1)
			c.clearPending(sessionID, seq)
			return
		}
	}
	c.markPending(sessionID)
}

// retryLoop retries pending invalidations every cooldown until Close.
func (c *Cache) retryLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.BreakerCooldown)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.retryPending()
		}
	}
}

func (c *Cache) retryPending() {
	if c.pendingN.Load() == 0 {
		return
	}
	c.pendingMu.Lock()
	batch := make(map[string]uint64, min(len(c.pending), 256))
	for id, s := range c.pending {
		batch[id] = s
		if len(batch) == 256 {
			break
		}
	}
	c.pendingMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for id, s := range batch {
		if !c.br.allow() {
			return
		}
		rctx, rcancel := c.redisCtx(ctx)
		err := c.client.Del(rctx, keysFor(c.opts.Prefix, id).gen).Err()
		rcancel()
		if !c.redisDone(ctx, err) {
			return
		}
		c.invalidations.Add(1)
		c.clearPending(id, s)
	}
}

// written invalidates sessionID after a write, unless err proves the write
// changed nothing.
func (c *Cache) written(ctx context.Context, sessionID string, err error) error {
	for _, unchanged := range []error{session.ErrInvalidArgument, session.ErrNotFound,
		session.ErrAlreadyExists, session.ErrConflict, session.ErrTooLarge, session.ErrClosed} {
		if err != nil && errors.Is(err, unchanged) {
			return err
		}
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
}

// encodeEntry returns the cache entry for a backend answer, or nil when the
// answer is not cacheable (an error other than not-found).
func encodeEntry[T any](cd codec[T], v T, err error) ([]byte, error) {
	if err != nil {
		if !errors.Is(err, session.ErrNotFound) {
			return nil, nil
		}
		e := newEncoder(statusNotFound)
		e.string(err.Error())
		return e.buf, nil
	}
	e := newEncoder(statusFound)
	if eerr := cd.enc(e, v); eerr != nil {
		return nil, eerr
	}
	return e.buf, nil
}

// decodeEntry decodes an entry into a fresh value (or the cached not-found
// error).
func decodeEntry[T any](cd codec[T], b []byte) (T, error, bool) {
	var zero T
	if len(b) < 2 || b[0] != formatVersion {
		return zero, nil, false
	}
	d := &decoder{buf: b[2:]}
	switch b[1] {
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
	entry []byte
	value any
	err   error
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
	rctx, cancel := c.redisCtx(ctx)
	res, err := lookupScript.Run(rctx, c.client, []string{keys.gen},
		keys.base, field, newToken(), c.opts.maxTTL().Milliseconds()).Slice()
	cancel()
	if !c.redisDone(ctx, err) {
		c.bypasses.Add(1)
		return load(ctx)
	}
	gen, _ := res[0].(string)
	if len(res) != 2 || gen == "" {
		c.errs.Add(1)
		c.bypasses.Add(1)
		return load(ctx)
	}
	if raw, ok := res[1].(string); ok {
		if v, err, ok := decodeEntry(cd, []byte(raw)); ok {
			c.hits.Add(1)
			return v, err
		}
		c.errs.Add(1) // corrupt or foreign entry: reload and overwrite it
	}
	c.misses.Add(1)

	// Callers that saw the same generation share one backend read. A caller
	// that arrives after a write sees a new generation and so never joins a
	// read that started before the write.
	ch := c.flight.DoChan(keys.gen+"\x00"+gen+"\x00"+field, func() (any, error) {
		v, lerr := load(ctx)
		entry, eerr := encodeEntry(cd, v, lerr)
		switch {
		case eerr != nil:
			c.errs.Add(1)
			return flightResult{value: v, err: lerr}, nil
		case entry == nil:
			return flightResult{err: lerr}, nil
		case len(entry) > c.opts.MaxValueBytes:
			c.oversize.Add(1)
			return flightResult{entry: entry, err: lerr}, nil
		}
		c.fill(ctx, keys, gen, field, entry, c.ttl(cd.kind, lerr != nil))
		return flightResult{entry: entry, err: lerr}, nil
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
	if fr.entry == nil {
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

// fill stores an entry if the generation is still gen.
func (c *Cache) fill(ctx context.Context, keys sessionKeys, gen, field string, entry []byte, ttl time.Duration) {
	if !c.br.allow() {
		return
	}
	rctx, cancel := c.redisCtx(ctx)
	n, err := fillScript.Run(rctx, c.client, []string{keys.gen},
		keys.base, field, gen, entry, ttl.Milliseconds()).Int()
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
