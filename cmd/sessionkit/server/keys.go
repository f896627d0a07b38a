package server

import (
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// keyRequest is POST /api/keys.
type keyRequest struct {
	ApplicationName string `json:"application_name"`
	Description     string `json:"description,omitempty"`
}

// keyInfo describes a stored key; its hash is never served.
type keyInfo struct {
	KeyID           string    `json:"key_id"`
	ApplicationName string    `json:"application_name"`
	Description     string    `json:"description,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
}

// newKeyResponse carries the key itself, shown this once.
type newKeyResponse struct {
	keyInfo
	Key string `json:"key"`
}

type keyList struct {
	Keys []keyInfo `json:"keys"`
}

func infoOf(k *session.APIKey) keyInfo {
	return keyInfo{KeyID: k.ID, ApplicationName: k.ApplicationName, Description: k.Description, CreatedAt: k.CreatedAt.UTC()}
}

// createKey is POST /api/keys: a new API key for one application. The
// response is the only place the key ever appears.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	if s.keys == nil {
		s.writeError(w, r, errNoKeyStore)
		return
	}
	var req keyRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	key, k, err := driver.NewAPIKey(req.ApplicationName, req.Description, s.opts.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.keys.CreateAPIKey(r.Context(), k); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "api key created", "key_id", k.ID, "application", k.ApplicationName)
	writeJSON(w, http.StatusCreated, newKeyResponse{keyInfo: infoOf(k), Key: key})
}

// listKeys is GET /api/keys.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	if s.keys == nil {
		s.writeError(w, r, errNoKeyStore)
		return
	}
	keys, err := s.keys.ListAPIKeys(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := keyList{Keys: make([]keyInfo, len(keys))}
	for i, k := range keys {
		out.Keys[i] = infoOf(k)
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteKey is DELETE /api/keys/{key}: revokes the key with that id, at once
// for every server over the store.
func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	if s.keys == nil {
		s.writeError(w, r, errNoKeyStore)
		return
	}
	id := r.PathValue("key")
	if err := driver.ValidateAPIKeyID(id); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.keys.DeleteAPIKey(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "api key revoked", "key_id", id)
	w.WriteHeader(http.StatusNoContent)
}
