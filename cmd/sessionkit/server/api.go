package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/timeline"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/wire"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// loginRequest is POST /api/login: an admin token, an API key, or a
// session id and its viewer password.
type loginRequest struct {
	AdminToken string `json:"admin_token,omitempty"`
	APIKey     string `json:"api_key,omitempty"`
	SessionID  string `json:"session_id,omitempty"`
	Password   string `json:"password,omitempty"`
}

type loginResponse struct {
	Role            string `json:"role"`
	ApplicationName string `json:"application_name,omitempty"`
	SessionID       string `json:"session_id,omitempty"`
}

// handleLogin checks credentials for the viewer, as the auth middleware
// does: a right one always passes; a wrong one draws from the client's and
// the target's failure budgets and is answered no sooner than
// FailedAuthDelay.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	var req loginRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var target string
	switch {
	case req.AdminToken != "" || req.APIKey != "":
		tok := req.AdminToken
		if tok == "" {
			tok = req.APIKey
		}
		p, tgt, err := s.checkToken(r.Context(), tok)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		switch p.role {
		case roleAdmin:
			writeJSON(w, http.StatusOK, loginResponse{Role: "admin"})
			return
		case roleApplication:
			writeJSON(w, http.StatusOK, loginResponse{Role: "application", ApplicationName: p.application})
			return
		}
		target = tgt
	case req.SessionID != "" && req.Password != "":
		ok, err := s.sessionPasswordOK(r.Context(), req.SessionID, req.Password)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if ok {
			writeJSON(w, http.StatusOK, loginResponse{Role: "session", SessionID: req.SessionID})
			return
		}
		target = targetSession + req.SessionID
	default:
		s.writeError(w, r, driver.InvalidArgument("login", "give admin_token, api_key, or session_id and password"))
		return
	}
	s.authFailed(w, r, arrived, s.failure(r, target))
}

// sessionPreview is one search result.
type sessionPreview struct {
	*wire.Session
	AgentCount    int `json:"agent_count"`
	MessageCount  int `json:"message_count"`
	FeedbackCount int `json:"feedback_count"`
}

