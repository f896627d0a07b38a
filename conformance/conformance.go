// Package conformance is the test suite every session.Repository passes. A
// backend runs it from its own _test.go with a Harness that makes fresh
// repositories:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Harness{
//			NewRepository: func(t *testing.T) session.Repository {
//				r := memory.New(memory.Options{})
//				t.Cleanup(func() { _ = r.Close() })
//				return r
//			},
//		})
//	}
//
// # What it checks
//
// Each case is a named subtest ("CreateMessage/ConcurrentWritersNeverDuplicateIDs")
// on a repository of its own, run in parallel with the others. Together they
// cover the Contract lines of session.Repository: which typed error each
// failure returns, that bad input writes nothing, dense message ids under
// concurrent writers, deep copies in and out, value round trips (unicode,
// binary, deep nesting, ints versus floats), ListSessions filters and
// cursors, closed repositories and cancelled contexts. They include the
// applicable cases of the Strands file and S3 repository tests and of the
// Python MongoDB session manager's repository tests, and the behaviours
// that manager got wrong (see the case names under Agent and Message).
//
// # Optional behaviour
//
// Cases that need a second repository over the same data (Harness.NewPeer),
// persistence across a reopen (Harness.Reopen) or a size limit
// (Capabilities.SizeLimit) skip with a reason when the harness does not
// provide them. The AppendMessage cases run only on repositories that are a
// session.MessageAppender (a decorator whose inner repository is not one
// reports errors.ErrUnsupported and is skipped too); with the capability,
// 64 concurrent appenders on one agent must all succeed with dense ids.
// The MultiAgent and Snapshot cases likewise run only on a
// session.MultiAgentStore or session.SnapshotStore; the 20 MiB snapshot case
// also skips in -short mode and under a Capabilities.SnapshotLimit below it.
// The RestoreTimes and MessagePages cases run only on a session.TimeRestorer
// or a session.MessagePagesReader.
// The Expiry cases run on a session.ExpiryStore whose harness sets
// NewRepositoryAt: they move the clock it was given (Clock) past an expiry
// instead of sleeping; the clocked Prune case needs it too.
package conformance

import (
	"sort"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Harness tells the suite how to make repositories of the backend under
// test.
type Harness struct {
	// NewRepository returns a new, empty repository for one test and
	// registers its cleanup (Close) with t.
	NewRepository func(t *testing.T) session.Repository
	// NewPeer, if set, returns a second repository over the SAME data as r
	// (another process, another cache instance); cases that need two
	// writers/readers on one store skip with a reason when nil.
	NewPeer func(t *testing.T, r session.Repository) session.Repository
	// Reopen, if set, closes r and returns a repository over the same data
	// (persistence across restarts); nil skips those cases.
	Reopen func(t *testing.T, r session.Repository) session.Repository
	// NewRepositoryAt, if set, is NewRepository with now as the clock of
	// everything that compares times (the backend, a cache's expiry checks),
	// so the expiry cases move time forward without sleeping; nil skips
	// them (see expiry.go).
	NewRepositoryAt func(t *testing.T, now func() time.Time) session.Repository
	// Capabilities declares optional behaviour of the backend.
	Capabilities Capabilities
}

// Capabilities declares what the backend under test supports and how
// precisely it stores times.
type Capabilities struct {
	// SizeLimit, if > 0, is the byte budget of one session as the backend
	// counts it; the suite stores a message of about 90% of it (must
	// succeed) and then one over it (must be ErrTooLarge, with nothing
	// written). 0 skips the size cases with a reason.
	SizeLimit int
	// TimePrecision is how finely the backend keeps times (time.Microsecond
	// if zero; time.Millisecond for MongoDB). Time comparisons truncate to
	// it.
	TimePrecision time.Duration
	// SnapshotLimit is the backend's snapshot size limit when it is not
	// session.DefaultMaxSnapshotBytes. The suite writes one byte over it
	// (ErrTooLarge, nothing written), and runs the 20 MiB snapshot case only
	// when the limit allows it and not in -short mode.
	SnapshotLimit int64
	// Appenders is how many goroutines the AppendMessage contention cases
	// start on one agent (64 if zero; the two-peer case starts half as many
	// on each peer). A backend whose writes to one session are serialized
	// and slow may lower it — FerretDB v1, where the Mongo backend queues a
	// session's writes in the process and 256 appends under -race outlast
	// the case timeout — the contract checked is the same.
	Appenders int
}

// testCase is one named behaviour, run on a fresh repository.
type testCase struct {
	group, name string
	run         func(t *testing.T, h Harness)
}

// Run runs every conformance case against the backend h describes. Cases
// are subtests named "<Group>/<Behaviour>" and run in parallel.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.NewRepository == nil {
		t.Fatal("conformance: Harness.NewRepository is nil")
	}
	if h.Capabilities.TimePrecision <= 0 {
		h.Capabilities.TimePrecision = time.Microsecond
	}
	if h.Capabilities.Appenders <= 0 {
		h.Capabilities.Appenders = 64
	}
	groups := map[string][]testCase{}
	for _, c := range allCases() {
		groups[c.group] = append(groups[c.group], c)
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		cases := groups[g]
		t.Run(g, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, h)
				})
			}
		})
	}
}

// CaseNames lists the suite's case names ("Group/Behaviour"), sorted. Backends
// can use it to report coverage; the suite checks that they are distinct.
func CaseNames() []string {
	var out []string
	for _, c := range allCases() {
		out = append(out, c.group+"/"+c.name)
	}
	sort.Strings(out)
	return out
}

func allCases() []testCase {
	var all []testCase
	for _, part := range [][]testCase{
		sessionCases(),
		listSessionCases(),
		agentCases(),
		messageCases(),
		appendCases(),
		preparedCases(),
		agentMessageCases(),
		listMessageCases(),
		metadataCases(),
		feedbackCases(),
		guardrailCases(),
		invalidArgumentCases(),
		valueCases(),
		copyCases(),
		concurrencyCases(),
		lifecycleCases(),
		sharedStoreCases(),
		apiKeyCases(),
		multiAgentCases(),
		multiAgentIDCases(),
		strandsFieldCases(),
		snapshotCases(),
		restoreTimeCases(),
		messagePagesCases(),
		expiryCases(),
		pruneCases(),
		pruneRaceCases(),
		forkCases(),
		forkExpiryCases(),
	} {
		all = append(all, part...)
	}
	return all
}
