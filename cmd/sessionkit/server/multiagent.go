package server

import (
	"errors"
	"net/http"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/wire"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Orchestrator (Graph and Swarm) state, session.MultiAgentStore over HTTP:
//
//	GET  /api/sessions/{id}/multi_agents            list, ordered by id
//	POST /api/sessions/{id}/multi_agents            create: {"multi_agent_id", "state"}
//	GET  /api/sessions/{id}/multi_agents/{multi}    one record
//	PUT  /api/sessions/{id}/multi_agents/{multi}    replace the state: {"state"}
//
// They take the same credentials as the agent routes: the admin token or an
// API key of the session's application; the session's viewer password reads. Over a repository without the role they
// answer 501 not_implemented.
func (s *Server) multiAgentRoutes(m *http.ServeMux) {
	m.Handle("GET /api/sessions/{id}/multi_agents", s.reader(s.listMultiAgents))
	m.Handle("POST /api/sessions/{id}/multi_agents", s.writer(s.createMultiAgent))
	m.Handle("GET /api/sessions/{id}/multi_agents/{multi}", s.reader(s.getMultiAgent))
	m.Handle("PUT /api/sessions/{id}/multi_agents/{multi}", s.writer(s.updateMultiAgent))
}

var errNoMultiAgents = &httpError{status: http.StatusNotImplemented, code: "not_implemented",
	msg: "this repository does not store multi-agent state"}

// multiAgents returns the repository's MultiAgentStore or errNoMultiAgents.
func (s *Server) multiAgents() (session.MultiAgentStore, error) {
	ma, err := session.MultiAgentsOf(s.repo)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, errNoMultiAgents
	}
	return ma, err
}

// multiAgentPath returns the validated {id} and {multi} path values.
func multiAgentPath(r *http.Request) (string, string, error) {
	id, err := sessionID(r)
	if err != nil {
		return "", "", err
	}
	multi := r.PathValue("multi")
	return id, multi, driver.ValidateMultiAgentID(multi)
}

type multiAgentList struct {
	MultiAgents []*wire.MultiAgent `json:"multi_agents"`
}

// multiAgentTarget is the session an orchestrator route names and the
// store that keeps its orchestrators.
func (s *Server) multiAgentTarget(r *http.Request) (string, session.MultiAgentStore, error) {
	id, err := sessionID(r)
	if err != nil {
		return "", nil, err
	}
	ma, err := s.multiAgents()
	if err != nil {
		return "", nil, err
	}
	return id, ma, nil
}

func (s *Server) listMultiAgents(w http.ResponseWriter, r *http.Request) {
	id, ma, err := s.multiAgentTarget(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := ma.ListMultiAgents(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := multiAgentList{MultiAgents: make([]*wire.MultiAgent, 0, len(list))}
	for _, m := range list {
		wm, err := wire.FromMultiAgent(m)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.MultiAgents = append(out.MultiAgents, wm)
	}
	writeJSON(w, http.StatusOK, out)
}

// createMultiAgent is POST .../multi_agents with a wire.MultiAgent body;
// the times are the server's.
func (s *Server) createMultiAgent(w http.ResponseWriter, r *http.Request) {
	id, ma, err := s.multiAgentTarget(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var wm wire.MultiAgent
	if err := s.decodeJSON(w, r, &wm); err != nil {
		s.writeError(w, r, err)
		return
	}
	if wm.CreatedAt != nil || wm.UpdatedAt != nil {
		s.writeError(w, r, driver.InvalidArgument("created_at", "is set by the server"))
		return
	}
	m, err := wm.ToMultiAgent()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := ma.CreateMultiAgent(r.Context(), id, m); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMultiAgent(w, r, ma, id, m.ID, http.StatusCreated)
}

func (s *Server) getMultiAgent(w http.ResponseWriter, r *http.Request) {
	id, multi, err := multiAgentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ma, err := s.multiAgents()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMultiAgent(w, r, ma, id, multi, http.StatusOK)
}

// updateMultiAgent is PUT .../multi_agents/{multi}: replaces the state of
// an existing record (404 when there is none, as Strands'
// update_multi_agent raises).
func (s *Server) updateMultiAgent(w http.ResponseWriter, r *http.Request) {
	id, multi, err := multiAgentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ma, err := s.multiAgents()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var wm wire.MultiAgent
	if err := s.decodeJSON(w, r, &wm); err != nil {
		s.writeError(w, r, err)
		return
	}
	if wm.MultiAgentID != "" && wm.MultiAgentID != multi {
		s.writeError(w, r, driver.InvalidArgument("multi_agent_id", "%q does not match the path", wm.MultiAgentID))
		return
	}
	if wm.CreatedAt != nil || wm.UpdatedAt != nil {
		s.writeError(w, r, driver.InvalidArgument("multi_agent", "only state can be updated"))
		return
	}
	wm.MultiAgentID = multi
	m, err := wm.ToMultiAgent()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := ma.UpdateMultiAgent(r.Context(), id, m); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMultiAgent(w, r, ma, id, multi, http.StatusOK)
}

func (s *Server) writeMultiAgent(w http.ResponseWriter, r *http.Request, ma session.MultiAgentStore, id, multi string, status int) {
	m, err := ma.GetMultiAgent(r.Context(), id, multi)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wm, err := wire.FromMultiAgent(m)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, wm)
}
