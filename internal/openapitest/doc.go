// Package openapitest checks cmd/sessionkit/server/openapi.json against the
// real API: the document is valid OpenAPI, names every route the server
// registers, and every request and response of its test table conforms to
// it. It is a nested module so that kin-openapi never reaches library users.
package openapitest
