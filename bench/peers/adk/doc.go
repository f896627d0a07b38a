// Package adk runs the peer benchmark's workloads on ADK Go
// (google.golang.org/adk/v2): its in-memory session service and its
// database service (GORM) on SQLite through github.com/glebarez/sqlite,
// which runs the same pure-Go engine as sessionkit's backend
// (modernc.org/sqlite).
package adk
