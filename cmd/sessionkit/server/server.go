// Package server is sessionkit's HTTP service: a JSON API over a
// session.Repository (search, timelines, metadata, feedback, and a
// conversation store for agents written in other languages), the embedded
// session-viewer web page, /healthz and Prometheus /metrics.
//
// # Authentication and scopes
//
// Every /api route except /api/login needs credentials:
//
//	Authorization: Bearer <admin token>     everything
//	Authorization: Bearer <API key>         the sessions of one application
//	X-Session-Password: <viewer password>   reads of the one session in the path
//
// API keys are made and revoked by the admin (POST/GET/DELETE /api/keys,
// or "sessionkit apikey"); the store keeps only their SHA-256, in its
// session.APIKeyStore, so every server over one store sees the same keys. A
// key reads and writes the sessions whose application_name is its
// application, creates sessions of that application, and searches only
// them. A viewer password only reads its session: every write is 403.
//
// # Failed authentication
//
// The credential is checked first, and a correct one is always served:
// nobody's failures — not even the same client's — lock out a right
// credential. Failures draw from two token buckets: one per client
// (Options.LoginRate; the client is the connecting address, or the
// X-Forwarded-For address a trusted proxy appended, see
// Options.TrustedProxies; an IPv6 client is its /64) and one per target, the credential being guessed
// (one session's viewer password, the admin token, API keys:
// Options.TargetRate), which is the ceiling that rotating source addresses
// cannot get around. A failure with both buckets non-empty is 401, past
// either 429 with Retry-After. Every failure is answered no sooner than
// Options.FailedAuthDelay after the request arrived, so that the time a
// wrong viewer password takes does not tell whether the session exists.
// Since every credential is still checked, what protects against guessing
// is their entropy (admin token at least 16 bytes, API keys 256 bits,
// generated viewer passwords 192 bits); the limiter bounds how many plain
// "wrong" answers a target gives and flags the attack (429s in /metrics).
// Searches draw from a per-client bucket (Options.SearchRate).
//
// # Paths and errors
//
// Nothing under /api is redirected or rewritten: a path with an empty
// segment, a trailing slash or a "." or ".." segment (also
// percent-encoded) is answered 400 before routing, where Go's ServeMux
// would redirect to the cleaned path. Request lines and headers over
// Options.MaxHeaderBytes are answered with a JSON 431; the http.Server of
// HTTPServer accepts up to HardMaxHeaderBytes so that the handler sees
// them (beyond that, Go's own plain-text 431).
//
// Errors are JSON, {"error": {"code": "...", "message": "..."}}, with the
// status derived from the session error kinds: ErrInvalidArgument 400,
// ErrNotFound 404, ErrAlreadyExists and ErrConflict 409, ErrTooLarge 413,
// ErrClosed 503. Bad input never yields a 500; a panic in a handler is
// logged and answered with a 500. Request bodies must be JSON text that
// decodes without loss (driver.CheckJSONText).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// Options configures a Server. Repository and AdminToken are required; the
// other fields have the documented defaults.
type Options struct {
	// Repository is the store the API reads and writes. The Server does not
	// close it.
	Repository session.Repository
	// Hooks are session-manager hooks (SNS, SQS, WebSocket): metadata and
	// feedback writes go through a manager.Manager running them, exactly as
	// in-process agents' writes do. The Server does not close them.
	Hooks []manager.Hook
	// Stats are extra counters exported on /metrics (hooks, pools), in
	// addition to Repository's when it is a session.StatsReporter.
	Stats []session.StatsReporter
	// AdminToken grants every route. Required; at least 16 bytes.
	AdminToken string
	// Logger receives request and error logs. Default: slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies. Default 1 MiB.
	MaxBodyBytes int64
	// MaxSnapshotBytes bounds snapshot PUT bodies, which are raw bytes, not
	// JSON, and may hold a whole conversation. Default
	// session.DefaultMaxSnapshotBytes.
	MaxSnapshotBytes int64
	// RequestTimeout is the deadline each request's context gets. Default
	// 30s.
	RequestTimeout time.Duration
	// LoginRate bounds failed authentications per client. Default 1 per
	// second, burst 10.
	LoginRate Rate
	// TargetRate bounds failed authentications per target — one session's
	// viewer password, the admin token, API keys — across all clients.
	// Default 1 per second, burst 20.
	TargetRate Rate
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For is believed: the client is the rightmost address in
	// it that is not itself a trusted proxy. Empty: the header is ignored
	// and the client is the connecting address.
	TrustedProxies []netip.Prefix
	// FailedAuthDelay is the least time a failed authentication takes to be
	// answered, measured from the request's arrival. Default
	// DefaultFailedAuthDelay; negative: no delay.
	FailedAuthDelay time.Duration
	// MaxHeaderBytes bounds the request line plus headers; larger requests
	// get a JSON 431. Default DefaultMaxHeaderBytes; at most
	// HardMaxHeaderBytes.
	MaxHeaderBytes int
	// SearchRate bounds session searches per client IP. Default 10 per
	// second, burst 30.
	SearchRate Rate
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Retention gives sessions created through the API an expiry by
	// application (session.RetentionPolicy); nil gives none.
	Retention session.RetentionPolicy
}

