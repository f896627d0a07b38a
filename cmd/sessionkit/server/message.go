package server

import (
	"net/http"
	"strconv"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/wire"
	"github.com/sessionkit/sessionkit/session/driver"
)

// One message by id, for clients that mirror Strands' SessionRepository
// (read_message, and update_message, which a guardrail redaction calls):
//
//	GET /api/sessions/{id}/agents/{agent}/messages/{message}   one message
//	PUT /api/sessions/{id}/agents/{agent}/messages/{message}   replace message and redact_message
//
// Credentials as the other agent routes.
func (s *Server) messageRoutes(m *http.ServeMux) {
	m.Handle("GET /api/sessions/{id}/agents/{agent}/messages/{message}", s.reader(s.getMessage))
	m.Handle("PUT /api/sessions/{id}/agents/{agent}/messages/{message}", s.writer(s.updateMessage))
}

// messagePath returns the validated {id}, {agent} and {message} path values.
func messagePath(r *http.Request) (string, string, int, error) {
	id, agent, err := agentPath(r)
	if err != nil {
		return "", "", 0, err
	}
	raw := r.PathValue("message")
	n, err := strconv.Atoi(raw)
	if err != nil {
		return "", "", 0, driver.InvalidArgument("message_id", "%q is not an integer", raw)
	}
	return id, agent, n, driver.ValidateMessageID(n)
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	id, agent, msgID, err := messagePath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMessage(w, r, id, agent, msgID)
}

// updateMessage is PUT .../messages/{message} with the append body
// (message, redact_message, event_loop_metrics; message_id optional and
// then equal to the path's): it replaces the message and its redaction
// (absent clears it), as Strands' update_message replaces both.
func (s *Server) updateMessage(w http.ResponseWriter, r *http.Request) {
	id, agent, msgID, err := messagePath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, m, err := s.decodeMessage(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.MessageID != nil && *req.MessageID != msgID {
		s.writeError(w, r, driver.InvalidArgument("message_id", "%d does not match the path", *req.MessageID))
		return
	}
	m.ID = msgID
	if err := s.repo.UpdateMessage(r.Context(), id, agent, m); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMessage(w, r, id, agent, msgID)
}

func (s *Server) writeMessage(w http.ResponseWriter, r *http.Request, id, agent string, msgID int) {
	m, err := s.repo.GetMessage(r.Context(), id, agent, msgID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := wire.FromMessage(m)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
