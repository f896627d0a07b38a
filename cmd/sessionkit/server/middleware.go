package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// httpError is an error with its HTTP answer.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// statusOf maps an error to its HTTP status and error code.
func statusOf(err error) (int, string) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, he.code
	case errors.As(err, &mbe), errors.Is(err, session.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, session.ErrInvalidArgument):
		return http.StatusBadRequest, "invalid_argument"
	case errors.Is(err, session.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, session.ErrAlreadyExists):
		return http.StatusConflict, "already_exists"
	case errors.Is(err, context.DeadlineExceeded):
		// Before ErrConflict: an append that kept losing races until the
		// request's deadline wraps both, and the deadline is why it ended.
		return http.StatusGatewayTimeout, "deadline_exceeded"
	case errors.Is(err, session.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, session.ErrClosed):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, errors.ErrUnsupported):
		return http.StatusNotImplemented, "not_implemented"
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "canceled"
	}
	return http.StatusInternalServerError, "internal"
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers with err as JSON. Server-side failures are logged and
// answered with a generic message, so backend details (hosts, queries)
// never reach the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := statusOf(err)
	msg := publicMessage(err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		msg = http.StatusText(status)
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sessionkit"`)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"cannot encode response"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeJSON reads the request body into v: it must be application/json,
// within MaxBodyBytes, JSON text that decodes without loss (no invalid
// UTF-8, no lone surrogate: driver.CheckJSONText), one JSON value with no
// unknown fields.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			msg: fmt.Sprintf("Content-Type %q: want application/json", ct)}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("request body over %d bytes: %w", mbe.Limit, err)
		}
		return driver.InvalidArgument("request body", "unreadable: %v", err)
	}
	if err := driver.CheckJSONText(raw); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return driver.InvalidArgument("request body", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return driver.InvalidArgument("request body", "trailing data after the JSON value")
	}
	return nil
}

// recoverPanics turns a handler panic into a logged 500.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "handler panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: errorDetail{Code: "internal", Message: "internal server error"}})
		}()
		next.ServeHTTP(w, r)
	})
}

// checkRequest answers, before routing, what the mux must never see: a
// request line plus headers over MaxHeaderBytes (JSON 431), and a path the
// mux would clean and redirect — an empty segment, a trailing slash under
// /api, a "." or ".." segment — (JSON 400). r.URL.Path is already
// percent-decoded, so "%2e%2e" and "%2F" are caught too. "/api" itself
// gets the API's JSON 404 rather than the mux's redirect to "/api/".
func (s *Server) checkRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headerBytes(r) > s.opts.MaxHeaderBytes {
			s.writeError(w, r, &httpError{status: http.StatusRequestHeaderFieldsTooLarge, code: "headers_too_large",
				msg: fmt.Sprintf("request line and headers over %d bytes", s.opts.MaxHeaderBytes)})
			return
		}
		if err := checkPath(r.URL.Path); err != nil {
			s.writeError(w, r, err)
			return
		}
		if r.URL.Path == "/api" {
			s.writeError(w, r, errNoRoute)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkPath reports why path is not one the mux serves as it is.
func checkPath(path string) error {
	if !strings.HasPrefix(path, "/") {
		return nil // "*" (OPTIONS *) and the like: the mux answers 4xx itself
	}
	api := path == "/api" || strings.HasPrefix(path, "/api/")
	segs := strings.Split(path[1:], "/")
	for i, seg := range segs {
		switch {
		case seg == "" && i < len(segs)-1:
			return driver.InvalidArgument("path", "empty path segment (a doubled slash); nothing is redirected")
		case seg == "" && api:
			return driver.InvalidArgument("path", "trailing slash; API paths have none and nothing is redirected")
		case seg == "." || seg == "..":
			return driver.InvalidArgument("path", "%q segments are not allowed; nothing is redirected", seg)
		}
	}
	return nil
}

// headerBytes is the size of r's request line and headers as sent, near
// enough: what http.Server.MaxHeaderBytes would count.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(r.Host) + 10
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// withDeadline gives each request's context the request timeout.
func (s *Server) withDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.status == 0 {
		sr.status = http.StatusOK
	}
	return sr.ResponseWriter.Write(b)
}

func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

// instrument counts and times requests by route and logs them.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.opts.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			route := routeOf(r)
			d := s.opts.Now().Sub(start)
			s.metrics.observe(route, status, d)
			level := slogLevelFor(status)
			s.log.Log(r.Context(), level, "request", "method", r.Method, "route", route,
				"status", status, "duration_ms", float64(d.Microseconds())/1000, "remote", s.clientIP(r))
		}()
		next.ServeHTTP(rec, r)
	})
}

// routeOf is the mux pattern that served r, a bounded label set.
func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "unmatched"
}

func slogLevelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
