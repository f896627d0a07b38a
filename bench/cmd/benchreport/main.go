// Command benchreport turns `go test -bench` output into bench/REPORT.md:
// the machine, the targets with PASS/GAP, and one section per kind of
// measurement (per operation, against the floor, growth, Strands turns,
// memory). scripts/bench-report.sh runs it; see internal/benchsuite for
// the workloads and the custom metrics they report.
//
// Usage:
//
//	benchreport -out bench/REPORT.md -go "$(go version)" -commit "$(git rev-parse --short HEAD)" \
//	    -run "root: -benchtime=200ms" bench-output.txt...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// runsFlag collects repeated -run values.
type runsFlag []string

func (r *runsFlag) String() string     { return strings.Join(*r, "; ") }
func (r *runsFlag) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	out := fs.String("out", "bench/REPORT.md", "Markdown file to write (- for stdout)")
	goVersion := fs.String("go", "", "Go toolchain that ran the benchmarks (go version)")
	commit := fs.String("commit", "", "commit the benchmarks ran on")
	date := fs.String("date", time.Now().UTC().Format("2006-01-02 15:04 UTC"), "when the benchmarks ran (to re-render an older run)")
	cpuinfo := fs.String("cpuinfo", "/proc/cpuinfo", "CPU description file")
	meminfo := fs.String("meminfo", "/proc/meminfo", "memory description file")
	var runs runsFlag
	fs.Var(&runs, "run", "how a group of benchmarks was run (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("no benchmark output files given")
	}
	var results []Result
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		rs, err := Parse(f)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, rs...)
	}
	if len(results) == 0 {
		return fmt.Errorf("no benchmark results in %s", strings.Join(fs.Args(), ", "))
	}
	rep := &Report{
		Machine: ReadMachine(*cpuinfo, *meminfo, *goVersion),
		Date:    *date,
		Commit:  *commit,
		Runs:    runs,
		Set:     NewSet(results),
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf); err != nil {
		return err
	}
	if *out == "-" {
		_, err := os.Stdout.Write(buf.Bytes())
		return err
	}
	return os.WriteFile(*out, buf.Bytes(), 0o644)
}
