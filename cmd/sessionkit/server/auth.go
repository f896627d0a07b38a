package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// role is what a credential grants.
type role int

const (
	roleAdmin       role = iota + 1 // the admin token: everything
	roleApplication                 // an API key: one application's sessions
	roleViewer                      // a viewer password: reads of one session
)

// principal is who a request authenticated as.
type principal struct {
	role        role
	application string // roleApplication
	sessionID   string // roleViewer

	// session is the session under /api/sessions/{id} as authorize read
	// it for an API key, so that the write reuses that one read
	// (Server.managed) instead of reading it again.
	session *session.Session
}

type principalKey struct{}

// principalOf returns the principal the auth middleware stored in ctx.
func principalOf(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// access is what a route needs.
type access int

const (
	accessAdmin       access = iota // key management: the admin token only
	accessApplication               // search and create: admin or an API key, confined by the handler
	accessRead                      // reads under /api/sessions/{id}
	accessWrite                     // writes under /api/sessions/{id}
)

// admin wraps h so that only the admin token reaches it.
func (s *Server) admin(h http.HandlerFunc) http.Handler { return s.authed(accessAdmin, h) }

// application wraps a search or create: the admin token or an API key, whose
// application the handler enforces (principalOf).
func (s *Server) application(h http.HandlerFunc) http.Handler {
	return s.authed(accessApplication, h)
}

// reader wraps a read of session {id}: the admin token, an API key of the
// session's application, or the session's viewer password.
func (s *Server) reader(h http.HandlerFunc) http.Handler { return s.authed(accessRead, h) }

// writer wraps a write of session {id}: the admin token or an API key of
// the session's application.
func (s *Server) writer(h http.HandlerFunc) http.Handler { return s.authed(accessWrite, h) }

func (s *Server) authed(need access, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		p, err := s.authenticate(r)
		if err != nil {
			s.authFailed(w, r, arrived, err)
			return
		}
		if err := s.authorize(r, &p, need); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

var (
	errUnauthorized = &httpError{status: http.StatusUnauthorized, code: "unauthorized",
		msg: "credentials required: Authorization: Bearer <admin token or API key>, or X-Session-Password for one session"}
	errBadCredentials = &httpError{status: http.StatusUnauthorized, code: "unauthorized", msg: "invalid credentials"}
	errForbidden      = &httpError{status: http.StatusForbidden, code: "forbidden", msg: "these credentials do not grant this resource"}
	errReadOnly       = &httpError{status: http.StatusForbidden, code: "forbidden", msg: "a viewer password only reads its session"}
	errRateLimited    = &httpError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "too many failed attempts; retry later"}
	errSearchLimited  = &httpError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "too many searches; retry later"}
	errNoKeyStore     = &httpError{status: http.StatusNotImplemented, code: "not_implemented", msg: "this store keeps no API keys"}
)

// SessionPasswordHeader carries a session-viewer password.
const SessionPasswordHeader = "X-Session-Password"

// Targets of failed authentications (see Options.TargetRate).
const (
	targetAdmin   = "admin token"
	targetAPIKeys = "api keys"
	targetSession = "session\x00" // + the session id
)

// authenticate checks the request's credentials. A viewer password is
// checked against the session named in the path. Every credential is
// checked before any limiter is consulted, so a right one always passes.
func (s *Server) authenticate(r *http.Request) (principal, error) {
	token, hasToken := bearer(r)
	password := r.Header.Get(SessionPasswordHeader)
	switch {
	case hasToken:
		p, target, err := s.checkToken(r.Context(), token)
		if err != nil || target == "" {
			return p, err
		}
		return principal{}, s.failure(r, target)
	case password != "":
		id := r.PathValue("id")
		if id == "" {
			return principal{}, errForbidden
		}
		ok, err := s.sessionPasswordOK(r.Context(), id, password)
		if err != nil {
			return principal{}, err
		}
		if !ok {
			return principal{}, s.failure(r, targetSession+id)
		}
		return principal{role: roleViewer, sessionID: id}, nil
	}
	return principal{}, errUnauthorized
}

