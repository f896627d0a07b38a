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
// A hit is one round trip: a MULTI/EXEC that GETs the session's generation
// token and the entry, which is used only if it was filled under that token
// (see below). On a miss the backend is read once however
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
// Every session has a generation key holding a random 128-bit token, and
// every entry carries, inside its value, the token of the generation it was
// filled under. A reader reads the generation and the entry together in
// one MULTI/EXEC and uses the entry only if its token is the generation's.
// On a miss it takes the generation's token (creating one if none exists),
// reads the backend, and fills with a script that stores the entry only if
// the generation is still that token. Writers write the backend first and
// then retire the generation: either a plain DEL of the generation key, or
// the commit script of a write-through write (next section), which deletes
// it and, only when it was still the token the writer saw before writing,
// sets a fresh token and stores under it the entries the write carries.
// Either way every entry of the old generation becomes unusable (they are
// overwritten by the next fill or expire by their TTL), and any fill still
// in flight — a slow reader holding the value from before the write —
// fails its check, whichever process it runs in. A write the backend
// refuses after looking at the stored state (already exists, not found,
// conflict, too large) deletes it too: the refusal may be the caller's
// first sight of another writer's change whose own DEL has not landed yet,
// and the caller's next read must not be older than what it has just seen.
//
// Why a hit is never stale: let a write W return before a read starts. W's
// commit (or DEL) removed whatever token existed, and tokens are random and
// never reused, so the token T the read finds was created at or after W's
// commit. An entry carrying T got there in one of two ways. (a) A fill
// stored it after checking, atomically, that the generation was T; its
// reader had obtained T, so after T existed, before reading the backend, so
// after W had reached the backend. (b) The commit that created T carried
// it: that commit found the generation still equal to the token T0 its
// writer X read before writing the backend, and stored E ⊕ X, where E is
// an entry carrying T0 read in that same snapshot. Any write that returned
// before the read and committed after T0 was created would have replaced
// T0 before X's commit, which would then have carried nothing; so every
// such write committed before T0 existed, and E reflects it by induction
// (on the order in which tokens are created), and X itself is applied. E
// ⊕ X is exact because X's transformation depends only on X (the new agent
// states, the new stamp) or is checked against E (an append of message n
// extends the cached window only if E ends exactly at message n, so a
// window missing another writer's message is never extended). Writes that
// have not returned yet (in flight, or their process died between backend
// and commit) may be missing from a carried entry as from a filled one;
// the guarantee is about writes that returned. The read takes the entry
// only if it carries T, read in the same atomic step as T. Random tokens
// rather than an INCR counter mean a token is never
// reused, so a generation key lost to eviction, expiry or a Redis restart
// can never let an old entry or fill match (no ABA), and the layout stays
// correct under maxmemory eviction: losing a generation key only makes
// entries unusable, losing an entry is only a miss. No SCAN and no key
// index are needed.
//
// # Write-through: the next resume is a hit
//
// In the workload a conversation service runs — every request resumes a
// session (GetSession, GetAgent, ListMessages from removed_message_count
// on), appends the user's message and the answer, and syncs the agent
// (UpdateAgent) — a write that only retired the generation would throw
// away exactly what the next request reads. So the writes of that loop
// carry what they know:
//
//   - AppendMessage and CreateMessage carry the agent's tail (the entry a
//     resume reads: every message from an offset to the end) extended by
//     the new message when it ended exactly at the new message's id, the
//     count as id+1 when the tail or count said id, the agent record
//     unchanged and the session record with UpdatedAt moved.
//   - UpdateMessage (metrics stored at the end of an invocation, a
//     redaction) carries the tail with the message replaced as the backend
//     replaces it, the session stamped, the agent and count unchanged; one
//     that sets a guardrail event only invalidates.
//   - UpdateAgent carries the agent record with the three states replaced
//     (when all three are non-nil, as session/manager always sends them)
//     and UpdatedAt moved, the session record with UpdatedAt moved, and the
//     agent's tail and count unchanged.
//
// Such a write first reads the generation and those entries in one
// MULTI/EXEC (the snapshot; one Redis round trip), then writes the
// backend, then runs the commit script (one round trip): DEL the
// generation; if it was the snapshot's token, store the carried entries
// under a new token and set that token last, so that a script cut short
// (out of memory) leaves the session invalidated, never half-carried. When
// the snapshot found nothing to carry, Redis failed, the breaker was open
// or the session's invalidation is pending in this process, the write
// invalidates as every other write does; when the commit script fails it
// falls back to the plain DEL with its budget, retries and pending set
// (next sections), so invalidation under faults is what it was. Every other
// write (metadata, feedback, config, guardrail events, deletes) retires the
// generation without carrying anything.
//
// A carried entry keeps the expiry of the entry it was carried from (the
// snapshot reads each entry's PTTL): it expires when the fill it descends
// from would have. Otherwise a process that keeps writing a session would
// keep carrying forward a record that misses a change whose invalidation
// never landed (a partitioned writer's), past the TTL bound below. The
// price: a busy session's resume goes to the backend once per TTL.
//
// An emulated append (over a repository without session.MessageAppender)
// takes its first id from the count the snapshot read, so in steady state
// an append costs the backend its one write.
//
// What a carried entry holds is what the backend holds, with two stated
// exceptions. Messages written through the cache are stored with their
// times at the wrapped backend's precision (Cache.TimePrecision:
// microseconds over memory and SQLite, milliseconds over MongoDB and over a
// repository that does not report one), so the carried message is exactly
// the stored one on every backend. The UpdatedAt of a session or an agent is stamped by the
// backend's clock during the write, which the cache cannot see: a carried
// record gets this process's clock read just before the backend write
// (never earlier than the previous value), so it can precede the backend's
// stamp by up to the write's duration (or follow a millisecond backend's,
// which truncates its own, by less than a millisecond); a later miss shows
// the backend's own value. The same holds for a message's UpdatedAt after
// UpdateMessage, which carries the tail with the message replaced. An append leaves a carried agent's UpdatedAt as it
// was (the memory and SQLite backends do not move it; MongoDB moves the
// agent entry's, which a hit shows from the next UpdateAgent on).
//
// Memory stays a window, not the history: an append keeps at most
// Options.TailMessages (80) messages in the tail, dropping the oldest, and
// a resume from an offset the tail no longer covers is a miss that fills
// it again from that offset (up to MaxValueBytes).
//
// The generation must be read from the primary: go-redis sends MULTI/EXEC
// to it with every client kind (a Cluster client in ReadOnly mode routes
// transactions to the slot's master). Clients that send everything to
// replicas (FailoverOptions.ReplicaOnly) are not supported.
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
// # Invalidation is never skipped
//
// The breaker guards read latency only. A write's DEL of the generation key
// is sent whatever the breaker says — an open breaker may only mean that
// fills failed (Redis out of memory under noeviction, replies slower than
// RedisTimeout) while a DEL would land, and skipping it would let every
// other process serve the old value. The DEL gets its own budget,
// Options.InvalidateTimeout (500 ms), within which fast failures (a killed
// connection, a refused dial) are retried; on a Cluster client a failed
// call also reloads the slot map, so that a promoted replica is found. When
// the budget runs out the write still succeeds and the session is marked
// pending: this process serves nothing of it from Redis, and a background
// loop (stopped by Close) sends the DEL again at once and then every
// Options.InvalidateRetry (100 ms) until it lands, so the pending set
// drains within about InvalidateRetry of Redis answering again. The
// guarantee and its limits:
//
//   - In the writing process, no read that starts after a write returned
//     ever sees the value from before it.
//   - In other processes the same holds whenever the writer's DEL can land
//     within InvalidateTimeout: Redis out of memory, maxmemory changes,
//     killed client connections, FLUSHALL, replies slower than RedisTimeout
//     (TestStaleness_TwoProcesses measures 0 stale reads under each).
//   - When it cannot (the writer is cut off from a Redis that other
//     processes still reach), another process holding an entry from before
//     the write may serve it until the writer's DEL lands or the entry
//     expires: at most the entry's TTL × (1 + Jitter) plus one RedisTimeout
//     (a fill in flight) after the write returned. That is the stated
//     staleness bound; set Options.TTL (or a kind's TTL) to the staleness
//     you accept. TestStaleness_TwoProcesses measures it under a partition
//     of the writer's path.
//   - Past Options.MaxPending pending sessions the process stops using the
//     cache altogether for the longest TTL.
//   - Run the cache without persistence, or accept that restoring an old
//     RDB/AOF snapshot (or losing a DEL in an asynchronous failover) may
//     bring entries back until their TTL.
//
// # Key layout
//
//	<prefix>{<id>}:g          generation token (string)
//	<prefix>{<id>}:e:<field>  one cached entry (binary, with TTL)
//
// <id> is the session id with "%", "{" and "}" percent-encoded, so the
// Redis Cluster hash tag is always well formed and a session's keys share
// one slot (MULTI/EXEC and the fill script touch two keys of one session).
// Fields are
// "s" (session), "A" (agents), "a:<agent>", "t:<agent>" (the tail: the
// messages from an offset to the end, for ListMessages with limit <= 0),
// "m:<offset>:<limit>:<agent>" (other pages), "1:<message>:<agent>",
// "n:<agent>" (count), "md", "f" and "ge". The prefix
// may not contain "{" or "}". Entries live their kind's TTL (Options.TTL,
// Options.KindTTL) plus up to Options.Jitter of it.
//
// Values use a compact binary encoding (a version byte, the generation
// token, then varints, length-prefixed strings and tagged canonical values):
// a foreign version is a miss. Session records include the viewer-password
// hash, never a plaintext password unless the backend holds one.
//
// Every read returns values that are the caller's to keep: maps, slices and
// []byte values are allocated for that call alone. Strings are immutable
// and are substrings of the entry as go-redis read it (decoding allocates
// no string data), so the entry stays in memory while any of its strings
// is referenced.
//
// # Performance
//
// BenchmarkHit (redis-server 127.0.0.1, one go-redis client, medians of
// -count=5 on a shared 2-core machine, so ±20%) against the same pages of
// messages shaped like a conversation (a text block and token usage each):
//
//	messages  bytes   raw GET  GET+decode  hit      hit/GET  hit/(GET+decode)  allocs
//	20        3.5 KB  63 µs    76 µs       118 µs   1.9×     1.55×             185
//	200       35 KB   110 µs   347 µs      395 µs   3.6×     1.14×             1,489
//	2,000     347 KB  319 µs   3.7 ms      4.0 ms   12.6×    1.08×             15,889
//
// (Before this layout — a Lua lookup returning the entry, decoded from a
// []byte copy with one allocation per string — the same runs measured 108
// µs, 570 µs and 6.8 ms with 334, 3,078 and 31,878 allocations.) A hit
// cannot approach a raw GET for large pages because the GET returns bytes
// while a hit must hand each caller maps, slices and boxed values of its
// own: decoding is allocation-bound, about eight allocations per message
// (three maps of two allocations each, the boxed text, a boxed integer),
// and costs as much as deep-cloning an already decoded page
// (BenchmarkDecodeVsClone: 36 vs 36 µs, 390 vs 556 µs and 5.6 vs 5.5 ms).
// The hit's Redis round trip alone (MULTI, two GETs, EXEC) costs the same
// as the raw GET (61, 89 and 326 µs), so what remains over GET+decode is
// per-call bookkeeping and noise.
//
// Alternatives measured and not taken: the previous Lua lookup copied the
// entry into a Lua string and back, about 2.5× a GET for 350 KB; a plain
// pipeline of the two GETs is equally safe on one node (commands on one
// connection run in order, and the argument above needs no atomicity) and
// no faster, but a Cluster client in ReadOnly mode would send it to a
// replica; a process-local copy of decoded entries validated by the same
// round trip would save only the transfer (cloning costs what decoding
// does) while holding decoded pages in every process's memory.
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
//	invalidate_timeout=500ms budget of a write's invalidation
//	invalidate_retry=100ms  period of the pending invalidations' retry
//	max_pending=100000      pending invalidations kept
//	tail_messages=80        messages an append keeps in a cached tail
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
// cache_breaker_opens_total, cache_pending_invalidations and
// cache_write_throughs_total (commits that carried entries), merged with the
// wrapped repository's stats; StatsHelp describes each. Ping
// (session.Pinger) checks the backend only, since the cache fails open;
// PingCache reports whether Redis answers and the breaker is closed, for
// health checks that show a degraded cache.
//
// # Redis Cluster
//
// Give several "addr" parameters (or a redis.ClusterClient to New). Every
// key of a session carries the session's hash tag, so the MULTI/EXEC lookup
// and the fill script stay in one slot. TestRedisCluster runs the
// conformance suite through the cache over a real three-master,
// three-replica cluster and kills a master mid-run: while its slots are
// down the cache serves from the backend, invalidations for them stay
// pending, and once a replica is promoted they land and caching resumes.
// Replication is asynchronous, so a DEL acknowledged by a master that dies
// before its replica got it is lost; the pending set does not cover that
// case (the DEL succeeded), and the TTL bound above does.
package rediscache
