package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sample is `go test -bench -benchmem` output of two runs, trimmed.
const sample = `goos: linux
goarch: amd64
pkg: github.com/sessionkit/sessionkit/bench/peers/adk
cpu: AMD EPYC
BenchmarkMemoryAppend-2     	  101772	      2000 ns/op	    1470 B/op	      18 allocs/op
BenchmarkMemoryResume-2     	   69705	      3000 ns/op	    2296 B/op	      16 allocs/op
BenchmarkSQLiteAppend-2     	     296	    400000 ns/op	  120773 B/op	     500 allocs/op
BenchmarkSQLiteResume-2     	     296	   1000000 ns/op	  120773 B/op	    1989 allocs/op
PASS
ok  	github.com/sessionkit/sessionkit/bench/peers/adk	7.759s
pkg: github.com/sessionkit/sessionkit/bench/peers/sessionkit
BenchmarkMemoryAppend-2     	   74788	      2400 ns/op	    3187 B/op	      41 allocs/op
BenchmarkMemoryAppend-2     	   74788	      9000 ns/op	    3187 B/op	      43 allocs/op
BenchmarkMemoryAppend-2     	   74788	      2600 ns/op	    3187 B/op	      45 allocs/op
BenchmarkMemoryResume-2     	     590	    353547 ns/op	  296512 B/op	    2036 allocs/op
BenchmarkSQLiteAppend-2     	     938	    246581 ns/op	    8468 B/op	     148 allocs/op
BenchmarkSQLiteResume-2     	     458	    500000 ns/op	  118250 B/op	    1396 allocs/op
pkg: github.com/sessionkit/sessionkit/bench/peers/trpc
BenchmarkMemoryAppend-2     	  202068	      3000 ns/op	    2518 B/op	      14 allocs/op
BenchmarkMemoryResume-2     	   10000	    200000 ns/op	   49816 B/op	      12 allocs/op
`

func parseSample(t *testing.T) Set {
	t.Helper()
	set, err := ParseBench(strings.NewReader(sample), "sample")
	require.NoError(t, err)
	return set
}

func TestParseBench_MediansPerStoreAndWorkload(t *testing.T) {
	t.Parallel()
	set := parseSample(t)
	sk, ok := set.Get("MemoryAppend", "sessionkit")
	require.True(t, ok)
	assert.Equal(t, 3, sk.Runs)
	assert.InDelta(t, 2600e-9, sk.Sec, 1e-12, "median, not mean: the 9000 ns outlier is ignored")
	assert.InDelta(t, 43, sk.Allocs, 1e-9)
	adk, ok := set.Get("MemoryAppend", "adk")
	require.True(t, ok)
	assert.InDelta(t, 2000e-9, adk.Sec, 1e-12)
	_, ok = set.Get("SQLiteAppend", "trpc")
	assert.False(t, ok)
}

func TestParseBench_Errors(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"no results":   "goos: linux\nPASS\n",
		"syntax error": "pkg: x/adk\nBenchmarkX-2 12 notanumber ns/op\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseBench(strings.NewReader(in), "in")
			assert.Error(t, err)
		})
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	got := map[string]Target{}
	for _, tg := range Targets(parseSample(t)) {
		got[tg.Name] = tg
	}
	tests := []struct{ prefix, status, measured string }{
		// 353.5 µs ÷ 200 µs = 1.77 ≤ 2.
		{"memory resume", Met, "1.77×"},
		// 2.6 µs ÷ min(2.0, 3.0) µs = 1.30 > 1.25.
		{"memory append", NotMet, "1.30×"},
		// No tool-turn benchmark ran at all.
		{"memory tool turn", NotMeasured, ""},
		// No trpc SQLite: not measured, ADK shown for reference.
		{"SQLite append", NotMeasured, "ADK Go 400 µs: sessionkit ÷ peer = 0.62×"},
		// 500 µs ÷ 1 ms against ADK, trpc missing.
		{"SQLite resume", Met + " (against the peers measured)", "0.50×"},
	}
	for _, tt := range tests {
		var found *Target
		for name, tg := range got {
			if strings.HasPrefix(name, tt.prefix) {
				found = &tg
			}
		}
		require.NotNil(t, found, tt.prefix)
		assert.Equal(t, tt.status, found.Status, tt.prefix)
		assert.Contains(t, found.Measured, tt.measured, tt.prefix)
	}
}

