package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/sessionkit/sessionkit/backend/memory
cpu: AMD EPYC
BenchmarkOps/backend=memory/append-2         	  100000	     9710 ns/op	    1192 B/op	      16 allocs/op
BenchmarkAppend_Memory-2                     	 1000000	      300 ns/op	    1032 B/op	      14 allocs/op
BenchmarkAppend_Memory-2                     	 1000000	      500 ns/op	    1032 B/op	      14 allocs/op
BenchmarkAppend_Memory-2                     	 1000000	      400 ns/op	    1032 B/op	      14 allocs/op
BenchmarkAppend_BareMap-2                    	 1000000	      200 ns/op	     496 B/op	       5 allocs/op
BenchmarkHeap/backend=memory/sessions=1000-2 	       1	 210070162 ns/op	      9107 heap-B/session	         8.685 heap-MB/1000-sessions
PASS
ok  	github.com/sessionkit/sessionkit/backend/memory	0.479s
pkg: github.com/sessionkit/sessionkit/internal/mongotest
BenchmarkOps/server=ferretdb/backend=mongo/append-2   	      20	  15927368 ns/op	        39.00 B-recv/op	       924.5 B-sent/op	         1.000 rt/op
BenchmarkOps/server=ferretdb/backend=mongo/update-agent-2   	      20	  60556960 ns/op	       230.3 B-recv/op	       748.0 B-sent/op	         2.000 rt/op
BenchmarkTurns/server=ferretdb/backend=mongo/sessions=1/workers=1-2 	      20	 252293218 ns/op	      1235 B-recv/op	      6383 B-sent/op	         6.000 calls/op	         8.000 rt/op	         3.964 turns/s
BenchmarkTurns/server=javaserver/backend=mongo/sessions=1/workers=1-2 	      20	 104461688 ns/op	      234 B-recv/op	      5852 B-sent/op	         6.000 calls/op	         6.000 rt/op	         9.573 turns/s
BenchmarkGrowth/server=javaserver/backend=mongo/history=100/list-last-20-2   	       5	   5215185 ns/op	     10966 B-recv/op	       229.0 B-sent/op	         1.000 rt/op
BenchmarkGrowth/server=javaserver/backend=mongo/history=10000/list-last-20-2   	       5	   5215185 ns/op	     11020 B-recv/op	       229.0 B-sent/op	         1.000 rt/op
BenchmarkGrowth/server=javaserver/backend=mongo/history=10000/append-2   	       5	   5215185 ns/op	     39 B-recv/op	       900 B-sent/op	         1.000 rt/op
BenchmarkGrowth/server=ferretdb/backend=mongo/history=100/list-last-20-2   	       5	   5215185 ns/op	     54128 B-recv/op	       229.0 B-sent/op	         1.000 rt/op
BenchmarkGrowth/server=ferretdb/backend=mongo/history=10000/list-last-20-2   	       5	   5215185 ns/op	     5412800 B-recv/op	       229.0 B-sent/op	         1.000 rt/op
pkg: github.com/sessionkit/sessionkit/backend/rediscache
BenchmarkHit/redis-server/messages=20/raw_get-2         	   10000	     40000 ns/op	      2803 entry-B
BenchmarkHit/redis-server/messages=20/cache_hit-2       	   10000	     50000 ns/op	      2803 entry-B
BenchmarkHit/redis-server/messages=20/backend-2         	   10000	      5000 ns/op	      2803 entry-B
pkg: github.com/sessionkit/sessionkit/hooks
BenchmarkStoragePath/backend=memory/hooks=false-2   	   50000	     10000 ns/op	    2000 B/op	      30 allocs/op
BenchmarkStoragePath/backend=memory/hooks=true-2    	   50000	     14000 ns/op	    2600 B/op	      40 allocs/op
BenchmarkStoragePath/backend=sqlite/hooks=false-2   	    1000	    200000 ns/op	    9000 B/op	     100 allocs/op
BenchmarkStoragePath/backend=sqlite/hooks=true-2    	    1000	    204000 ns/op	    9600 B/op	     110 allocs/op
`

func TestParse_ReadsNamesLabelsAndMetrics(t *testing.T) {
	t.Parallel()
	rs, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, rs, 22)
	r := rs[0]
	assert.Equal(t, "github.com/sessionkit/sessionkit/backend/memory", r.Pkg)
	assert.Equal(t, "BenchmarkOps/backend=memory/append", r.Name, "GOMAXPROCS suffix dropped")
	assert.Equal(t, "BenchmarkOps", r.Func)
	assert.Equal(t, map[string]string{"backend": "memory"}, r.Labels)
	assert.Equal(t, "append", r.Op)
	assert.Equal(t, int64(100000), r.N)
	assert.Equal(t, map[string]float64{"ns/op": 9710, "B/op": 1192, "allocs/op": 16}, r.Metrics)

	turn := rs[8]
	assert.Equal(t, map[string]string{"server": "ferretdb", "backend": "mongo", "sessions": "1", "workers": "1"}, turn.Labels)
	assert.InDelta(t, 3.964, turn.Metrics["turns/s"], 1e-9)
}

func TestParse_RejectsMalformedBenchmarkLine(t *testing.T) {
	t.Parallel()
	_, err := Parse(strings.NewReader("BenchmarkX-2 10 100 ns/op 5\n"))
	require.ErrorContains(t, err, "line 1")
	_, err = Parse(strings.NewReader("BenchmarkX-2 10 abc ns/op\n"))
	require.ErrorContains(t, err, "abc")
	rs, err := Parse(strings.NewReader("BenchmarkX\n--- FAIL: BenchmarkX\nBenchmarkY    some log line\n"))
	require.NoError(t, err, "names and log lines without results are skipped")
	assert.Empty(t, rs)
}

func TestSet_MedianOfRuns(t *testing.T) {
	t.Parallel()
	rs, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	b, ok := NewSet(rs).Find("backend/memory", "BenchmarkAppend_Memory")
	require.True(t, ok)
	assert.Equal(t, 3, b.Runs)
	v, _ := b.Metric("ns/op")
	assert.Equal(t, 400.0, v)
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
}

func targetsOf(t *testing.T, out string) map[string]Target {
	t.Helper()
	rs, err := Parse(strings.NewReader(out))
	require.NoError(t, err)
	rep := &Report{Set: NewSet(rs)}
	m := map[string]Target{}
	for _, tg := range rep.Targets() {
		m[tg.Name] = tg
	}
	require.Len(t, m, 6)
	return m
}

func TestTargets_JudgeMeasuredValues(t *testing.T) {
	t.Parallel()
	m := targetsOf(t, sample)
	tests := []struct {
		target, status string
		measured       []string
	}{
		{"round trips per appended message (MongoDB)", Pass, []string{"FerretDB: ops: 1", "mongo-java-server: history 10000: 1"}},
		{"round trips per four-message tool-using turn, syncs included (MongoDB)", Gap, []string{"FerretDB, 1 sessions: 8 rt", "mongo-java-server, 1 sessions: 6 rt", "update-agent 2 rt"}},
		{"list-last-20 bytes independent of history length (server with $slice)", Pass, []string{"mongo-java-server 100: 10966 B, 10000: 11020 B (1×)", "not judged"}},
		{"cache hit vs raw go-redis GET of the same bytes", Pass, []string{"50 µs vs 40 µs = 1.25×"}},
		{"memory-backend append vs bare mutex-guarded map append", Pass, []string{"400 ns vs 200 ns = 2×"}},
		{"storage path with hooks attached, endpoint down, vs without", Pass, []string{"StoragePath over sqlite: 204 µs vs 200 µs = 1.02×", "StoragePath over memory: 14 µs vs 10 µs = 1.4×"}},
	}
	for _, tc := range tests {
		tg, ok := m[tc.target]
		require.True(t, ok, tc.target)
		assert.Equal(t, tc.status, tg.Status, "%s: %s", tc.target, tg.Measured)
		for _, want := range tc.measured {
			assert.Contains(t, tg.Measured, want, tc.target)
		}
	}
}

func TestTargets_GapsAndMissingMeasurements(t *testing.T) {
	t.Parallel()
	out := `pkg: github.com/sessionkit/sessionkit/backend/memory
