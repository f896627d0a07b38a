package server

import (
	"errors"
	"net/http"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/wire"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Fork, session.Forker over HTTP:
//
//	POST /api/sessions/{id}/fork   {"session_id"?, "agent_id"?, "message_id"?, "viewer_password"?}
//
// It copies session {id} (or one agent's history up to message_id) into a
// new session and answers 201 with it, lineage included. It takes the
// credentials of a write of the source — the admin token or an API key of
// the source's application — because the fork belongs to that application
// too (it copies ApplicationName), and so stays within the key's reach. A
// missing session_id gets a fresh random id. The forks of a session are
// listed with GET /api/sessions?forked_from={id}. Over a repository
// without the role it answers 501.
func (s *Server) forkRoutes(m *http.ServeMux) {
	m.Handle("POST /api/sessions/{id}/fork", s.writer(s.forkSession))
}

var errNoFork = &httpError{status: http.StatusNotImplemented, code: "not_implemented",
	msg: "this repository does not fork sessions"}

// forkRequest is the body of POST /api/sessions/{id}/fork. The field names
// are the ones driver.PrepareFork names in its errors.
type forkRequest struct {
	SessionID      string `json:"session_id,omitempty"`
	AgentID        string `json:"agent_id,omitempty"`
	MessageID      *int   `json:"message_id,omitempty"`
	ViewerPassword bool   `json:"viewer_password,omitempty"`
}

func (s *Server) forkSession(w http.ResponseWriter, r *http.Request) {
	source, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req forkRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := session.ForkerOf(s.repo)
	if errors.Is(err, errors.ErrUnsupported) {
		err = errNoFork
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fr := session.ForkRequest{SourceID: source, ID: req.SessionID, AgentID: req.AgentID, MessageID: req.MessageID}
	if fr.ID == "" {
		fr.ID = driver.NewID()
	}
	var password string
	if req.ViewerPassword {
		password = driver.NewViewerPassword()
		fr.ViewerPasswordHash = driver.HashViewerPassword(password)
	}
	fork, err := f.ForkSession(r.Context(), fr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ws, err := wire.FromSession(fork, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, createSessionResponse{Session: ws, ViewerPassword: password})
}
