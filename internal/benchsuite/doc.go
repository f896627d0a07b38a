// Package benchsuite holds the benchmark workloads that `make bench` runs on
// every backend, so that each backend is measured doing the same work and
// the report can put them side by side: one operation at a time (Ops), the
// same operations as the history grows (Growth), and a Strands tool-using
// turn through session/manager and the scripted loop (Turns), plus the
// memory a thousand sessions take (HeapPerSessions).
//
// A backend's own _test.go file opens its repository and calls these
// functions from a Benchmark. Cost beyond time is reported as custom
// metrics so that bench/cmd/benchreport can read them from the `go test
// -bench` output:
//
//	calls/op   repository calls (Counting) per operation or per turn
//	rt/op      server round trips per operation (a Meter, e.g. the MongoDB
//	           driver's command monitor)
//	B-sent/op  bytes of commands sent per operation
//	B-recv/op  bytes of replies received per operation
//	turns/s    turns per second of wall time (Turns)
//
// Workloads whose setup is large (histories of 1,000 and 10,000 messages,
// a thousand sessions) only run when SESSIONKIT_BENCH_FULL=1, which
// scripts/bench-report.sh sets; without it every benchmark here finishes
// quickly at -benchtime=1x, which is how CI smoke-runs them.
//
// The package imports no driver but the session contract and the manager,
// so the nested test modules (internal/mongotest) can use it too.
package benchsuite
