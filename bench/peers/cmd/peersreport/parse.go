package main

import (
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Stat is one benchmark of one store: the medians of its repeated runs.
type Stat struct {
	// Sec, Allocs and Bytes are per operation.
	Sec, Allocs, Bytes float64
	// Runs is how many runs the medians are taken over.
	Runs int
	// Secs are the times per operation of each run, in run order.
	Secs []float64
}

// Set holds the benchmark results by workload (the benchmark's base name,
// "MemoryAppend") and store (the last element of its package path,
// "sessionkit", "adk", "trpc").
type Set map[string]map[string]Stat

// Get returns the stat of workload on store.
func (s Set) Get(workload, store string) (Stat, bool) {
	st, ok := s[workload][store]
	return st, ok
}

// Ratio returns a's time ÷ b's time on workload. When both ran the same
// number of times it is the median of the per-run ratios: run k of every
// store ran in the same pass (make bench-peers interleaves the stores), so
// a slow spell of the shared machine cancels out of each ratio. Otherwise
// it is the ratio of the medians.
func (s Set) Ratio(workload, a, b string) (float64, bool) {
	sa, okA := s.Get(workload, a)
	sb, okB := s.Get(workload, b)
	if !okA || !okB {
		return 0, false
	}
	if len(sa.Secs) != len(sb.Secs) || len(sa.Secs) == 0 {
		return sa.Sec / sb.Sec, true
	}
	rs := make([]float64, len(sa.Secs))
	for i := range rs {
		rs[i] = sa.Secs[i] / sb.Secs[i]
	}
	return median(rs), true
}

// ParseBench reads `go test -bench -benchmem` output (any number of runs
// of each benchmark, in any order) and returns the medians.
func ParseBench(r io.Reader, name string) (Set, error) {
	type runs struct{ sec, allocs, bytes []float64 }
	all := map[string]map[string]*runs{}
	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			store := path.Base(rec.GetConfig("pkg"))
			workload := strings.TrimPrefix(string(rec.Name.Base()), "Benchmark")
			sec, ok := rec.Value("sec/op")
			if !ok {
				return nil, fmt.Errorf("%s: %s has no time per op", name, rec.Name)
			}
			if all[workload] == nil {
				all[workload] = map[string]*runs{}
			}
			rs := all[workload][store]
			if rs == nil {
				rs = &runs{}
				all[workload][store] = rs
			}
			rs.sec = append(rs.sec, sec)
			if v, ok := rec.Value("allocs/op"); ok {
				rs.allocs = append(rs.allocs, v)
			}
			if v, ok := rec.Value("B/op"); ok {
				rs.bytes = append(rs.bytes, v)
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", name)
	}
	set := Set{}
	for w, stores := range all {
		set[w] = map[string]Stat{}
		for st, rs := range stores {
			set[w][st] = Stat{Sec: median(rs.sec), Allocs: median(rs.allocs), Bytes: median(rs.bytes), Runs: len(rs.sec), Secs: rs.sec}
		}
	}
	return set, nil
}

// median of vs; NaN-free, 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	c := slices.Clone(vs)
	slices.Sort(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

// Probe is what one aliasing probe observed.
type Probe struct {
	Store, Backend, Case, Result string
}

var probeLine = regexp.MustCompile(`aliasing: store=(\S+) backend=(\S+) case=(\S+) result=(\S+)`)

// ParseAliasing extracts the "aliasing:" log lines the peer module's
// TestAliasing tests print with -v.
func ParseAliasing(out string) []Probe {
	var ps []Probe
	for _, m := range probeLine.FindAllStringSubmatch(out, -1) {
		ps = append(ps, Probe{Store: m[1], Backend: m[2], Case: m[3], Result: m[4]})
	}
	return ps
}
