package soak

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// WriteSummary prints the run's figures and the checker's verdict to w in
// a few aligned lines: what a person reads after "sessionkit soak".
func WriteSummary(w io.Writer, res *Result, rep *Report) {
	c, s := res.Config, res.Stats
	fmt.Fprintf(w, "soak run %s: %d agents x %d sessions x %d ops (%d writers per log), op deadline %s\n",
		c.RunID, c.Agents, c.Sessions, c.Ops, c.SharedLogs, c.OpTimeout)
	fmt.Fprintf(w, "  elapsed      %s\n", s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  calls        %d (%s)\n", s.Ops, counts(s.ByOp))
	fmt.Fprintf(w, "  acks         %d\n", s.Acks)
	fmt.Fprintf(w, "  errors       %d (%s)\n", s.Ops-s.Acks, counts(s.Errors))
	fmt.Fprintf(w, "  latency      p50 %s  p99 %s  max %s\n", round(s.P50), round(s.P99), round(s.Max))
	fmt.Fprintf(w, "  overruns     %d (calls returning later than deadline + %s)\n", s.Overruns, c.Slack)
	fmt.Fprintf(w, "  panics       %d\n", s.Panics)
	fmt.Fprintf(w, "  unexpected   %d\n", s.Unexpected)
	for _, f := range res.Faults {
		state := "not reached"
		if f.Fired {
			state = fmt.Sprintf("at %.0f%% for %s", 100*f.Progress, f.Held.Round(time.Millisecond))
			if f.InjectErr != nil || f.RecoverErr != nil {
				state += fmt.Sprintf(" (inject: %v, recover: %v)", f.InjectErr, f.RecoverErr)
			}
		}
		fmt.Fprintf(w, "  fault        %s: %s\n", f.Name, state)
	}
	if rep == nil {
		return
	}
	fmt.Fprintf(w, "  checked      %d acknowledged messages (%d stored), %d metadata writes, %d feedback; %d unknown outcomes (%d applied once)\n",
		rep.Messages, rep.Stored, rep.Metadata, rep.Feedback, rep.Unknown, rep.UnknownApplied)
	fmt.Fprintf(w, "  messages lost = %d, duplicates = %d, out of order = %d, id gaps = %d, metadata missing = %d, stale = %d, foreign = %d\n",
		rep.Lost, rep.Duplicates, rep.OutOfOrder, rep.IDGaps, rep.MetadataMissing, rep.MetadataStale, rep.Foreign)
	if rep.Violations() == 0 && s.Overruns == 0 && s.Panics == 0 && s.Unexpected == 0 {
		fmt.Fprintln(w, "  verdict      OK")
	} else {
		fmt.Fprintln(w, "  verdict      FAILED")
	}
}

// Healthy reports whether a run and its check broke nothing: no violation,
// overrun, panic or unexpected error, and every fault fired and recovered.
func Healthy(res *Result, rep *Report) error {
	var errs []string
	if rep != nil {
		if err := rep.Err(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	s := res.Stats
	if s.Overruns > 0 {
		errs = append(errs, fmt.Sprintf("%d calls overran their deadline: %s", s.Overruns, strings.Join(s.OverrunSamples, "; ")))
	}
	if s.Panics > 0 {
		errs = append(errs, fmt.Sprintf("%d panics: %s", s.Panics, strings.Join(s.PanicSamples, "; ")))
	}
	if s.Unexpected > 0 {
		errs = append(errs, fmt.Sprintf("%d unexpected errors: %s", s.Unexpected, strings.Join(s.UnexpectedSamples, "; ")))
	}
	for _, f := range res.Faults {
		switch {
		case !f.Fired:
			errs = append(errs, fmt.Sprintf("fault %q never fired", f.Name))
		case f.InjectErr != nil || f.RecoverErr != nil:
			errs = append(errs, fmt.Sprintf("fault %q: inject: %v, recover: %v", f.Name, f.InjectErr, f.RecoverErr))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("soak run %s unhealthy:\n%s", res.Config.RunID, strings.Join(errs, "\n"))
}

func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