func TestTargets_ResumeSlowerThanAPeerIsNotMet(t *testing.T) {
	t.Parallel()
	set := Set{"SQLiteResume": {
		"sessionkit": {Sec: 2e-3, Runs: 1},
		"adk":        {Sec: 1e-3, Runs: 1},
		"trpc":       {Sec: 4e-3, Runs: 1},
	}}
	for _, tg := range Targets(set) {
		if strings.HasPrefix(tg.Name, "SQLite resume") {
			assert.Equal(t, NotMet, tg.Status)
			return
		}
	}
	t.Fatal("no SQLite resume target")
}

func TestParseAliasing(t *testing.T) {
	t.Parallel()
	out := "=== RUN   TestAliasing\n    aliasing_test.go:28: aliasing: store=trpc backend=memory case=append result=changes-store\n" +
		"    aliasing_test.go:37: aliasing: store=trpc backend=memory case=read result=isolated\n--- PASS: TestAliasing (0.00s)\n"
	assert.Equal(t, []Probe{
		{Store: "trpc", Backend: "memory", Case: "append", Result: "changes-store"},
		{Store: "trpc", Backend: "memory", Case: "read", Result: "isolated"},
	}, ParseAliasing(out))
}

func TestRender(t *testing.T) {
	t.Parallel()
	probes := []Probe{{"adk", "memory", "append", "changes-store"}, {"adk", "memory", "read", "isolated"}}
	out := Render(parseSample(t), probes, "2026-11-26 17:00 UTC", "how", map[string]string{"google.golang.org/adk/v2": "v2.2.0"}, nil)
	assert.True(t, strings.HasPrefix(out, "## Peers"))
	// sessionkit 2.6 µs, ADK 2.0 µs: ratio peer ÷ sessionkit = 0.77×.
	assert.Contains(t, out, "| memory: append through the manager / service (history 100) | 2.60 µs, 43 allocs, 3.11 KiB | **0.77×** (2.00 µs, 18 allocs) | **1.15×** (3.00 µs, 14 allocs) |")
	assert.Contains(t, out, "| SQLite: append (history 100) | 247 µs, 148 allocs, 8.27 KiB | **1.62×** (400 µs, 500 allocs) | not measured |")
	assert.Contains(t, out, "| ADK Go | memory | **changes the stored history** | store unchanged |")
	assert.Contains(t, out, "`google.golang.org/adk/v2` v2.2.0")
	assert.Contains(t, out, "Not measured: trpc-agent-go's SQLite store")
}

func TestSplice(t *testing.T) {
	t.Parallel()
	section := "## Peers: new\n\nnew body\n\n"
	tests := map[string]struct{ in, want string }{
		"empty report":   {"", section},
		"appended":       {"# R\n\n## 1. Ops\n\nbody\n", "# R\n\n## 1. Ops\n\nbody\n\n" + section},
		"replaced, last": {"# R\n\n## Peers: old\n\nold\n", "# R\n\n" + section},
		"replaced, middle": {
			"# R\n\n## Peers: old\n\nold\n\n## 7. Later\n\nlater\n",
			"# R\n\n" + section + "## 7. Later\n\nlater\n",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Splice(tt.in, section))
		})
	}
}