// Rate is a token-bucket rate: Burst tokens, refilled at PerSecond.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Server serves the API, the viewer, /healthz and /metrics. It is safe for
// concurrent use and starts no goroutines of its own: Handler can be mounted
// anywhere, and Serve runs an http.Server until its context ends.
type Server struct {
	opts    Options
	repo    session.Repository
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	login   *limiter // failed authentications per client
	targets *limiter // failed authentications per target
	search  *limiter
	stats   *statsCache         // recent GET /api/stats answers
	keys    session.APIKeyStore // nil when the repository has none
}

// Defaults for Options.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultRequestTimeout  = 30 * time.Second
	DefaultFailedAuthDelay = 25 * time.Millisecond
	DefaultMaxHeaderBytes  = 64 << 10
	// HardMaxHeaderBytes is the http.Server's own limit (HTTPServer):
	// requests between MaxHeaderBytes and it get the handler's JSON 431,
	// larger ones Go's plain-text 431 before any handler runs.
	HardMaxHeaderBytes = 1 << 20
)

// New validates opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Repository == nil {
		return nil, driver.InvalidArgument("repository", "is required")
	}
	if len(opts.AdminToken) < 16 {
		return nil, driver.InvalidArgument("admin token", "must be at least 16 bytes")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.LoginRate == (Rate{}) {
		opts.LoginRate = Rate{PerSecond: 1, Burst: 10}
	}
	if opts.TargetRate == (Rate{}) {
		opts.TargetRate = Rate{PerSecond: 1, Burst: 20}
	}
	if opts.FailedAuthDelay == 0 {
		opts.FailedAuthDelay = DefaultFailedAuthDelay
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	opts.MaxHeaderBytes = min(opts.MaxHeaderBytes, HardMaxHeaderBytes)
	for _, p := range opts.TrustedProxies {
		if !p.IsValid() {
			return nil, driver.InvalidArgument("trusted proxies", "%v is not a valid network", p)
		}
	}
	if opts.SearchRate == (Rate{}) {
		opts.SearchRate = Rate{PerSecond: 10, Burst: 30}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:    opts,
		repo:    opts.Repository,
		log:     opts.Logger,
		mux:     http.NewServeMux(),
		metrics: newMetrics(),
		login:   newLimiter(opts.LoginRate, opts.Now),
		targets: newLimiter(opts.TargetRate, opts.Now),
		search:  newLimiter(opts.SearchRate, opts.Now),
		stats:   newStatsCache(opts.Now),
	}
	s.keys, _ = opts.Repository.(session.APIKeyStore)
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /metrics", s.serveMetrics)
	viewer := viewerHandler()
	m.Handle("GET /{$}", viewer)
	m.Handle("GET /static/", viewer)
	m.HandleFunc("POST /api/login", s.handleLogin)
	m.HandleFunc("GET /api/openapi.json", s.serveOpenAPI)

	m.Handle("GET /api/sessions", s.application(s.listSessions))
	m.Handle("POST /api/sessions", s.application(s.createSession))
	m.Handle("GET /api/stats", s.application(s.getStats))
	m.Handle("GET /api/sessions/{id}", s.reader(s.getSession))
	m.Handle("DELETE /api/sessions/{id}", s.writer(s.deleteSession))
	m.Handle("GET /api/sessions/{id}/timeline", s.reader(s.timeline))

	m.Handle("GET /api/sessions/{id}/metadata", s.reader(s.getMetadata))
	m.Handle("PATCH /api/sessions/{id}/metadata", s.writer(s.updateMetadata))
	m.Handle("DELETE /api/sessions/{id}/metadata", s.writer(s.deleteMetadata))

	m.Handle("GET /api/sessions/{id}/feedback", s.reader(s.listFeedback))
	m.Handle("POST /api/sessions/{id}/feedback", s.writer(s.addFeedback))

	m.Handle("GET /api/sessions/{id}/agents", s.reader(s.listAgents))
	m.Handle("POST /api/sessions/{id}/agents", s.writer(s.createAgent))
	m.Handle("GET /api/sessions/{id}/agents/{agent}", s.reader(s.getAgent))
	m.Handle("PUT /api/sessions/{id}/agents/{agent}", s.writer(s.updateAgent))
	m.Handle("GET /api/sessions/{id}/agents/{agent}/messages", s.reader(s.listMessages))
	m.Handle("POST /api/sessions/{id}/agents/{agent}/messages", s.writer(s.appendMessage))

	m.Handle("GET /api/keys", s.admin(s.listKeys))
	m.Handle("POST /api/keys", s.admin(s.createKey))
	m.Handle("DELETE /api/keys/{key}", s.admin(s.deleteKey))
	s.multiAgentRoutes(m)
	s.messageRoutes(m)
	s.snapshotRoutes(m)
	s.retentionRoutes(m)
	s.forkRoutes(m)

	m.HandleFunc(apiFallback, s.noRoute)
}

// apiFallback catches /api paths no route matches, to answer them in JSON.
const apiFallback = "/api/"

// errNoRoute answers unknown /api paths.
var errNoRoute = &httpError{status: http.StatusNotFound, code: "not_found", msg: "no such route"}

// noRoute answers 405 with an Allow header when the path exists for other
// methods, and 404 otherwise.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = method
		if _, pattern := s.mux.Handler(probe); pattern != apiFallback && pattern != "" {
			allowed = append(allowed, method)
		}
	}
	if len(allowed) == 0 {
		s.writeError(w, r, errNoRoute)
		return
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	s.writeError(w, r, &httpError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
		msg: r.Method + " is not allowed here; use " + strings.Join(allowed, ", ")})
}

// Handler returns the server's http.Handler with its middleware: the
// per-request deadline, request metrics and logging, panic recovery and path
// and header checks. instrument must see the very request the mux routes, to read its
// Pattern, so nothing between them may replace the request.
func (s *Server) Handler() http.Handler {
	return s.withDeadline(s.instrument(s.recoverPanics(s.checkRequest(s.mux))))
}

// HTTPServer returns an http.Server for addr with the service's timeouts:
// 5s to read headers, 30s to read a request, a write timeout a little over
// the request deadline, and 2 minutes of keep-alive idleness. Its header
// limit is HardMaxHeaderBytes, above Options.MaxHeaderBytes, so that the
// handler answers oversize requests itself, in JSON.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		MaxHeaderBytes:    HardMaxHeaderBytes,
	}
}

// Serve serves on l until ctx ends, then stops accepting connections and
// waits up to drain for requests in flight to finish. It returns nil after a
// clean drain, or the error that stopped it.
func (s *Server) Serve(ctx context.Context, l net.Listener, drain time.Duration) error {
	hs := s.HTTPServer(l.Addr().String())
	hs.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", l.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("drain %s: %w", l.Addr(), err)
	}
	return nil
}
