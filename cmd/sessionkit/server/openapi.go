package server

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI description of the HTTP API, checked in next to
// the handlers; internal/openapitest validates real requests and responses
// against it, so it cannot drift from them unnoticed.
//
//go:embed openapi.json
var openAPIDoc []byte

// serveOpenAPI is GET /api/openapi.json, open to all: it describes routes,
// not data.
func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDoc)
}
