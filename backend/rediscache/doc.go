// Package rediscache is a Redis read-through cache for any
// session.Repository: a decorator that serves the reads resuming a
// conversation needs (session, agents, agent, message pages, single
// messages, message counts, metadata, feedback, guardrail events) from Redis
// and sends everything else to the repository it wraps.
//
//	repo, _ := rediscache.New(backend, redisClient, rediscache.Options{})
//
// or, through the URL registry (import this package for its side effect):
//
//	session.Open(ctx, "mongodb://h/db?cache="+url.QueryEscape("redis://:pw@127.0.0.1:6379/0?prefix=app:&ttl=5m"))
//
// # Reads
//
// A hit is one EVALSHA: a Lua script reads the session's generation token
// and the entry stored under it. On a miss the backend is read once however
// many callers miss at the same moment (singleflight, keyed by the
// generation, so a caller arriving after a write never joins a read that
// began before it); each caller decodes its own copy. Not-found answers are
// cached for Options.NegativeTTL. Entries whose encoding is over
// Options.MaxValueBytes are served from the backend and never cached, so one
// huge message log cannot evict everything else. ListSessions spans
// sessions and is not cached.
//
// # Never stale: generation tokens
//
// Every session has a generation key holding a random 128-bit token.
// Entries are stored under keys that include the token. Readers learn the
// token in the same script that looks the entry up (creating one if none
// exists), read the backend, and fill with a script that stores the entry
// only if the token is unchanged. Writers write the backend first and then
// DELETE the generation key. That single DEL makes every entry of the
// session unreachable (they expire by their TTL), and makes any fill still
// in flight — a slow reader holding the value from before the write — fail
// its check, whichever process it runs in. Random tokens rather than an
// INCR counter mean a token is never reused, so a generation key lost to
// eviction, expiry or a Redis restart can never let an old fill match (no
// ABA), and the layout stays correct under maxmemory eviction: losing a
// generation key only orphans entries, losing an entry is only a miss. No
// SCAN and no key index are needed.
//
// # Fails open
//
// Every Redis call is bounded by Options.RedisTimeout (build clients with
// ContextTimeoutEnabled so go-redis honours it; clients made from a URL
// are). A Redis error, timeout or unreachable server never fails a call: it
// is served from the backend. After Options.BreakerFailures consecutive
// failures a circuit breaker opens and Redis is skipped entirely; after
// Options.BreakerCooldown one probe goes through (half-open) and the first
// success closes it, so caching resumes by itself. Breaker state changes
// are logged once each through log/slog (Warn when opening, Info when
// recovering), never per call, and counted in Stats.
//
// When the DEL after a write fails (or the breaker is open), the write
// still succeeds and the session is marked pending: this process serves
// nothing of that session from Redis until a background loop (every
// BreakerCooldown, stopped by Close) has deleted its generation key. The
// guarantee and its limits:
//
//   - In the writing process, no read that starts after a write returned
//     ever sees the value from before it.
//   - In other processes the same holds whenever the writer reached Redis.
//     If the writer could not reach Redis but another process can and holds
//     an entry from before the write, that process may serve it until the
//     writer's retry succeeds or the entry's TTL runs out. Keep TTLs short
//     where that matters.
//   - Past Options.MaxPending pending sessions the process stops using the
//     cache altogether for the longest TTL.
//   - Run the cache without persistence, or accept that restoring an old
//     RDB/AOF snapshot (or losing a DEL in an asynchronous failover) may
//     bring entries back until their TTL.
//
// # Key layout
//
//	<prefix>{<id>}:g                generation token (string)
//	<prefix>{<id>}:<token>:<field>  one cached entry (binary, with TTL)
//
// <id> is the session id with "%", "{" and "}" percent-encoded, so the
// Redis Cluster hash tag is always well formed and a session's keys share
// one slot; the scripts touch the entry key they derive from the declared
// generation key, which is safe because both are in that slot. Fields are
// "s" (session), "A" (agents), "a:<agent>", "m:<offset>:<limit>:<agent>",
// "1:<message>:<agent>", "n:<agent>" (count), "md", "f" and "ge". The prefix
// may not contain "{" or "}". Entries live their kind's TTL (Options.TTL,
// Options.KindTTL) plus up to Options.Jitter of it.
//
// Values use a compact binary encoding (varints, length-prefixed strings,
// tagged canonical values) with a version byte: a foreign version is a
// miss. Session records include the viewer-password hash, never a
// plaintext password unless the backend holds one.
//
// # URL options
//
// The cache URL is the "cache" parameter of a backend URL and must be
// query-escaped when it has parameters of its own. Its scheme is "redis" or
// "rediss" (TLS); user, password and database number follow redis.ParseURL,
// as do go-redis options (dial_timeout, pool_size, ...). Several "addr"
// parameters select a Cluster client (redis.ParseClusterURL). Cache options:
//
//	prefix=app:             key prefix
//	ttl=10m                 TTL of every kind
//	ttl.<kind>=1m           TTL of one kind (session, agents, agent, messages,
//	                        message, count, metadata, feedback, guardrails)
//	negative_ttl=5s         TTL of not-found answers
//	jitter=0.1              fraction of TTL added at random (0 disables)
//	max_value_bytes=1048576 largest entry cached
//	timeout=100ms           per-call Redis timeout
//	breaker_failures=5      consecutive failures that open the breaker
//	breaker_cooldown=2s     time before a probe
//	max_pending=100000      pending invalidations kept
//
// Errors and Stats never include the password.
//
// # Stats
//
// Stats (session.StatsReporter) reports cache_hits_total,
// cache_misses_total, cache_fills_total, cache_fills_rejected_total (fills
// dropped because a write intervened), cache_invalidations_total,
// cache_invalidation_failures_total, cache_bypasses_total (reads served
// from the backend without looking at Redis), cache_oversize_total,
// cache_errors_total, cache_breaker_state (0 closed, 1 half-open, 2 open),
// cache_breaker_opens_total and cache_pending_invalidations, merged with the
// wrapped repository's stats. Ping (session.Pinger) checks the backend and
// Redis.
package rediscache
