// Command peersreport renders the peer benchmark (sessionkit against ADK Go
// and trpc-agent-go, bench/peers) into the "Peers" section of
// bench/REPORT.md: medians of the repeated runs, the ratios peer time ÷
// sessionkit time, allocations beside times, the issue-19 targets marked
// met or not met, for each target not met the explanation recorded in
// GAPS.md (-gaps), and what the aliasing probes observed.
//
// `make bench-peers` runs it after the benchmarks; the rest of REPORT.md
// (written by bench/cmd/benchreport) is left as it is: the Peers section
// replaces the previous one, or is appended when there is none.
//
// Usage:
//
//	peersreport -bench bench.txt -aliasing aliasing.txt -gaps GAPS.md -report ../REPORT.md -run "how it ran"
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peersreport:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("peersreport", flag.ContinueOnError)
	benchFile := fs.String("bench", "", "`go test -bench` output of the peer benchmark (required)")
	aliasingFile := fs.String("aliasing", "", "`go test -v -run TestAliasing` output of the peer module (optional)")
	report := fs.String("report", "../REPORT.md", "Markdown report whose Peers section is replaced (- writes the section to stdout)")
	runDesc := fs.String("run", "", "how the benchmark was run, one line")
	gomod := fs.String("gomod", "go.mod", "bench/peers/go.mod, for the peers' versions")
	gapsFile := fs.String("gaps", "", "Markdown explaining the targets not met, one \"## <workload>\" section each (optional; bench/peers/GAPS.md)")
	date := fs.String("date", time.Now().UTC().Format("2006-01-02 15:04 UTC"), "when the benchmark ran")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *benchFile == "" {
		return errors.New("-bench is required")
	}
	f, err := os.Open(*benchFile)
	if err != nil {
		return err
	}
	set, err := ParseBench(f, *benchFile)
	_ = f.Close()
	if err != nil {
		return err
	}
	var probes []Probe
	if *aliasingFile != "" {
		data, err := os.ReadFile(*aliasingFile)
		if err != nil {
			return err
		}
		probes = ParseAliasing(string(data))
	}
	versions, err := readVersions(*gomod)
	if err != nil {
		return err
	}
	var gaps map[string]string
	if *gapsFile != "" {
		data, err := os.ReadFile(*gapsFile)
		if err != nil {
			return err
		}
		gaps = ParseGaps(string(data))
	}
	section := Render(set, probes, *date, *runDesc, versions, gaps)
	if *report == "-" {
		_, err := os.Stdout.WriteString(section)
		return err
	}
	old, err := os.ReadFile(*report)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.WriteFile(*report, []byte(Splice(string(old), section)), 0o644)
}

var requireLine = regexp.MustCompile(`(?m)^\s*(?:require\s+)?(\S+)\s+(v\S+)`)

// readVersions returns the module versions a go.mod requires.
func readVersions(name string) (map[string]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	vs := map[string]string{}
	for _, m := range requireLine.FindAllStringSubmatch(string(data), -1) {
		vs[m[1]] = m[2]
	}
	return vs, nil
}
