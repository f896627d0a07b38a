// Package trpc runs the peer benchmark's memory workloads on trpc-agent-go
// (trpc.group/trpc-go/trpc-agent-go): its in-memory session service.
//
// Its SQLite session service lives in the separate module
// trpc.group/trpc-go/trpc-agent-go/session/sqlite, which the Go module
// proxy did not serve when this benchmark was written (v1.9.0 to v1.11.2
// and latest tried), so the SQLite workloads have no trpc-agent-go side and
// the report says so.
package trpc