// checkToken checks a bearer token: the admin token or an API key. A wrong
// token returns the target it failed against.
func (s *Server) checkToken(ctx context.Context, token string) (principal, string, error) {
	if s.adminTokenOK(token) {
		return principal{role: roleAdmin}, "", nil
	}
	if !driver.LooksLikeAPIKey(token) || s.keys == nil {
		return principal{}, targetAdmin, nil
	}
	k, err := s.keys.APIKeyByHash(ctx, driver.HashAPIKey(token))
	if errors.Is(err, session.ErrNotFound) {
		return principal{}, targetAPIKeys, nil
	}
	if err != nil {
		return principal{}, "", err
	}
	return principal{role: roleApplication, application: k.ApplicationName}, "", nil
}

// failure records a failed authentication against the client and the
// target, and returns the error to answer: 401, or 429 once either budget
// is spent.
func (s *Server) failure(r *http.Request, target string) error {
	client := s.login.take(clientKey(s.clientIP(r)))
	tgt := s.targets.take(target)
	if !client || !tgt {
		return errRateLimited
	}
	return errBadCredentials
}

// authFailed answers a failed authentication, no sooner than
// FailedAuthDelay after the request arrived when it was a wrong credential.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, arrived time.Time, err error) {
	if err == errBadCredentials || err == errRateLimited {
		s.failureFloor(r.Context(), arrived)
	}
	s.writeError(w, r, err)
}

// failureFloor waits until FailedAuthDelay after arrived (or ctx's end).
// It runs on the real clock: it is about what a client can measure.
func (s *Server) failureFloor(ctx context.Context, arrived time.Time) {
	wait := time.Until(arrived.Add(s.opts.FailedAuthDelay))
	if s.opts.FailedAuthDelay <= 0 || wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// authorize checks that p may do what the route needs. For an API key it
// reads the session and keeps it in p.session.
func (s *Server) authorize(r *http.Request, p *principal, need access) error {
	switch p.role {
	case roleAdmin:
		return nil
	case roleViewer:
		if need == accessRead && p.sessionID == r.PathValue("id") {
			return nil
		}
		if need == accessRead {
			return errForbidden
		}
		return errReadOnly
	case roleApplication:
		switch need {
		case accessAdmin:
			return errForbidden
		case accessApplication:
			return nil
		}
		id, err := sessionID(r)
		if err != nil {
			return err
		}
		sess, err := s.repo.GetSession(r.Context(), id)
		if err != nil {
			return err
		}
		if sess.ApplicationName != p.application {
			// The same answer as a session that does not exist, so a key
			// cannot learn which ids other applications use.
			return driver.SessionError(id, session.ErrNotFound)
		}
		p.session = sess
		return nil
	}
	return errUnauthorized
}

func (s *Server) adminTokenOK(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.AdminToken)) == 1
}

// dummyViewerHash is checked against when the session is missing, so that
// a wrong password costs the same hashing either way.
var dummyViewerHash = driver.HashViewerPassword(driver.NewViewerPassword())

// sessionPasswordOK verifies a viewer password. An invalid or unknown session
// id is reported as a bad password, so that probing cannot tell which
// sessions exist; the time it takes is equalized by authFailed.
func (s *Server) sessionPasswordOK(ctx context.Context, id, password string) (bool, error) {
	if driver.ValidateSessionID(id) != nil {
		driver.VerifyViewerPassword(dummyViewerHash, password)
		return false, nil
	}
	sess, err := s.repo.GetSession(ctx, id)
	if errors.Is(err, session.ErrNotFound) {
		driver.VerifyViewerPassword(dummyViewerHash, password)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return driver.VerifyViewerPassword(sess.ViewerPasswordHash, password), nil
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

// clientIP is the address the limiters key on: the connecting address, or,
// when that is a trusted proxy, the rightmost X-Forwarded-For address that
// is not a trusted proxy. Addresses a client writes into the header itself
// are to the left of what its proxy appends, so they are never reached.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		a, err := netip.ParseAddr(hop)
		if err != nil {
			// A trusted proxy wrote something that is not an address:
			// fall back to the proxy itself rather than a client-chosen key.
			return peer.String()
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

// clientKey is the per-client limiters' key for address ip: the address
// itself for IPv4, its /64 for IPv6, since one host commonly holds a whole
// /64 and could otherwise rotate through it.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