BenchmarkAppend_Memory-2   1000  1000 ns/op
BenchmarkAppend_BareMap-2  1000   100 ns/op
pkg: github.com/sessionkit/sessionkit/internal/mongotest
BenchmarkOps/server=javaserver/backend=mongo/append-2   20  1 ns/op  2.000 rt/op
BenchmarkGrowth/server=javaserver/backend=mongo/history=100/list-last-20-2   5  1 ns/op  10000 B-recv/op
BenchmarkGrowth/server=javaserver/backend=mongo/history=10000/list-last-20-2   5  1 ns/op  900000 B-recv/op
pkg: github.com/sessionkit/sessionkit/backend/rediscache
BenchmarkHit/miniredis/messages=20/raw_get-2    10  100 ns/op  10 entry-B
BenchmarkHit/miniredis/messages=20/cache_hit-2  10  200 ns/op  11 entry-B
pkg: github.com/sessionkit/sessionkit/hooks
BenchmarkStoragePath/backend=sqlite/hooks=false-2  10  100 ns/op
BenchmarkStoragePath/backend=sqlite/hooks=true-2   10  120 ns/op
`
	m := targetsOf(t, out)
	for name, want := range map[string]string{
		"round trips per appended message (MongoDB)":                             Gap,
		"round trips per four-message tool-using turn, syncs included (MongoDB)": None,
		"list-last-20 bytes independent of history length (server with $slice)":  Gap,
		"cache hit vs raw go-redis GET of the same bytes":                        Gap,
		"memory-backend append vs bare mutex-guarded map append":                 Gap,
		"storage path with hooks attached, endpoint down, vs without":            Gap,
	} {
		assert.Equal(t, want, m[name].Status, "%s: %s", name, m[name].Measured)
	}
	assert.Contains(t, m["memory-backend append vs bare mutex-guarded map append"].Measured, "10×")

	m = targetsOf(t, "pkg: x\nBenchmarkOther-2 1 1 ns/op\n")
	for name, tg := range m {
		assert.Equal(t, None, tg.Status, name)
	}
}

func TestReport_WritesEverySection(t *testing.T) {
	t.Parallel()
	rs, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	dir := t.TempDir()
	cpu := filepath.Join(dir, "cpuinfo")
	mem := filepath.Join(dir, "meminfo")
	require.NoError(t, os.WriteFile(cpu, []byte("processor\t: 0\nmodel name\t: Test CPU\nprocessor\t: 1\nmodel name\t: Test CPU\n"), 0o644))
	require.NoError(t, os.WriteFile(mem, []byte("MemTotal:       25165824 kB\n"), 0o644))
	rep := &Report{Machine: ReadMachine(cpu, mem, "go1.26.8"), Commit: "abc123", Runs: []string{"root: -benchtime=200ms"}, Set: NewSet(rs)}
	var buf bytes.Buffer
	require.NoError(t, rep.Write(&buf))
	md := buf.String()
	for _, want := range []string{
		"Test CPU, 2 cores, 24.0 GiB RAM", "go1.26.8", "abc123", "root: -benchtime=200ms",
		"## Targets", "## 1. Per operation and backend", "### memory", "| append | 9.71 µs | 16 | 1192 |",
		"## 2. Against the floor", "| **2×** |", "## 3. Growth", "### mongo on mongo-java-server",
		"## 4. A Strands turn", "| mongo on FerretDB | 1 | 1 | 3.96 |", "## 5. Memory", "8.69 MB per 1,000 sessions",
		"## 6. Other benchmarks", "| hooks | StoragePath/backend=sqlite/hooks=true | 204 µs |", "| backend/rediscache | Hit/redis-server/messages=20/backend | 5 µs |",
	} {
		assert.Contains(t, md, want)
	}
}

func TestRun_WritesFileAndRejectsEmptyInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "out.txt")
	require.NoError(t, os.WriteFile(in, []byte(sample), 0o644))
	out := filepath.Join(dir, "REPORT.md")
	require.NoError(t, run([]string{"-out", out, "-go", "go1.26.8", in}))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(b), "# sessionkit benchmark report")

	empty := filepath.Join(dir, "empty.txt")
	require.NoError(t, os.WriteFile(empty, []byte("PASS\n"), 0o644))
	require.ErrorContains(t, run([]string{"-out", out, empty}), "no benchmark results")
	require.ErrorContains(t, run([]string{"-out", out}), "no benchmark output")
}

func TestDuration_Units(t *testing.T) {
	t.Parallel()
	for ns, want := range map[float64]string{12: "12 ns", 1500: "1.5 µs", 2_340_000: "2.34 ms", 1.2e9: "1.2 s"} {
		assert.Equal(t, want, duration(ns))
	}
}
