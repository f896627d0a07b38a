package rediscache

import (
	"log/slog"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session/driver"
)

// Kind names one kind of cached read, for per-kind TTLs (Options.KindTTL)
// and in the URL ("ttl.messages=1m").
type Kind string

// The kinds of reads the decorator caches: what resuming a conversation
// needs.
const (
	KindSession    Kind = "session"    // GetSession
	KindAgents     Kind = "agents"     // ListAgents
	KindAgent      Kind = "agent"      // GetAgent
	KindMessages   Kind = "messages"   // ListMessages, one entry per (agent, offset, limit)
	KindMessage    Kind = "message"    // GetMessage
	KindCount      Kind = "count"      // CountMessages
	KindMetadata   Kind = "metadata"   // GetMetadata
	KindFeedback   Kind = "feedback"   // ListFeedback
	KindGuardrails Kind = "guardrails" // ListGuardrailEvents
)

// Kinds lists every Kind.
var Kinds = []Kind{KindSession, KindAgents, KindAgent, KindMessages, KindMessage, KindCount, KindMetadata, KindFeedback, KindGuardrails, KindMultiAgent}

// Defaults applied by New to zero Options fields.
const (
	DefaultPrefix          = "sessionkit:"
	DefaultTTL             = 10 * time.Minute
	DefaultNegativeTTL     = 5 * time.Second
	DefaultJitter          = 0.1
	DefaultMaxValueBytes   = 1 << 20
	DefaultRedisTimeout    = 100 * time.Millisecond
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 2 * time.Second
	DefaultMaxPending      = 100_000
	// DefaultInvalidateTimeout is five default Redis timeouts: a write
	// waits this long at most for its invalidation to land.
	DefaultInvalidateTimeout = 500 * time.Millisecond
	DefaultInvalidateRetry   = 100 * time.Millisecond
	// DefaultTailMessages is twice the window of Strands' default
	// SlidingWindowConversationManager (40 messages).
	DefaultTailMessages = 80
)

// Options configures a Cache. The zero value is usable: every zero field
// takes the default named after it.
type Options struct {
	// Prefix starts every key the cache writes (DefaultPrefix). It must not
	// contain "{" or "}", which would break the per-session hash tag.
	Prefix string
	// TTL is how long an entry lives (DefaultTTL), before jitter.
	TTL time.Duration
	// KindTTL overrides TTL for some kinds of entries.
	KindTTL map[Kind]time.Duration
	// NegativeTTL is how long a "not found" answer is cached
	// (DefaultNegativeTTL). Keep it short: it delays nothing the decorator
	// writes itself (writes invalidate), only writes made around it.
	NegativeTTL time.Duration
	// Jitter spreads expiries: an entry lives TTL*(1+r) with r uniform in
	// [0, Jitter). Zero means DefaultJitter; negative means none. At most 1.
	Jitter float64
	// MaxValueBytes caps the encoded size of one entry (DefaultMaxValueBytes).
	// Larger values (a huge message log) are served from the backend and
	// never cached, so one conversation cannot evict the rest.
	MaxValueBytes int
	// RedisTimeout bounds every Redis call (DefaultRedisTimeout), so a slow
	// Redis costs a call at most this much before it falls back to the
	// backend. Keep it well under callers' deadlines. go-redis honours it
	// only when the client was built with ContextTimeoutEnabled (clients
	// made from a URL by this package are).
	RedisTimeout time.Duration
	// BreakerFailures is how many consecutive Redis failures open the
	// circuit breaker (DefaultBreakerFailures).
	BreakerFailures int
	// BreakerCooldown is how long the breaker stays open before it lets one
	// probe through (DefaultBreakerCooldown). It delays reads' use of Redis
	// only: invalidations ignore the breaker.
	BreakerCooldown time.Duration
	// InvalidateTimeout bounds how long a write waits for its invalidation
	// (the DEL of the session's generation key) to land, fast failures
	// retried within it (DefaultInvalidateTimeout). It is separate from
	// RedisTimeout because a slow DEL must still land: a write given up on
	// leaves other processes serving the old value. The caller's context
	// deadline also bounds it.
	InvalidateTimeout time.Duration
	// InvalidateRetry is the period at which invalidations that did not
	// land in time are sent again until they do (DefaultInvalidateRetry), so
	// the pending set drains within about this long after Redis answers.
	InvalidateRetry time.Duration
	// MaxPending caps the sessions whose invalidation failed and is being
	// retried (DefaultMaxPending); past it the cache stops serving anything
	// for the longest TTL (see the package documentation).
	MaxPending int
	// TailMessages caps the messages an append keeps in the tail entry it
	// extends (DefaultTailMessages): past it the oldest are dropped, so
	// that a long conversation's cached window stays a window. Resumes
	// that read further back than the tail holds are misses (and fill it
	// again). Fills store what the backend returned, up to MaxValueBytes.
	TailMessages int
	// Logger receives one record per breaker state change
	// (slog.Default() when nil).
	Logger *slog.Logger
	// CloseClient makes Close also close the Redis client.
	CloseClient bool
	// Now is the breaker's clock (time.Now when nil); tests replace it.
	Now func() time.Time
}

