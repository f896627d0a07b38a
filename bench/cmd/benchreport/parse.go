package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Result is one benchmark line of `go test -bench` output.
type Result struct {
	// Pkg is the import path from the preceding "pkg:" line.
	Pkg string
	// Name is the full benchmark name without the -GOMAXPROCS suffix.
	Name string
	// Func is the benchmark function ("BenchmarkOps").
	Func string
	// Labels are the key=value elements of the name ("backend": "mongo").
	Labels map[string]string
	// Op is the other elements of the name after Func, joined by "/".
	Op string
	// N is the iteration count.
	N int64
	// Metrics maps a unit ("ns/op", "rt/op") to its value.
	Metrics map[string]float64
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// Parse reads `go test -bench` output and returns its benchmark lines in
// order. Lines that are not benchmark results are skipped; a benchmark line
// that does not parse is an error naming its line number.
func Parse(r io.Reader) ([]Result, error) {
	var (
		out []Result
		pkg string
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if p, ok := strings.CutPrefix(text, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if !strings.HasPrefix(text, "Benchmark") {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 2 {
			continue // a benchmark's own log line, or a name printed before its result
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue // "BenchmarkX --- FAIL" and log lines
		}
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("line %d: odd number of value/unit fields: %q", line, text)
		}
		res := Result{Pkg: pkg, Name: procSuffix.ReplaceAllString(f[0], ""), N: n, Metrics: map[string]float64{}, Labels: map[string]string{}}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q: %w", line, f[i], err)
			}
			res.Metrics[f[i+1]] = v
		}
		parts := strings.Split(res.Name, "/")
		res.Func = parts[0]
		var op []string
		for _, p := range parts[1:] {
			if k, v, ok := strings.Cut(p, "="); ok {
				res.Labels[k] = v
			} else {
				op = append(op, p)
			}
		}
		res.Op = strings.Join(op, "/")
		out = append(out, res)
	}
	return out, sc.Err()
}

// Set is the parsed results, with the runs of one benchmark (-count)
// combined by median.
type Set struct {
	runs  map[string][]Result // by Pkg + " " + Name
	order []string
}

// NewSet indexes results.
func NewSet(results []Result) *Set {
	s := &Set{runs: map[string][]Result{}}
	for _, r := range results {
		k := r.Pkg + " " + r.Name
		if _, ok := s.runs[k]; !ok {
			s.order = append(s.order, k)
		}
		s.runs[k] = append(s.runs[k], r)
	}
	return s
}

// Bench is one benchmark with the median of each metric over its runs.
type Bench struct {
	Result
	Runs int
}

// Metric returns the median of unit and whether it was reported.
func (b Bench) Metric(unit string) (float64, bool) {
	v, ok := b.Metrics[unit]
	return v, ok
}

func (s *Set) bench(key string) Bench {
	runs := s.runs[key]
	b := Bench{Result: runs[0], Runs: len(runs)}
	b.Metrics = map[string]float64{}
	units := map[string][]float64{}
	for _, r := range runs {
		for u, v := range r.Metrics {
			units[u] = append(units[u], v)
		}
	}
	for u, vs := range units {
		b.Metrics[u] = median(vs)
	}
	return b
}

// Select returns, in output order, the benchmarks whose package ends with
// pkgSuffix (any package when empty) and whose function is fn.
func (s *Set) Select(pkgSuffix, fn string) []Bench {
	var out []Bench
	for _, k := range s.order {
		r := s.runs[k][0]
		if r.Func == fn && (pkgSuffix == "" || strings.HasSuffix(r.Pkg, pkgSuffix)) {
			out = append(out, s.bench(k))
		}
	}
	return out
}

// Find returns the benchmark of package suffix pkgSuffix named name.
func (s *Set) Find(pkgSuffix, name string) (Bench, bool) {
	for _, k := range s.order {
		r := s.runs[k][0]
		if r.Name == name && strings.HasSuffix(r.Pkg, pkgSuffix) {
			return s.bench(k), true
		}
	}
	return Bench{}, false
}

// All returns every benchmark in output order.
func (s *Set) All() []Bench {
	out := make([]Bench, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.bench(k))
	}
	return out
}

func median(vs []float64) float64 {
	c := append([]float64(nil), vs...)
	sort.Float64s(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}
