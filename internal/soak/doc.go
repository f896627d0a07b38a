// Package soak is sessionkit's reliability harness: a workload of simulated
// agents writing through the session manager, a fault schedule that runs
// while they write, and a checker that proves nothing acknowledged was lost.
// It is a library so that tests (with real servers they can kill) and the
// "sessionkit soak" command share one workload and one checker.
//
// # Workload
//
// Run starts Config.Agents workers over Config.Sessions sessions. Each
// worker is one simulated agent process: its own manager.Manager on its
// session, one agent log it shares with Config.SharedLogs-1 other workers
// (so appends race and exercise the manager's conflict retry), and
// Config.Ops operations drawn from a seeded mix of
//
//   - append: a message whose text is unique to (run, worker, sequence);
//   - metadata: an update of one of the worker's own metadata keys to a
//     unique value;
//   - feedback: feedback whose comment is unique.
//
// Every call runs under its own deadline (Config.OpTimeout). The worker
// records each write in a Ledger as acknowledged (the call returned nil) or
// unknown (it returned an error: the write may or may not have been
// applied). A call that returns later than its deadline plus Config.Slack
// counts as an overrun: something ignored its context.
//
// # Faults
//
// Config.Faults run in order on the goroutine that called Run, each when the
// workload's progress reaches Fault.At: Inject, wait Fault.Hold while the
// workers keep writing, Recover. Recover always runs, even when the workload
// is cancelled. Outage (over internal/faultinject) is provided; tests add
// their own, such as killing and restarting Redis or the MongoDB-wire
// server.
//
// # Checking
//
// Verify reads the store back and checks, for every agent log, that ids are
// dense (0..n-1), that every acknowledged message is stored exactly once,
// that an unknown one is stored at most once, that each worker's messages
// appear in the order it wrote them, and that nothing unrecorded appeared;
// for metadata, that each key holds the worker's last acknowledged value or
// a later one; for feedback, that every acknowledged comment is stored
// exactly once and an unknown one at most once. CompareReads checks that a
// cached repository answers exactly as the backend does (no stale read), and
// fails with ErrCacheNotChecked when none of its reads went through the
// cache. CompareFresh, the final comparison, compares, writes a new cache
// generation of every session, and compares again, so that an entry of an
// older generation served as a hit is caught whatever the run wrote last.
package soak