type sessionList struct {
	Sessions   []*sessionPreview `json:"sessions"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// parseQuery turns search parameters into a SessionQuery. Metadata filters
// are "metadata.<key>=<string value>" or "metadata=<JSON object>" for typed
// values.
func parseQuery(v url.Values) (session.SessionQuery, error) {
	var q session.SessionQuery
	for key, vals := range v {
		if len(vals) != 1 {
			return q, driver.InvalidArgument(key, "given %d times", len(vals))
		}
		val := vals[0]
		switch {
		case key == "application", key == "application_name":
			q.ApplicationName = val
		case key == "id_prefix":
			q.IDPrefix = val
		case key == "forked_from":
			q.ForkedFrom = val
		case key == "type":
			q.Type = session.Type(val)
		case key == "created_from", key == "created_to":
			t, err := parseTime(val)
			if err != nil {
				return q, driver.InvalidArgument(key, "%q is not an RFC 3339 time or date", val)
			}
			if key == "created_from" {
				q.CreatedFrom = t
			} else {
				q.CreatedTo = t
			}
		case key == "limit":
			n, err := strconv.Atoi(val)
			if err != nil {
				return q, driver.InvalidArgument("limit", "%q is not an integer", val)
			}
			if n <= 0 {
				return q, driver.InvalidArgument("limit", "%d must be positive", n)
			}
			q.Limit = n
		case key == "cursor":
			if val == "" {
				return q, driver.InvalidArgument("cursor", "is empty")
			}
			q.Cursor = val
		case key == "metadata":
			m, err := wire.Object("metadata", json.RawMessage(val))
			if err != nil {
				return q, err
			}
			if q.Metadata == nil {
				q.Metadata = map[string]any{}
			}
			for k, x := range m {
				q.Metadata[k] = x
			}
		case strings.HasPrefix(key, "metadata."):
			k := strings.TrimPrefix(key, "metadata.")
			if err := driver.ValidateMetadataKey(k); err != nil {
				return q, err
			}
			if q.Metadata == nil {
				q.Metadata = map[string]any{}
			}
			q.Metadata[k] = val
		default:
			return q, driver.InvalidArgument(key, "unknown search parameter")
		}
	}
	return q, nil
}

// parseTime accepts RFC 3339 times and plain dates (UTC midnight).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(time.DateOnly, s)
}

// listSessions is GET /api/sessions: search newest first, with counts.
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	if !s.search.allow(clientKey(s.clientIP(r))) {
		s.writeError(w, r, errSearchLimited)
		return
	}
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p := principalOf(r.Context()); p.role == roleApplication {
		// An API key searches its own application's sessions only.
		if q.ApplicationName != "" && q.ApplicationName != p.application {
			s.writeError(w, r, errForbidden)
			return
		}
		q.ApplicationName = p.application
	}
	if _, _, err := driver.PrepareQuery(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.repo.ListSessions(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := sessionList{Sessions: make([]*sessionPreview, len(page.Sessions)), NextCursor: page.NextCursor}
	g, ctx := errgroup.WithContext(r.Context())
	g.SetLimit(8)
	for i, sess := range page.Sessions {
		g.Go(func() error {
			p, err := s.preview(ctx, sess)
			out.Sessions[i] = p
			return err
		})
	}
	if err := g.Wait(); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// preview adds the agent, message and feedback counts to a session. A
// session deleted meanwhile counts as empty rather than failing the page.
func (s *Server) preview(ctx context.Context, sess *session.Session) (*sessionPreview, error) {
	ws, err := wire.FromSession(sess, false)
	if err != nil {
		return nil, err
	}
	p := &sessionPreview{Session: ws}
	agents, err := s.repo.ListAgents(ctx, sess.ID)
	if errors.Is(err, session.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	p.AgentCount = len(agents)
	for _, a := range agents {
		n, err := s.repo.CountMessages(ctx, sess.ID, a.ID)
		if errors.Is(err, session.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		p.MessageCount += n
	}
	fb, err := s.repo.ListFeedback(ctx, sess.ID)
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		return nil, err
	}
	p.FeedbackCount = len(fb)
	return p, nil
}

// createSessionRequest is POST /api/sessions. With viewer_password true the
// response carries a fresh viewer password, shown this once; the store
// keeps only its hash.
type createSessionRequest struct {
	SessionID       string          `json:"session_id"`
	ApplicationName string          `json:"application_name,omitempty"`
	Metadata        json.RawMessage `json:"metadata,omitempty"`
	ViewerPassword  bool            `json:"viewer_password,omitempty"`
	// ExpiresAt, when set, is the session's expiry; otherwise
	// Options.Retention's for the application, if any.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

type createSessionResponse struct {
	*wire.Session
	ViewerPassword string `json:"viewer_password,omitempty"`
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var req createSessionRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if p := principalOf(r.Context()); p.role == roleApplication {
		// An API key creates sessions of its own application.
		if req.ApplicationName != "" && req.ApplicationName != p.application {
			s.writeError(w, r, errForbidden)
			return
		}
		req.ApplicationName = p.application
	}
	md, err := wire.Object("metadata", req.Metadata)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sess := &session.Session{ID: req.SessionID, ApplicationName: req.ApplicationName, Metadata: md}
	if req.ExpiresAt != nil {
		sess.ExpiresAt = *req.ExpiresAt
	}
	if err := s.applyRetention(sess); err != nil {
		s.writeError(w, r, err)
		return
	}
	var password string
	if req.ViewerPassword {
		password = driver.NewViewerPassword()
		sess.ViewerPasswordHash = driver.HashViewerPassword(password)
	}
	if err := s.repo.CreateSession(r.Context(), sess); err != nil {
		s.writeError(w, r, err)
		return
	}
	stored, err := s.repo.GetSession(r.Context(), sess.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ws, err := wire.FromSession(stored, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, createSessionResponse{Session: ws, ViewerPassword: password})
}

// sessionID returns the validated {id} path value.
func sessionID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	return id, driver.ValidateSessionID(id)
}

// agentPath returns the validated {id} and {agent} path values.
func agentPath(r *http.Request) (string, string, error) {
	id, err := sessionID(r)
	if err != nil {
		return "", "", err
	}
	agent := r.PathValue("agent")
	return id, agent, driver.ValidateAgentID(agent)
}

type sessionDetail struct {
	*wire.Session
	Agents        []*agentDetail `json:"agents"`
	FeedbackCount int            `json:"feedback_count"`
}

type agentDetail struct {
	*wire.Agent
	MessageCount int `json:"message_count"`
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	sess, err := s.repo.GetSession(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ws, err := wire.FromSession(sess, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	agents, err := s.agentDetails(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fb, err := s.repo.ListFeedback(ctx, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionDetail{Session: ws, Agents: agents, FeedbackCount: len(fb)})
}

func (s *Server) agentDetails(ctx context.Context, id string) ([]*agentDetail, error) {
	agents, err := s.repo.ListAgents(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]*agentDetail, 0, len(agents))
	for _, a := range agents {
		wa, err := wire.FromAgent(a)
		if err != nil {
			return nil, driver.AgentError(id, a.ID, err)
		}
		n, err := s.repo.CountMessages(ctx, id, a.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, &agentDetail{Agent: wa, MessageCount: n})
	}
	return out, nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.repo.DeleteSession(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type metadataBody struct {
	Metadata json.RawMessage `json:"metadata"`
}

func (s *Server) getMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var md map[string]any
	err = s.managed(r.Context(), id, func(m *manager.Manager) (err error) {
		md, err = m.GetMetadata(r.Context())
		return err
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMetadata(w, r, md)
}

func (s *Server) writeMetadata(w http.ResponseWriter, r *http.Request, md map[string]any) {
	if md == nil {
		md = map[string]any{}
	}
	raw, err := wire.Value(md)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, metadataBody{Metadata: raw})
}

// updateMetadata is PATCH /api/sessions/{id}/metadata {"metadata": {...}}:
// sets the given top-level keys.
func (s *Server) updateMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body metadataBody
	if err := s.decodeJSON(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	md, err := wire.Object("metadata", body.Metadata)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := driver.PrepareMetadata(md); err != nil {
		s.writeError(w, r, err)
		return
	}
	var out map[string]any
	err = s.managed(r.Context(), id, func(m *manager.Manager) error {
		if err := m.UpdateMetadata(r.Context(), md); err != nil {
			return err
		}
		out, err = m.GetMetadata(r.Context())
		return err
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMetadata(w, r, out)
}

// deleteMetadata is DELETE /api/sessions/{id}/metadata?key=a&key=b.
func (s *Server) deleteMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for k := range r.URL.Query() {
		if k != "key" {
			s.writeError(w, r, driver.InvalidArgument(k, "unknown parameter; use key=<name>, repeated"))
			return
		}
	}
	keys, err := driver.PrepareMetadataKeys(r.URL.Query()["key"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out map[string]any
	err = s.managed(r.Context(), id, func(m *manager.Manager) error {
		if err := m.DeleteMetadata(r.Context(), keys); err != nil {
			return err
		}
		out, err = m.GetMetadata(r.Context())
		return err
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMetadata(w, r, out)
}

type feedbackList struct {
	Feedback []*wire.Feedback `json:"feedback"`
}

func (s *Server) listFeedback(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fbs, err := s.repo.ListFeedback(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := feedbackList{Feedback: make([]*wire.Feedback, 0, len(fbs))}
	for _, f := range fbs {
		wf, err := wire.FromFeedback(f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Feedback = append(out.Feedback, wf)
	}
	writeJSON(w, http.StatusOK, out)
}

// feedbackRequest is POST /api/sessions/{id}/feedback. The id and the
// creation time are assigned by the store.
type feedbackRequest struct {
	Rating    string          `json:"rating"`
	Comment   string          `json:"comment,omitempty"`
	AgentID   string          `json:"agent_id,omitempty"`
	MessageID *int            `json:"message_id,omitempty"`
	Extra     json.RawMessage `json:"extra,omitempty"`
}

func (s *Server) addFeedback(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req feedbackRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	in := wire.Feedback{Rating: req.Rating, Comment: req.Comment, AgentID: req.AgentID, MessageID: req.MessageID, Extra: req.Extra}
	f, err := in.ToFeedback()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var stored *session.Feedback
	err = s.managed(r.Context(), id, func(m *manager.Manager) (err error) {
		stored, err = m.AddFeedback(r.Context(), f)
		return err
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wf, err := wire.FromFeedback(stored)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, wf)
}

type agentList struct {
	Agents []*agentDetail `json:"agents"`
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	agents, err := s.agentDetails(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, agentList{Agents: agents})
}

// createAgent is POST /api/sessions/{id}/agents with a wire.Agent body.
func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var wa wire.Agent
	if err := s.decodeJSON(w, r, &wa); err != nil {
		s.writeError(w, r, err)
		return
	}
	if wa.CreatedAt != nil || wa.UpdatedAt != nil {
		s.writeError(w, r, driver.InvalidArgument("created_at", "is set by the server"))
		return
	}
	a, err := wa.ToAgent()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.repo.CreateAgent(r.Context(), id, a); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeAgent(w, r, id, a.ID, http.StatusCreated)
}

func (s *Server) writeAgent(w http.ResponseWriter, r *http.Request, id, agentID string, status int) {
	a, err := s.repo.GetAgent(r.Context(), id, agentID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wa, err := wire.FromAgent(a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.repo.CountMessages(r.Context(), id, agentID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, agentDetail{Agent: wa, MessageCount: n})
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) {
	id, agent, err := agentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeAgent(w, r, id, agent, http.StatusOK)
}

// updateAgent is PUT /api/sessions/{id}/agents/{agent}: replaces the
// agent's state, conversation-manager state and internal state.
func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request) {
	id, agent, err := agentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var wa wire.Agent
	if err := s.decodeJSON(w, r, &wa); err != nil {
		s.writeError(w, r, err)
		return
	}
	if wa.AgentID != "" && wa.AgentID != agent {
		s.writeError(w, r, driver.InvalidArgument("agent_id", "%q does not match the path", wa.AgentID))
		return
	}
	if wa.Config != nil || wa.CreatedAt != nil || wa.UpdatedAt != nil {
		s.writeError(w, r, driver.InvalidArgument("agent", "only state, conversation_manager_state and _internal_state can be updated"))
		return
	}
	wa.AgentID = agent
	a, err := wa.ToAgent()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.repo.UpdateAgent(r.Context(), id, a); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeAgent(w, r, id, agent, http.StatusOK)
}

type messageList struct {
	Messages []*wire.Message `json:"messages"`
	Total    int             `json:"total"`
}

// MaxMessagesPerRead bounds one GET of messages.
const MaxMessagesPerRead = 1000

// listMessages is GET .../messages?last=N, or ?offset=&limit= for a range.
// Without parameters it returns the last 100.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	id, agent, err := agentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	last, offset, limit := -1, -1, MaxMessagesPerRead
	for k, vals := range q {
		if len(vals) != 1 {
			s.writeError(w, r, driver.InvalidArgument(k, "given %d times", len(vals)))
			return
		}
		n, err := strconv.Atoi(vals[0])
		if err != nil || n < 0 {
			s.writeError(w, r, driver.InvalidArgument(k, "%q is not a non-negative integer", vals[0]))
			return
		}
		switch k {
		case "last":
			last = n
		case "offset":
			offset = n
		case "limit":
			limit = n
		default:
			s.writeError(w, r, driver.InvalidArgument(k, "unknown parameter; use last, or offset and limit"))
			return
		}
	}
	if last >= 0 && (offset >= 0 || q.Has("limit")) {
		s.writeError(w, r, driver.InvalidArgument("last", "cannot be combined with offset or limit"))
		return
	}
	if last > MaxMessagesPerRead || limit > MaxMessagesPerRead || limit == 0 {
		s.writeError(w, r, driver.InvalidArgument("limit", "must be within [1, %d]", MaxMessagesPerRead))
		return
	}
	ctx := r.Context()
	total, err := s.repo.CountMessages(ctx, id, agent)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if offset < 0 {
		if last < 0 {
			last = 100
		}
		offset, limit = max(0, total-last), last
	}
	var msgs []*session.Message
	if limit > 0 {
		if msgs, err = s.repo.ListMessages(ctx, id, agent, offset, limit); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	out := messageList{Messages: make([]*wire.Message, 0, len(msgs)), Total: total}
	for _, m := range msgs {
		wm, err := wire.FromMessage(m)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Messages = append(out.Messages, wm)
	}
	writeJSON(w, http.StatusOK, out)
}

// appendRequest is POST .../messages. MessageID, when given, must be the
// next id (optimistic concurrency: 409 if another writer took it);
// otherwise the server appends at the end, and the append succeeds however
// many clients append to the agent at once, unless the request's deadline
// passes first.
type appendRequest struct {
	MessageID        *int                   `json:"message_id,omitempty"`
	Message          json.RawMessage        `json:"message"`
	RedactMessage    json.RawMessage        `json:"redact_message,omitempty"`
	EventLoopMetrics *wire.EventLoopMetrics `json:"event_loop_metrics,omitempty"`
}

// decodeMessage reads the body of a message write (append or update) and
// checks it as every backend will, so bad input is refused before any
// store is touched.
func (s *Server) decodeMessage(w http.ResponseWriter, r *http.Request) (appendRequest, *session.Message, error) {
	var req appendRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return req, nil, err
	}
	wm := wire.Message{Message: req.Message, RedactMessage: req.RedactMessage, EventLoopMetrics: req.EventLoopMetrics}
	m, err := wm.ToMessage()
	if err != nil {
		return req, nil, err
	}
	if _, err := driver.PrepareMessage(m, s.opts.Now()); err != nil {
		return req, nil, err
	}
	return req, m, nil
}

func (s *Server) appendMessage(w http.ResponseWriter, r *http.Request) {
	id, agent, err := agentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, m, err := s.decodeMessage(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	if req.MessageID != nil {
		m.ID = *req.MessageID
		err = s.repo.CreateMessage(ctx, id, agent, m)
	} else {
		m.ID, err = appendAtEnd(ctx, s.repo, id, agent, m)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stored, err := s.repo.GetMessage(ctx, id, agent, m.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := wire.FromMessage(stored)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	id, err := sessionID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tl, err := timeline.Build(r.Context(), s.repo, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tl)
}

// managed runs op on a session manager of the existing session id with the
// server's hooks, so that hooks observe API writes as they observe agents'
// writes. It never creates the session: a session missing, or deleted
// before the write, is ErrNotFound, and nothing is created that could later
// be someone else's. The session is read once per request: the read that
// authorized an API key is reused, otherwise manager.Open reads it.
func (s *Server) managed(ctx context.Context, id string, op func(*manager.Manager) error) error {
	opts := manager.Options{Hooks: s.opts.Hooks, Now: s.opts.Now}
	var (
		m   *manager.Manager
		err error
	)
	if read := principalOf(ctx).session; read != nil && read.ID == id {
		m, err = manager.OpenSession(s.repo, read, opts)
	} else {
		m, err = manager.Open(ctx, s.repo, id, opts)
	}
	if err != nil {
		return err
	}
	defer m.Close()
	return op(m)
}
