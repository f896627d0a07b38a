package main

import (
	"fmt"
	"math"
	"strings"
)

// Stores in column order, by package name, with the names the report uses.
var stores = []struct{ pkg, name string }{
	{"sessionkit", "sessionkit"},
	{"adk", "ADK Go"},
	{"trpc", "trpc-agent-go"},
}

func storeName(pkg string) string {
	for _, s := range stores {
		if s.pkg == pkg {
			return s.name
		}
	}
	return pkg
}

// Workloads in row order: benchmark base name and description.
var workloads = []struct{ bench, desc string }{
	{"MemoryAppend", "memory: append through the manager / service (history 100)"},
	{"MemoryResume", "memory: resume 200 messages (full)"},
	{"MemoryToolTurn", "memory: four-message tool turn + state"},
	{"SQLiteAppend", "SQLite: append (history 100)"},
	{"SQLiteToolTurn", "SQLite: tool turn + state"},
	{"SQLiteResume", "SQLite: resume last 20 of 200"},
}

// Thresholds of the targets, as sessionkit time ÷ peer time.
const (
	maxResumeVsTRPC    = 2.0  // memory resume within 2× of trpc-agent-go
	maxVsFasterPeer    = 1.25 // memory append and tool turn
	maxSQLiteVsTRPC    = 1.0  // SQLite append and tool turn no slower than trpc-agent-go's SQLite store
	maxSQLiteResumeVsX = 1.0  // SQLite resume ahead of both (strictly below)
)

// Status of a target.
const (
	Met         = "met"
	NotMet      = "not met"
	NotMeasured = "not measured"
)

// Target is one line of the Peers targets table.
type Target struct {
	Name, Measured, Status string
	// Workload is the benchmark the target judges; Peer the peer it was
	// judged against, when one was (the faster one, for targetVs), and
	// Ratio sessionkit's time ÷ that peer's.
	Workload, Peer string
	Ratio          float64
}

// Why trpc-agent-go has no SQLite column: the long form under the table,
// the short one in the targets.
const (
	sqliteTRPCNote  = "trpc-agent-go's SQLite store lives in its own module, trpc.group/trpc-go/trpc-agent-go/session/sqlite, which the Go module proxy does not serve (v1.9.0 to v1.11.2 tried), so it is not measured"
	sqliteTRPCShort = "trpc-agent-go's SQLite store not measured (see the note under the table)"
)

// Targets judges the issue-19 targets on set.
func Targets(set Set) []Target {
	return []Target{
		targetVs(set, "memory resume of 200 messages within 2× of trpc-agent-go's", "MemoryResume", []string{"trpc"}, maxResumeVsTRPC, ""),
		targetVs(set, "memory append through the manager within 1.25× of the faster peer", "MemoryAppend", []string{"adk", "trpc"}, maxVsFasterPeer, ""),
		targetVs(set, "memory tool turn through the manager within 1.25× of the faster peer", "MemoryToolTurn", []string{"adk", "trpc"}, maxVsFasterPeer, ""),
		targetVs(set, "SQLite append no slower than trpc-agent-go's SQLite store (same engine, modernc)", "SQLiteAppend", []string{"trpc"}, maxSQLiteVsTRPC, "adk"),
		targetVs(set, "SQLite tool turn no slower than trpc-agent-go's SQLite store", "SQLiteToolTurn", []string{"trpc"}, maxSQLiteVsTRPC, "adk"),
		targetAll(set, "SQLite resume (last 20 of 200) ahead of both peers", "SQLiteResume", []string{"adk", "trpc"}),
	}
}

