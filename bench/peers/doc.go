// Package peers documents the side-by-side benchmark of sessionkit against
// the Go peers ADK Go (google.golang.org/adk/v2) and trpc-agent-go
// (trpc.group/trpc-go/trpc-agent-go).
//
// It is a nested module so that library users never download the peers.
// Each store has its own package (sessionkit, adk, trpc) with the same
// benchmark names running the same workloads (package workload), because a
// test binary cannot hold sessionkit's SQLite driver and ADK's: both
// register the database/sql driver name "sqlite". Each package also has an
// aliasing test that records whether a caller who mutates a message it
// appended or read back changes the stored history; sessionkit's asserts
// that it never does.
//
// `make bench-peers` (part of `make bench`) runs them five times and
// cmd/peersreport renders the medians and the ratios into the Peers section
// of bench/REPORT.md.
package peers
