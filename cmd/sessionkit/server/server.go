// Package server is sessionkit's HTTP service: a JSON API over a
// session.Repository (search, timelines, metadata, feedback, and a
// conversation store for agents written in other languages), the embedded
// session-viewer web page, /healthz and Prometheus /metrics.
//
// # Authentication
//
// Every /api route except /api/login needs credentials:
//
//	Authorization: Bearer <admin token>     every session
//	X-Session-Password: <viewer password>   the one session in the path
//
// A viewer password is checked with session.VerifyViewerPassword against the
// session's stored hash; it grants the routes under /api/sessions/{id} for
// that id only (403 elsewhere) and never deletes. Tokens are compared in
// constant time. Failed attempts draw from a per-client-IP token bucket
// (Options.LoginRate); once it is empty every credentialed request from that
// IP gets 429 until it refills, so passwords cannot be guessed at speed.
// Searches draw from a second bucket (Options.SearchRate).
//
// # Errors
//
// Errors are JSON, {"error": {"code": "...", "message": "..."}}, with the
// status derived from the session error kinds: ErrInvalidArgument 400,
// ErrNotFound 404, ErrAlreadyExists and ErrConflict 409, ErrTooLarge 413,
// ErrClosed 503. Bad input never yields a 500; a panic in a handler is
// logged and answered with a 500.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
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
	// RequestTimeout is the deadline each request's context gets. Default
	// 30s.
	RequestTimeout time.Duration
	// LoginRate bounds failed authentication attempts per client IP.
	// Default 1 per second, burst 10.
	LoginRate Rate
	// SearchRate bounds session searches per client IP. Default 10 per
	// second, burst 30.
	SearchRate Rate
	// Now is the clock. Default time.Now.
	Now func() time.Time
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
	login   *limiter
	search  *limiter
}

// Defaults for Options.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultRequestTimeout = 30 * time.Second
)

// New validates opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Repository == nil {
		return nil, session.InvalidArgument("repository", "is required")
	}
	if len(opts.AdminToken) < 16 {
		return nil, session.InvalidArgument("admin token", "must be at least 16 bytes")
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
		search:  newLimiter(opts.SearchRate, opts.Now),
	}
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

	m.Handle("GET /api/sessions", s.admin(s.listSessions))
	m.Handle("POST /api/sessions", s.admin(s.createSession))
	m.Handle("GET /api/sessions/{id}", s.scoped(s.getSession))
	m.Handle("DELETE /api/sessions/{id}", s.admin(s.deleteSession))
	m.Handle("GET /api/sessions/{id}/timeline", s.scoped(s.timeline))

	m.Handle("GET /api/sessions/{id}/metadata", s.scoped(s.getMetadata))
	m.Handle("PATCH /api/sessions/{id}/metadata", s.scoped(s.updateMetadata))
	m.Handle("DELETE /api/sessions/{id}/metadata", s.scoped(s.deleteMetadata))

	m.Handle("GET /api/sessions/{id}/feedback", s.scoped(s.listFeedback))
	m.Handle("POST /api/sessions/{id}/feedback", s.scoped(s.addFeedback))

	m.Handle("GET /api/sessions/{id}/agents", s.scoped(s.listAgents))
	m.Handle("POST /api/sessions/{id}/agents", s.scoped(s.createAgent))
	m.Handle("GET /api/sessions/{id}/agents/{agent}", s.scoped(s.getAgent))
	m.Handle("PUT /api/sessions/{id}/agents/{agent}", s.scoped(s.updateAgent))
	m.Handle("GET /api/sessions/{id}/agents/{agent}/messages", s.scoped(s.listMessages))
	m.Handle("POST /api/sessions/{id}/agents/{agent}/messages", s.scoped(s.appendMessage))
	s.multiAgentRoutes(m)

	m.HandleFunc(apiFallback, s.noRoute)
}