// targetVs compares sessionkit with the fastest of peers: met when
// sessionkit's time ÷ that peer's is at most limit. When none of peers ran,
// the target is not measured and, if info names a peer that did run, its
// ratio is shown for information.
func targetVs(set Set, name, workload string, peers []string, limit float64, info string) Target {
	t := Target{Name: name}
	sk, ok := set.Get(workload, "sessionkit")
	if !ok {
		t.Status, t.Measured = NotMeasured, "sessionkit's benchmark did not run"
		return t
	}
	// The faster peer is the one sessionkit compares worst against.
	worst, bestPeer := math.Inf(-1), ""
	for _, p := range peers {
		if r, ok := set.Ratio(workload, "sessionkit", p); ok && r > worst {
			worst, bestPeer = r, p
		}
	}
	if bestPeer == "" {
		t.Status = NotMeasured
		t.Measured = sqliteTRPCShort
		if st, ok := set.Get(workload, info); ok && info != "" {
			r, _ := set.Ratio(workload, "sessionkit", info)
			t.Measured += fmt.Sprintf("; for reference, sessionkit %s vs %s %s: sessionkit ÷ peer = %s", duration(sk.Sec), storeName(info), duration(st.Sec), ratio(r))
		}
		return t
	}
	r := worst
	t.Workload, t.Peer, t.Ratio = workload, bestPeer, r
	best, _ := set.Get(workload, bestPeer)
	t.Measured = fmt.Sprintf("sessionkit %s vs %s %s: sessionkit ÷ peer = %s (goal ≤ %s)", duration(sk.Sec), storeName(bestPeer), duration(best.Sec), ratio(r), ratio(limit))
	t.Status = Met
	if r > limit {
		t.Status = NotMet
	}
	return t
}

// targetAll is met when sessionkit is faster than every peer that ran.
func targetAll(set Set, name, workload string, peers []string) Target {
	t := Target{Name: name, Workload: workload}
	sk, ok := set.Get(workload, "sessionkit")
	if !ok {
		t.Status, t.Measured = NotMeasured, "sessionkit's benchmark did not run"
		return t
	}
	var parts, missing []string
	t.Status = Met
	for _, p := range peers {
		st, ok := set.Get(workload, p)
		if !ok {
			missing = append(missing, storeName(p))
			continue
		}
		r, _ := set.Ratio(workload, "sessionkit", p)
		if r > t.Ratio || t.Peer == "" {
			t.Peer, t.Ratio = p, r
		}
		parts = append(parts, fmt.Sprintf("vs %s %s: sessionkit ÷ peer = %s", storeName(p), duration(st.Sec), ratio(r)))
		if r >= maxSQLiteResumeVsX {
			t.Status = NotMet
		}
	}
	if len(parts) == 0 {
		t.Status, t.Measured = NotMeasured, "no peer ran"
		return t
	}
	t.Measured = fmt.Sprintf("sessionkit %s; %s", duration(sk.Sec), strings.Join(parts, "; "))
	if len(missing) > 0 {
		t.Measured += "; " + strings.Join(missing, ", ") + " not measured (see the note under the table)"
		if t.Status == Met {
			t.Status = Met + " (against the peers measured)"
		}
	}
	return t
}