// withDefaults validates o and fills its zero fields.
func (o Options) withDefaults() (Options, error) {
	if strings.ContainsAny(o.Prefix, "{}") {
		return o, driver.InvalidArgument("prefix", "%q must not contain \"{\" or \"}\"", o.Prefix)
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	for name, d := range map[string]time.Duration{
		"ttl": o.TTL, "negative_ttl": o.NegativeTTL, "timeout": o.RedisTimeout, "breaker_cooldown": o.BreakerCooldown,
		"invalidate_timeout": o.InvalidateTimeout, "invalidate_retry": o.InvalidateRetry,
	} {
		if d < 0 {
			return o, driver.InvalidArgument(name, "%s is negative", d)
		}
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	kt := make(map[Kind]time.Duration, len(Kinds))
	for _, k := range Kinds {
		kt[k] = o.TTL
	}
	for k, d := range o.KindTTL {
		if _, ok := kt[k]; !ok {
			return o, driver.InvalidArgument("ttl", "unknown kind %q", k)
		}
		if d <= 0 {
			return o, driver.InvalidArgument("ttl."+string(k), "%s is not positive", d)
		}
		kt[k] = d
	}
	o.KindTTL = kt
	if o.NegativeTTL == 0 {
		o.NegativeTTL = DefaultNegativeTTL
	}
	switch {
	case o.Jitter == 0:
		o.Jitter = DefaultJitter
	case o.Jitter < 0:
		o.Jitter = 0
	case o.Jitter > 1:
		return o, driver.InvalidArgument("jitter", "%v is over 1", o.Jitter)
	}
	if o.MaxValueBytes < 0 || o.BreakerFailures < 0 || o.MaxPending < 0 {
		return o, driver.InvalidArgument("options", "max_value_bytes, breaker_failures and max_pending must not be negative")
	}
	if o.MaxValueBytes == 0 {
		o.MaxValueBytes = DefaultMaxValueBytes
	}
	if o.RedisTimeout == 0 {
		o.RedisTimeout = DefaultRedisTimeout
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = DefaultBreakerFailures
	}
	if o.BreakerCooldown == 0 {
		o.BreakerCooldown = DefaultBreakerCooldown
	}
	if o.InvalidateTimeout == 0 {
		o.InvalidateTimeout = DefaultInvalidateTimeout
	}
	if o.InvalidateRetry == 0 {
		o.InvalidateRetry = DefaultInvalidateRetry
	}
	if o.MaxPending == 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.TailMessages < 0 {
		return o, driver.InvalidArgument("tail_messages", "%d is negative", o.TailMessages)
	}
	if o.TailMessages == 0 {
		o.TailMessages = DefaultTailMessages
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// maxTTL is the longest an entry can live, jitter included.
func (o *Options) maxTTL() time.Duration {
	m := o.NegativeTTL
	for _, d := range o.KindTTL {
		m = max(m, d)
	}
	return m + time.Duration(float64(m)*o.Jitter) + time.Second
}