// apiFallback catches /api paths no route matches, to answer them in JSON.
const apiFallback = "/api/"

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
// checks. instrument must see the very request the mux routes, to read its
// Pattern, so nothing between them may replace the request.
func (s *Server) Handler() http.Handler {
	return s.withDeadline(s.instrument(s.recoverPanics(s.checkPath(s.mux))))
}

// HTTPServer returns an http.Server for addr with the service's timeouts:
// 5s to read headers, 30s to read a request, a write timeout a little over
// the request deadline, and 2 minutes of keep-alive idleness.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		MaxHeaderBytes:    64 << 10,
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

// principal is who a request authenticated as.
type principal struct {
	admin     bool
	sessionID string // for a viewer-password principal
}

// errNoRoute answers unknown /api paths.
var errNoRoute = &httpError{status: http.StatusNotFound, code: "not_found", msg: "no such route"}

// admin wraps h so that only the admin token reaches it.
func (s *Server) admin(h func(http.ResponseWriter, *http.Request)) http.Handler {
	return s.authed(true, h)
}

// scoped wraps h so that the admin token or the path session's viewer
// password reaches it.
func (s *Server) scoped(h func(http.ResponseWriter, *http.Request)) http.Handler {
	return s.authed(false, h)
}

func (s *Server) authed(adminOnly bool, h func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !p.admin {
			if adminOnly {
				s.writeError(w, r, errForbidden)
				return
			}
		}
		h(w, r)
	})
}

var (
	errUnauthorized = &httpError{status: http.StatusUnauthorized, code: "unauthorized",
		msg: "credentials required: Authorization: Bearer <admin token>, or X-Session-Password for one session"}
	errBadCredentials = &httpError{status: http.StatusUnauthorized, code: "unauthorized", msg: "invalid credentials"}
	errForbidden      = &httpError{status: http.StatusForbidden, code: "forbidden", msg: "these credentials do not grant this resource"}
	errRateLimited    = &httpError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "too many requests; retry later"}
)

// SessionPasswordHeader carries a session-viewer password.
const SessionPasswordHeader = "X-Session-Password"

// authenticate checks the request's credentials. A viewer password is
// checked against the session named in the path.
func (s *Server) authenticate(r *http.Request) (principal, error) {
	token, hasToken := bearer(r)
	password := r.Header.Get(SessionPasswordHeader)
	if !hasToken && password == "" {
		return principal{}, errUnauthorized
	}
	ip := clientIP(r)
	if !s.login.available(ip) {
		return principal{}, errRateLimited
	}
	if hasToken {
		if s.adminTokenOK(token) {
			return principal{admin: true}, nil
		}
		s.login.take(ip)
		return principal{}, errBadCredentials
	}
	id := r.PathValue("id")
	if id == "" {
		s.login.take(ip)
		return principal{}, errForbidden
	}
	ok, err := s.sessionPasswordOK(r.Context(), id, password)
	if err != nil {
		return principal{}, err
	}
	if !ok {
		s.login.take(ip)
		return principal{}, errBadCredentials
	}
	return principal{sessionID: id}, nil
}

func (s *Server) adminTokenOK(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.AdminToken)) == 1
}

// sessionPasswordOK verifies a viewer password. An invalid or unknown session
// id is reported as a bad password, so that probing cannot tell which
// sessions exist.
func (s *Server) sessionPasswordOK(ctx context.Context, id, password string) (bool, error) {
	if session.ValidateSessionID(id) != nil {
		return false, nil
	}
	sess, err := s.repo.GetSession(ctx, id)
	if errors.Is(err, session.ErrNotFound) {
		session.VerifyViewerPassword("sha256$AAAAAAAAAAAAAAAAAAAAAA$x", password) // same work as a real check
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return session.VerifyViewerPassword(sess.ViewerPasswordHash, password), nil
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true // present but malformed: a failed attempt
	}
	return strings.TrimSpace(tok), true
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
