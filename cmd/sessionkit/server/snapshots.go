package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Snapshot storage, session.SnapshotStore over HTTP (the routes table in
// README's "The service"; the HTTP contract the Python client codes to):
//
//	PUT    /api/sessions/{id}/snapshots/{key...}   store the raw body under key
//	GET    /api/sessions/{id}/snapshots/{key...}   the raw bytes
//	DELETE /api/sessions/{id}/snapshots/{key...}   204 whether or not it existed
//	GET    /api/sessions/{id}/snapshots            list: ?prefix=&limit=&cursor=
//
// They take the same credentials as the agent routes. Keys arrive as the
// rest of the path; the request-path check (checkPath) already refuses
// empty, "." and ".." segments and a trailing slash, so a key must be sent
// normalized. Over a repository without the role they answer 501.
func (s *Server) snapshotRoutes(m *http.ServeMux) {
	m.Handle("GET /api/sessions/{id}/snapshots", s.reader(s.listSnapshots))
	m.Handle("GET /api/sessions/{id}/snapshots/{key...}", s.reader(s.getSnapshot))
	m.Handle("PUT /api/sessions/{id}/snapshots/{key...}", s.writer(s.putSnapshot))
	m.Handle("DELETE /api/sessions/{id}/snapshots/{key...}", s.writer(s.deleteSnapshot))
}

var errNoSnapshots = &httpError{status: http.StatusNotImplemented, code: "not_implemented",
	msg: "this repository does not store snapshots"}

// snapshotStore returns the repository's SnapshotStore or errNoSnapshots.
func (s *Server) snapshotStore() (session.SnapshotStore, error) {
	st, err := session.SnapshotsOf(s.repo)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, errNoSnapshots
	}
	return st, err
}

// maxSnapshotBytes is the largest PUT body read: Options.MaxSnapshotBytes,
// default session.DefaultMaxSnapshotBytes. The store applies its own limit
// too.
func (s *Server) maxSnapshotBytes() int64 {
	if s.opts.MaxSnapshotBytes > 0 {
		return s.opts.MaxSnapshotBytes
	}
	return session.DefaultMaxSnapshotBytes
}

// snapshotInfo is a snapshot's JSON description.
type snapshotInfo struct {
	Key       string    `json:"key"`
	SizeBytes int64     `json:"size_bytes"`
	UpdatedAt time.Time `json:"updated_at"`
}

func wireSnapshotInfo(i session.SnapshotInfo) snapshotInfo {
	return snapshotInfo{Key: i.Key, SizeBytes: i.SizeBytes, UpdatedAt: i.UpdatedAt.UTC()}
}

type snapshotList struct {
	Snapshots  []snapshotInfo `json:"snapshots"`
	NextCursor string         `json:"next_cursor"`
}

// readSnapshotBody reads the body into one buffer of its exact size when
// Content-Length is given (so a 64 MiB snapshot is held once, not grown by
// doubling), refusing a body over limit before reading it.
func readSnapshotBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	tooLarge := func(n string) error {
		return fmt.Errorf("snapshot body of %s bytes is over the %d-byte limit: %w", n, limit, session.ErrTooLarge)
	}
	if r.ContentLength > limit {
		return nil, tooLarge(strconv.FormatInt(r.ContentLength, 10))
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength >= 0 {
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, driver.InvalidArgument("request body", "shorter than its Content-Length: %v", err)
		}
		return buf, nil
	}
	buf, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge("more than " + strconv.FormatInt(limit, 10))
	} else if err != nil {
		return nil, driver.InvalidArgument("request body", "unreadable: %v", err)
	}
	return buf, nil
}

// snapshotTarget is the session a snapshot route names and the store that
// keeps its snapshots.
func (s *Server) snapshotTarget(r *http.Request) (string, session.SnapshotStore, error) {
	id, err := sessionID(r)
	if err != nil {
		return "", nil, err
	}
	st, err := s.snapshotStore()
	if err != nil {
		return "", nil, err
	}
	return id, st, nil
}

func (s *Server) putSnapshot(w http.ResponseWriter, r *http.Request) {
	id, st, err := s.snapshotTarget(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	key, err := driver.NormalizeSnapshotKey(r.PathValue("key"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data, err := readSnapshotBody(w, r, s.maxSnapshotBytes())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	info, err := st.PutSnapshot(r.Context(), id, key, data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wireSnapshotInfo(*info))
}

func (s *Server) getSnapshot(w http.ResponseWriter, r *http.Request) {
	id, st, err := s.snapshotTarget(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	snap, err := st.GetSnapshot(r.Context(), id, r.PathValue("key"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(snap.Data)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Last-Modified", snap.UpdatedAt.UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(snap.Data)
	}
}

func (s *Server) deleteSnapshot(w http.ResponseWriter, r *http.Request) {
	id, st, err := s.snapshotTarget(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := st.DeleteSnapshot(r.Context(), id, r.PathValue("key")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listSnapshots(w http.ResponseWriter, r *http.Request) {
	id, st, err := s.snapshotTarget(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	qv := r.URL.Query()
	q := session.SnapshotQuery{Prefix: qv.Get("prefix"), Cursor: qv.Get("cursor")}
	if v := qv.Get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 {
			s.writeError(w, r, driver.InvalidArgument("limit", "%q is not a whole number from 1 to %d", v, session.MaxSnapshotListLimit))
			return
		}
	}
	page, err := st.ListSnapshots(r.Context(), id, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := snapshotList{Snapshots: make([]snapshotInfo, 0, len(page.Snapshots)), NextCursor: page.NextCursor}
	for _, i := range page.Snapshots {
		out.Snapshots = append(out.Snapshots, wireSnapshotInfo(i))
	}
	writeJSON(w, http.StatusOK, out)
}
