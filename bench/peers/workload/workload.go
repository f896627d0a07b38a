// Package workload defines the workloads every store of the peer benchmark
// runs, so that sessionkit, ADK Go and trpc-agent-go do the same work:
// the same message texts, the same history lengths and the same rotation of
// sessions.
package workload

import (
	"fmt"
	"strings"
	"testing"
)

// Identity of the sessions the benchmarks create.
const (
	App   = "bench"
	User  = "user-1"
	Agent = "agent-1"
)

// Workload sizes.
const (
	// History is how many messages a session holds before the first timed
	// append or turn on it.
	History = 100
	// AppendsPerSession is how many timed appends a session takes before the
	// benchmark moves to a freshly seeded one, so an append always meets a
	// history of History to History+AppendsPerSession-1 messages however
	// large b.N grows.
	AppendsPerSession = 100
	// TurnsPerSession is the same for tool turns (four messages each).
	TurnsPerSession = 25
	// ResumeHistory is the length of the history a resume loads.
	ResumeHistory = 200
	// ResumeTail is how many of the newest messages the SQLite resume loads.
	ResumeTail = 20
	// StateKey is the session/agent state key a tool turn updates.
	StateKey = "last_search"
)

// Texts of the messages: a question, a short tool result and an answer of
// the lengths a chat turn typically has.
var (
	Question   = "What changed in the quarterly numbers, and which of the regional teams should I talk to first about the drop in renewals?"
	ToolResult = strings.Repeat("Region EMEA: renewals down 4.2% quarter on quarter; APAC flat; Americas up 1.1%. ", 3)
	Answer     = strings.Repeat("Renewals fell mostly in EMEA, where the drop follows the price change of last quarter; APAC held and the Americas grew slightly. Start with the EMEA team. ", 3)
	ToolName   = "search_reports"
)

// ToolInput is the tool call's input; a fresh map each call so that no two
// messages share it.
func ToolInput(turn int) map[string]any {
	return map[string]any{"query": "renewals by region", "quarter": "2026-Q3", "limit": 5, "turn": turn}
}

// ToolInputJSON is ToolInput as the JSON text a model returns, for the
// stores that keep tool arguments as JSON (trpc-agent-go).
func ToolInputJSON(turn int) []byte {
	return fmt.Appendf(nil, `{"query":"renewals by region","quarter":"2026-Q3","limit":5,"turn":%d}`, turn)
}

// ToolUseID names the tool call of turn.
func ToolUseID(turn int) string { return fmt.Sprintf("tooluse-%d", turn) }

// StateValue is the value a tool turn stores under StateKey.
func StateValue(turn int) string { return fmt.Sprintf("renewals by region, turn %d", turn) }

// SeedText returns the role ("user" or "assistant") and text of the i-th
// message of a seeded history: user questions and assistant answers in
// turn.
func SeedText(i int) (role, text string) {
	if i%2 == 0 {
		return "user", Question
	}
	return "assistant", Answer
}

// Rotate runs op b.N times, calling fresh (with the timer stopped) before the
// first call and after every perSession calls, so each timed op works on a
// session seeded by fresh and used at most perSession times.
func Rotate(b *testing.B, perSession int, fresh func(), op func(i int)) {
	b.Helper()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		if i%perSession == 0 {
			b.StopTimer()
			fresh()
			b.StartTimer()
		}
		op(i)
	}
	b.StopTimer()
}

// Texts of the aliasing probe: a message is appended with Original, then
// the caller overwrites its copy with Mutated.
const (
	Original = "original text"
	Mutated  = "mutated by the caller"
)

// Aliasing names what an aliasing probe observed in the store after the
// caller mutated its copy: "isolated" when the store kept Original,
// "changes-store" when it shows Mutated. ok is false for any other text,
// which means the probe itself went wrong.
func Aliasing(stored string) (result string, ok bool) {
	switch stored {
	case Original:
		return "isolated", true
	case Mutated:
		return "changes-store", true
	default:
		return "unexpected", false
	}
}
