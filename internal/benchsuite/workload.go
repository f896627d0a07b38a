package benchsuite

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// FullEnv names the environment variable that turns on the large workloads.
const FullEnv = "SESSIONKIT_BENCH_FULL"

// Full reports whether the large workloads run (SESSIONKIT_BENCH_FULL=1).
func Full() bool { return os.Getenv(FullEnv) == "1" }

// HistorySizes are the history lengths Growth measures: 100, 1,000 and
// 10,000 messages with Full, else 100 only.
func HistorySizes() []int {
	if Full() {
		return []int{100, 1_000, 10_000}
	}
	return []int{100}
}

// ManySessions is the number of sessions of the many-sessions workloads:
// 1,000 with Full, else 20.
func ManySessions() int {
	if Full() {
		return 1_000
	}
	return 20
}

// Text is the body of every benchmark message: about 390 characters, the
// length of an ordinary chat turn (a message of about 525 bytes of BSON,
// as in reference/mongo-servers.md §4).
var Text = strings.Repeat("The quick brown fox jumps over the lazy dog. ", 9)[:390]

// Message returns message id of a benchmark history: users and assistants
// alternate, each saying Text.
func Message(id int) *session.Message {
	role := session.RoleUser
	if id%2 == 1 {
		role = session.RoleAssistant
	}
	return &session.Message{ID: id, Message: session.ChatMessage{
		Role: role, Content: []session.ContentBlock{session.TextBlock(Text)},
	}}
}

// Traffic is what a backend has sent over the network so far.
type Traffic struct {
	// RoundTrips counts requests answered (server commands).
	RoundTrips int64
	// Sent and Received count bytes of requests and replies.
	Sent, Received int64
}

// Meter reports a backend's cumulative traffic. A nil Meter means the
// backend has no network (memory, SQLite): no traffic metrics are reported.
type Meter func() Traffic

// Fixture is a repository holding session SessionID with agent AgentID
// whose log holds History messages (Message(0) ... Message(History-1)).
type Fixture struct {
	Repo               session.Repository
	SessionID, AgentID string
	History            int
	// Meter, when set, counts the repository's traffic.
	Meter Meter
}

// Seed creates session sid with agent aid holding n benchmark messages,
// one CreateMessage each. Backends whose appends are slow build large
// histories their own way (one insert) and use Seed for small ones.
func Seed(ctx context.Context, repo session.Repository, sid, aid string, n int) error {
	if err := repo.CreateSession(ctx, &session.Session{ID: sid}); err != nil {
		return fmt.Errorf("seed %q: %w", sid, err)
	}
	if err := repo.CreateAgent(ctx, sid, &session.Agent{ID: aid}); err != nil {
		return fmt.Errorf("seed %q: %w", sid, err)
	}
	for i := range n {
		if err := repo.CreateMessage(ctx, sid, aid, Message(i)); err != nil {
			return fmt.Errorf("seed %q: %w", sid, err)
		}
	}
	return nil
}

// Measurement is the traffic of a meter since Measure was called.
type Measurement struct {
	meter  Meter
	before Traffic
}

// Measure starts measuring meter's traffic (nil: nothing is reported).
func Measure(meter Meter) Measurement {
	m := Measurement{meter: meter}
	if meter != nil {
		m.before = meter()
	}
	return m
}

// Report divides the traffic since Measure by b.N and reports it as rt/op,
// B-sent/op and B-recv/op. Call it after the benchmark loop.
func (m Measurement) Report(b *testing.B) {
	if m.meter == nil || b.N == 0 {
		return
	}
	after := m.meter()
	n := float64(b.N)
	b.ReportMetric(float64(after.RoundTrips-m.before.RoundTrips)/n, "rt/op")
	b.ReportMetric(float64(after.Sent-m.before.Sent)/n, "B-sent/op")
	b.ReportMetric(float64(after.Received-m.before.Received)/n, "B-recv/op")
}