// ParseGaps reads the explanations of targets not met: Markdown whose
// "## <workload>" headings (a benchmark base name such as MemoryToolTurn)
// each start the explanation of that workload's target, up to the next
// heading. Text before the first heading is ignored (a preamble for the
// file's readers).
func ParseGaps(text string) map[string]string {
	gaps := map[string]string{}
	cur := ""
	var body []string
	flush := func() {
		if cur != "" {
			gaps[cur] = strings.TrimSpace(strings.Join(body, "\n"))
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if name, ok := strings.CutPrefix(line, "## "); ok {
			flush()
			cur, body = strings.TrimSpace(name), nil
			continue
		}
		body = append(body, line)
	}
	flush()
	return gaps
}

// explain fills the placeholders of a gap explanation with this run's
// numbers for target t: {ratio} (sessionkit's time ÷ the peer's), {peer},
// {sk_time}, {peer_time}, {sk_allocs}, {peer_allocs}, {sk_bytes} and
// {peer_bytes}. The explanation itself says where the time goes (from a
// profile); the numbers are always the ones in the tables above it.
func explain(set Set, t Target, text string) string {
	sk, _ := set.Get(t.Workload, "sessionkit")
	peer, _ := set.Get(t.Workload, t.Peer)
	return strings.NewReplacer(
		"{ratio}", ratio(t.Ratio),
		"{peer}", storeName(t.Peer),
		"{sk_time}", duration(sk.Sec),
		"{peer_time}", duration(peer.Sec),
		"{sk_allocs}", count(sk.Allocs),
		"{peer_allocs}", count(peer.Allocs),
		"{sk_bytes}", bytes(sk.Bytes),
		"{peer_bytes}", bytes(peer.Bytes),
	).Replace(text)
}

// renderGaps writes, for every target not met in this run, its recorded
// explanation (gaps, by workload), or says that none is recorded. Targets
// met get none: whether a paragraph shows depends on the run, not on the
// file.
func renderGaps(p func(string, ...any), set Set, gaps map[string]string) {
	var notMet []Target
	for _, t := range Targets(set) {
		if t.Status == NotMet {
			notMet = append(notMet, t)
		}
	}
	if len(notMet) == 0 {
		return
	}
	p("### Where the remaining gap is\n\n")
	p("For each target not met in this run, where the time goes, from CPU and allocation profiles (`go test -cpuprofile` / `-memprofile` on bench/peers/sessionkit, `go tool pprof -top`). The explanations are kept in bench/peers/GAPS.md; the numbers in them are this run's.\n\n")
	for _, t := range notMet {
		text, ok := gaps[t.Workload]
		if !ok || text == "" {
			text = "No explanation recorded for this workload (bench/peers/GAPS.md)."
		}
		p("**%s** (%s):\n\n%s\n\n", t.Name, ratio(t.Ratio)+" of "+storeName(t.Peer)+"'s time", explain(set, t, text))
	}
}

// Render returns the Peers section of the report.
func Render(set Set, probes []Probe, date, runDesc string, versions map[string]string, gaps map[string]string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Peers: sessionkit vs ADK Go and trpc-agent-go (issue 19)\n\n")
	p("Generated by `make bench-peers` (part of `make bench`): the nested module bench/peers, rendered by bench/peers/cmd/peersreport. Do not edit by hand.\n\n")
	if date != "" {
		p("- **Date:** %s\n", date)
	}
	if runDesc != "" {
		p("- **Run:** %s\n", runDesc)
	}
	if len(versions) > 0 {
		var vs []string
		for _, m := range []string{"google.golang.org/adk/v2", "trpc.group/trpc-go/trpc-agent-go", "github.com/glebarez/sqlite", "modernc.org/sqlite"} {
			if v, ok := versions[m]; ok {
				vs = append(vs, fmt.Sprintf("`%s` %s", m, v))
			}
		}
		p("- **Peers:** %s\n", strings.Join(vs, ", "))
	}
	p("\nSame work for all three stores: sessionkit through `session/manager` (the user's path: `Append`, `SetState` + `EndInvocation`, `manager.New` + `Initialize` + `Messages` to resume) over backend/memory and backend/sqlite; ADK Go's `session.InMemoryService` and `session/database` (GORM on github.com/glebarez/sqlite, the same pure-Go modernc engine); trpc-agent-go's `session/inmemory`. Appends and turns run on sessions seeded with 100 messages and replaced by a freshly seeded one every 100 appends (25 turns), seeding untimed. A tool turn is question, tool call, tool result, answer, and one state update (sessionkit stores no event-loop metrics here, as the peers store none). SQLite files use WAL and synchronous=NORMAL on every side. Times and allocations are medians of the runs; **ratio = peer time ÷ sessionkit time** (the median of the per-run ratios: every run goes through all stores, so a slow spell of the shared machine cancels out), so below 1× the peer is faster.\n\n")

	p("| workload | sessionkit | ADK Go | trpc-agent-go |\n|---|---|---|---|\n")
	for _, w := range workloads {
		_, skOK := set.Get(w.bench, "sessionkit")
		row := []string{w.desc}
		for _, s := range stores {
			st, ok := set.Get(w.bench, s.pkg)
			switch {
			case !ok:
				row = append(row, "not measured")
			case s.pkg == "sessionkit":
				row = append(row, fmt.Sprintf("%s, %s allocs, %s", duration(st.Sec), count(st.Allocs), bytes(st.Bytes)))
			case skOK:
				r, _ := set.Ratio(w.bench, s.pkg, "sessionkit")
				row = append(row, fmt.Sprintf("**%s** (%s, %s allocs)", ratio(r), duration(st.Sec), count(st.Allocs)))
			default:
				row = append(row, fmt.Sprintf("%s, %s allocs", duration(st.Sec), count(st.Allocs)))
			}
		}
		p("| %s |\n", strings.Join(row, " | "))
	}
	if _, ok := set.Get("SQLiteAppend", "trpc"); !ok {
		p("\nNot measured: %s.\n", sqliteTRPCNote)
	}
	p("\n")

	p("### Targets\n\n| target | measured | status |\n|---|---|---|\n")
	for _, t := range Targets(set) {
		p("| %s | %s | **%s** |\n", t.Name, t.Measured, t.Status)
	}
	p("\n")
	renderGaps(p, set, gaps)

	if len(probes) > 0 {
		p("### Aliasing\n\nWhat a caller changes in a message after appending it, or in a message it read back, and whether the stored history changes with it (`TestAliasing` in each package of bench/peers; sessionkit's is an assertion, the peers' a record).\n\n")
		p("| store | backend | mutating an appended message | mutating a message read back |\n|---|---|---|---|\n")
		type key struct{ store, backend string }
		var order []key
		cases := map[key]map[string]string{}
		for _, pr := range probes {
			k := key{pr.Store, pr.Backend}
			if cases[k] == nil {
				cases[k] = map[string]string{}
				order = append(order, k)
			}
			cases[k][pr.Case] = pr.Result
		}
		for _, s := range stores {
			for _, k := range order {
				if k.store == s.pkg {
					p("| %s | %s | %s | %s |\n", s.name, k.backend, aliasing(cases[k]["append"]), aliasing(cases[k]["read"]))
				}
			}
		}
		p("\n")
	}
	return b.String()
}

func aliasing(result string) string {
	switch result {
	case "isolated":
		return "store unchanged"
	case "changes-store":
		return "**changes the stored history**"
	case "":
		return "not probed"
	default:
		return result
	}
}

// Splice replaces the Peers section of report (from its "## Peers" heading
// to the next "## " heading) with section, or appends section when the
// report has none.
func Splice(report, section string) string {
	lines := strings.SplitAfter(report, "\n")
	start, end := -1, len(lines)
	for i, l := range lines {
		if start < 0 && strings.HasPrefix(l, "## Peers") {
			start = i
			continue
		}
		if start >= 0 && strings.HasPrefix(l, "## ") {
			end = i
			break
		}
	}
	if start < 0 {
		if report != "" && !strings.HasSuffix(report, "\n\n") {
			if !strings.HasSuffix(report, "\n") {
				report += "\n"
			}
			report += "\n"
		}
		return report + section
	}
	return strings.Join(lines[:start], "") + section + strings.Join(lines[end:], "")
}

// duration formats seconds with three significant digits.
func duration(sec float64) string {
	switch ns := sec * 1e9; {
	case ns < 1e3:
		return trim(ns) + " ns"
	case ns < 1e6:
		return trim(ns/1e3) + " µs"
	case ns < 1e9:
		return trim(ns/1e6) + " ms"
	default:
		return trim(ns/1e9) + " s"
	}
}

func trim(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func ratio(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	case r >= 0.1:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.3f×", r)
	}
}

func count(v float64) string {
	n := int64(math.Round(v))
	s := fmt.Sprint(n)
	if n < 10000 {
		return s
	}
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}

func bytes(v float64) string {
	switch {
	case v >= 1<<20:
		return trim(v/(1<<20)) + " MiB"
	case v >= 1<<10:
		return trim(v/(1<<10)) + " KiB"
	default:
		return fmt.Sprintf("%.0f B", v)
	}
}
