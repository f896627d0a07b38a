// Package sessionkit runs the peer benchmark's workloads on sessionkit,
// through session/manager (the path a user's agent takes) over
// backend/memory and backend/sqlite.
package sessionkit