func TestRun_SplicesIntoReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	benchFile := filepath.Join(dir, "bench.txt")
	report := filepath.Join(dir, "REPORT.md")
	gomod := filepath.Join(dir, "go.mod")
	require.NoError(t, os.WriteFile(benchFile, []byte(sample), 0o600))
	require.NoError(t, os.WriteFile(report, []byte("# sessionkit benchmark report\n\n## 1. Per operation\n\nrows\n"), 0o600))
	require.NoError(t, os.WriteFile(gomod, []byte("module x\n\nrequire (\n\tgoogle.golang.org/adk/v2 v2.2.0\n\ttrpc.group/trpc-go/trpc-agent-go v1.11.2\n)\n"), 0o600))
	require.NoError(t, run([]string{"-bench", benchFile, "-report", report, "-gomod", gomod, "-date", "d"}))
	require.NoError(t, run([]string{"-bench", benchFile, "-report", report, "-gomod", gomod, "-date", "d"}))
	data, err := os.ReadFile(report)
	require.NoError(t, err)
	out := string(data)
	assert.True(t, strings.HasPrefix(out, "# sessionkit benchmark report\n\n## 1. Per operation\n\nrows\n\n## Peers"), out)
	assert.Equal(t, 1, strings.Count(out, "## Peers"), "a second run replaces the section")
	assert.Contains(t, out, "`trpc.group/trpc-go/trpc-agent-go` v1.11.2")
}

func TestSetRatio_MedianOfPerRunRatios(t *testing.T) {
	t.Parallel()
	set := Set{"W": {
		"a": {Sec: 3, Secs: []float64{1, 10, 3}},
		"b": {Sec: 5, Secs: []float64{2, 5, 6}},
		"c": {Sec: 4, Secs: []float64{4}},
	}}
	r, ok := set.Ratio("W", "a", "b")
	require.True(t, ok)
	assert.InDelta(t, 0.5, r, 1e-9, "per-run ratios 0.5, 2, 0.5; the ratio of the medians would be 0.6")
	r, ok = set.Ratio("W", "a", "c")
	require.True(t, ok)
	assert.InDelta(t, 0.75, r, 1e-9, "run counts differ: ratio of the medians")
	_, ok = set.Ratio("W", "a", "missing")
	assert.False(t, ok)
}

func TestParseGaps(t *testing.T) {
	t.Parallel()
	in := "# Gaps\n\npreamble, ignored\n\n## MemoryAppend\n\nfirst line\nsecond line\n\n## MemoryResume\nresume text\n"
	assert.Equal(t, map[string]string{
		"MemoryAppend": "first line\nsecond line",
		"MemoryResume": "resume text",
	}, ParseGaps(in))
}

// Only targets not met in the run get a paragraph, with this run's
// numbers in the placeholders; one not met without a recorded explanation
// says so.
func TestRender_GapsForTargetsNotMet(t *testing.T) {
	t.Parallel()
	gaps := map[string]string{
		// sample: sessionkit 2.6 µs / 43 allocs, ADK 2.0 µs / 18 allocs, trpc 3.0 µs.
		"MemoryAppend": "{ratio} of {peer}: {sk_time} and {sk_allocs} allocs vs {peer_time} and {peer_allocs}.",
		"SQLiteResume": "never shown: the sample meets this target",
	}
	out := Render(parseSample(t), nil, "d", "how", nil, gaps)
	assert.Contains(t, out, "### Where the remaining gap is")
	assert.Contains(t, out, "1.30× of ADK Go: 2.60 µs and 43 allocs vs 2.00 µs and 18.")
	assert.NotContains(t, out, "never shown")
	// Memory resume (sessionkit 354 µs vs trpc 200 µs = 1.77×) is met;
	// nothing else is not met in the sample but the append.
	assert.Equal(t, 1, strings.Count(out, "of ADK Go's time")+strings.Count(out, "of trpc-agent-go's time"))

	noText := Render(parseSample(t), nil, "d", "how", nil, nil)
	assert.Contains(t, noText, "No explanation recorded for this workload")

	met := parseSample(t)
	sk := met["MemoryAppend"]["sessionkit"]
	sk.Sec, sk.Secs = 1e-9, nil
	met["MemoryAppend"]["sessionkit"] = sk
	assert.NotContains(t, Render(met, nil, "d", "how", nil, gaps), "### Where the remaining gap is", "every target met: no gap section")
}
