package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Retention over HTTP:
//
//	PUT  /api/sessions/{id}/expiry  {"expires_at": "<RFC 3339>"} sets the session's expiry, null clears it
//	POST /api/admin/prune           deletes an application's sessions unwritten for older_than (admin only)
//
// Sessions created through POST /api/sessions take Options.Retention's
// expiry for their application unless the request names one.
func (s *Server) retentionRoutes(m *http.ServeMux) {
	m.Handle("PUT /api/sessions/{id}/expiry", s.writer(s.setExpiry))
	m.Handle("POST /api/admin/prune", s.admin(s.prune))
}

var errNoExpiry = &httpError{status: http.StatusNotImplemented, code: "not_implemented",
	msg: "this repository does not expire sessions"}

// applyRetention gives a new session its application's default expiry.
func (s *Server) applyRetention(sess *session.Session) error {
	return s.opts.Retention.Apply(sess, s.opts.Now())
}

type expiryBody struct {
	// ExpiresAt is the new expiry; null (or absent) clears it.
	ExpiresAt *time.Time `json:"expires_at"`
}

func (s *Server) setExpiry(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body expiryBody
	if err := s.decodeJSON(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := session.ExpiryOf(s.repo)
	if errors.Is(err, errors.ErrUnsupported) {
		s.writeError(w, r, errNoExpiry)
		return
	}
	var at time.Time
	if body.ExpiresAt != nil {
		at = *body.ExpiresAt
	}
	if err := st.SetSessionExpiry(r.Context(), id, at); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxPruneLimit bounds the deletions of one prune request, so that it
// answers within a request's time; the response says when more remain.
const maxPruneLimit = 10000

type pruneRequest struct {
	ApplicationName string `json:"application_name"`
	// OlderThan is a duration: "30d", "12h".
	OlderThan string `json:"older_than"`
	All       bool   `json:"all"`
	DryRun    bool   `json:"dry_run"`
	// Limit caps this request's deletions (default and maximum 10000).
	Limit int `json:"limit"`
}

type pruneResponse struct {
	Scanned int       `json:"scanned"`
	Matched int       `json:"matched"`
	Deleted int       `json:"deleted"`
	Gone    int       `json:"gone"`
	Skipped int       `json:"skipped"`
	Cutoff  time.Time `json:"cutoff"`
	// More is true when the limit stopped the prune: send it again.
	More bool `json:"more"`
}

func (s *Server) prune(w http.ResponseWriter, r *http.Request) {
	var req pruneRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var age time.Duration
	if req.OlderThan != "" {
		d, err := session.ParseDuration(req.OlderThan)
		if err != nil {
			s.writeError(w, r, driver.InvalidArgument("older_than", "%v", err))
			return
		}
		age = d
	}
	if req.Limit < 0 || req.Limit > maxPruneLimit {
		s.writeError(w, r, driver.InvalidArgument("limit", "must be within [0, %d], got %d", maxPruneLimit, req.Limit))
		return
	}
	if req.Limit == 0 {
		req.Limit = maxPruneLimit
	}
	res, err := session.Prune(r.Context(), s.repo, session.PruneOptions{
		ApplicationName: req.ApplicationName, OlderThan: age, All: req.All, DryRun: req.DryRun,
		Limit: req.Limit, Now: s.opts.Now,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.Deleted > 0 {
		s.log.InfoContext(r.Context(), "sessions pruned", "application", req.ApplicationName, "older_than", age.String(),
			"deleted", res.Deleted, "more", res.More)
	}
	writeJSON(w, http.StatusOK, pruneResponse{Scanned: res.Scanned, Matched: res.Matched, Deleted: res.Deleted,
		Gone: res.Gone, Skipped: res.Skipped, Cutoff: res.Cutoff, More: res.More})
}
