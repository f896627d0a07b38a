package rediscache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Session expiry in the cache.
//
// The cache never serves an entry of an expired session. Each session whose
// expiry the cache has seen — on CreateSession and SetSessionExpiry through
// it, and on every GetSession it loads from the backend — has a key
// "<prefix>{<id>}:x" holding the expiry, read in the same MULTI as the
// generation and the entry on every lookup. A hit is served only while the
// expiry (by Options.Now) is in the future; from the expiry on every read
// goes to the backend, which answers ErrNotFound. Entries filled while the
// expiry is known live no longer than until it, and the key lives Options'
// longest TTL past the expiry, so it outlives every entry it guards.
// The key is written by the session record's fill only under the
// generation that read it (a stale load never overwrites a newer expiry),
// and by the writes before they invalidate. As for every other write, a
// writer that bypasses the cache (or cannot reach Redis) leaves the cache
// unaware of a new expiry until the session is read from the backend again.

var _ session.ExpiryStore = (*Cache)(nil)

// expired reports whether a known expiry is not after now.
func (c *Cache) expired(expiry, now time.Time) bool {
	return !expiry.IsZero() && !expiry.After(now)
}

// capTTL shortens an entry's TTL so that it ends at the session's expiry;
// 0 means "do not fill".
func capTTL(ttl time.Duration, expiry, now time.Time) time.Duration {
	if expiry.IsZero() {
		return ttl
	}
	if left := expiry.Sub(now); left < ttl {
		if left < time.Millisecond {
			return 0
		}
		return left
	}
	return ttl
}

// parseExpiry reads the expiry key's value; garbage reads as "unknown".
func parseExpiry(s string) time.Time {
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil || us <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// expiryArgs are the value and PX of the expiry key for expiry: "" (delete
// the key) when the session has none.
func (c *Cache) expiryArgs(expiry, now time.Time) (value string, px int64) {
	if expiry.IsZero() {
		return "", 0
	}
	// Whole milliseconds, rounded down: a backend keeping milliseconds
	// (MongoDB) never sees the session alive after the cache stopped
	// serving it.
	expiry = expiry.Truncate(time.Millisecond)
	px = (max(expiry.Sub(now), 0) + c.opts.maxTTL()).Milliseconds()
	return strconv.FormatInt(expiry.UnixMicro(), 10), max(px, 1)
}

// fillSessionScript is fillScript for the session record, which also
// records the session's expiry (ARGV[4], "" to delete KEYS[3], with a PX of
// ARGV[5]) under the same generation check. ARGV[3] = 0 skips the entry
// itself (the session expires within the millisecond).
var fillSessionScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[4] == '' then
  redis.call('DEL', KEYS[3])
else
  redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5])
end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
  end
end
return 1
`)

// fillSession stores the session record's entry and its expiry if the
// session's generation is still gen.
func (c *Cache) fillSession(ctx context.Context, keys sessionKeys, entryKey, gen, entry string, ttl time.Duration, expiry, now time.Time) {
	if !c.br.allow() {
		return
	}
	ttl = capTTL(ttl, expiry, now)
	value, px := c.expiryArgs(expiry, now)
	rctx, cancel := c.redisCtx(ctx)
	n, err := fillSessionScript.Run(rctx, c.client, []string{keys.gen, entryKey, keys.expiry()},
		gen, entry, ttl.Milliseconds(), value, px).Int()
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

// recordExpiry writes the session's expiry key after a write that set it
// (before the write's invalidation). A failure is left to the
// invalidation that follows: it marks the session pending when Redis is
// unreachable.
func (c *Cache) recordExpiry(ctx context.Context, sessionID string, expiry time.Time) {
	if driver.ValidateSessionID(sessionID) != nil {
		return
	}
	key := keysFor(c.opts.Prefix, sessionID).expiry()
	now := c.opts.Now()
	rctx, cancel := c.redisCtx(ctx)
	defer cancel()
	var err error
	if value, px := c.expiryArgs(expiry, now); value == "" {
		err = c.client.Del(rctx, key).Err()
	} else {
		err = c.client.Set(rctx, key, value, time.Duration(px)*time.Millisecond).Err()
	}
	c.redisDone(ctx, err)
}

// SetSessionExpiry implements session.ExpiryStore by delegation, then
// records the expiry and invalidates the session. It answers an error
// matching errors.ErrUnsupported when the wrapped repository cannot expire
// sessions.
func (c *Cache) SetSessionExpiry(ctx context.Context, sessionID string, expiresAt time.Time) error {
	if err := c.check(); err != nil {
		return err
	}
	e, err := session.ExpiryOf(c.inner)
	if err != nil {
		return fmt.Errorf("rediscache: %w", err)
	}
	err = e.SetSessionExpiry(ctx, sessionID, expiresAt)
	if err == nil {
		c.recordExpiry(ctx, sessionID, expiresAt)
	}
	return c.written(ctx, sessionID, err)
}

// SweepExpired implements session.ExpiryStore by delegation. It
// invalidates nothing: the entries of an expired session are never served
// anyway.
func (c *Cache) SweepExpired(ctx context.Context, limit int) (int, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	e, err := session.ExpiryOf(c.inner)
	if err != nil {
		return 0, fmt.Errorf("rediscache: %w", err)
	}
	return e.SweepExpired(ctx, limit)
}

var _ session.IdleDeleter = (*Cache)(nil)

// DeleteSessionIfIdle implements session.IdleDeleter by delegation, and
// retires the session's cached entries like DeleteSession. When the
// wrapped repository lacks the role it fails with an error matching
// errors.ErrUnsupported and touches neither Redis nor the backend.
func (c *Cache) DeleteSessionIfIdle(ctx context.Context, sessionID string, before time.Time) (bool, error) {
	if err := c.check(); err != nil {
		return false, err
	}
	d, ok := c.inner.(session.IdleDeleter)
	if !ok {
		return false, fmt.Errorf("%T cannot delete conditionally: %w", c.inner, errors.ErrUnsupported)
	}
	deleted, err := d.DeleteSessionIfIdle(ctx, sessionID, before)
	if !deleted && err == nil {
		return false, nil
	}
	return deleted, c.written(ctx, sessionID, err)
}
