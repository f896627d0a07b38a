package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

func runPrune(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("prune", "Delete the sessions of one application that nobody has written to for --older-than\n"+
		"(by their last write, UpdatedAt), with everything they own, in batches. Run with --dry-run\n"+
		"first to see how many match. Interrupting is safe (each session is deleted whole or not at\n"+
		"all) and a rerun finishes the job; sessions that do not match are never touched. Pruning\n"+
		"every application, or sessions of any age, needs an explicit --all.", std.err)
	var bf backendFlags
	var lf logFlags
	bf.register(fs, "", "backend")
	lf.register(fs)
	app := fs.String("application", "", "the application whose sessions to prune (empty: every application, with --all)")
	olderThan := fs.String("older-than", "", `how long a session must have gone unwritten, e.g. "30d", "12h"`)
	dryRun := fs.Bool("dry-run", false, "count the matching sessions, delete nothing")
	all := fs.Bool("all", false, "confirm a filter over every application, or (without --older-than) over every age")
	batch := fs.Int("batch", session.DefaultPruneBatch, "sessions listed per batch")
	showProgress := fs.Bool("progress", false, "show the progress bar on stderr even when it is not a terminal")
	if err := parse(fs, args); err != nil {
		return err
	}
	var age time.Duration
	if *olderThan != "" {
		d, err := session.ParseDuration(*olderThan)
		if err != nil {
			return fmt.Errorf("%w: --older-than: %v", errUsage, err)
		}
		age = d
	}
	now := time.Now().UTC()
	opts := session.PruneOptions{ApplicationName: *app, OlderThan: age, All: *all, Batch: *batch, DryRun: true,
		Now: func() time.Time { return now }}
	// The filter is checked before the backend is opened.
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("%w: %s", errUsage, flagNames(err))
	}
	log, err := lf.logger(std.err)
	if err != nil {
		return err
	}
	repo, _, err := bf.open(ctx, log)
	if err != nil {
		return err
	}
	defer repo.Close()
	bar := &progressBar{w: std.err, on: *showProgress || isTerminal(std.err)}
	what := pruneFilter(*app, age, *all)

	// Pass 1 counts, so that pass 2 can show a bar; both use one cutoff.
	bar.total = -1
	opts.Progress = func(p session.PruneProgress) { bar.show("scanning", p.Matched) }
	counted, err := session.Prune(ctx, repo, opts)
	bar.done()
	if err != nil {
		return err
	}
	if *dryRun || counted.Matched == 0 {
		fmt.Fprintf(std.out, "%d sessions match %s%s; scanned %d; nothing deleted%s\n",
			counted.Matched, what, before(counted.Cutoff), counted.Scanned, map[bool]string{true: " (dry run)"}[*dryRun])
		return nil
	}
	opts.DryRun = false
	bar.total = counted.Matched
	opts.Progress = func(p session.PruneProgress) { bar.show("pruning", p.Deleted) }
	res, err := session.Prune(ctx, repo, opts)
	bar.done()
	fmt.Fprintf(std.out, "deleted %d of %d sessions matching %s%s; scanned %d, already gone %d, written to since and kept %d\n",
		res.Deleted, counted.Matched, what, before(res.Cutoff), res.Scanned, res.Gone, res.Skipped)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted after %d deletions; run the same command again to finish: %w", res.Deleted, err)
		}
		return err
	}
	return nil
}

// before describes the cutoff for the summary ("" for any age).
func before(cutoff time.Time) string {
	if cutoff.IsZero() {
		return ""
	}
	return " (last written before " + cutoff.Format(time.RFC3339) + ")"
}

// pruneFilter describes the filter for the summary.
func pruneFilter(app string, age time.Duration, all bool) string {
	var parts []string
	if app != "" {
		parts = append(parts, fmt.Sprintf("application %q", app))
	} else if all {
		parts = append(parts, "every application")
	}
	if age > 0 {
		parts = append(parts, "unwritten for "+age.String())
	} else {
		parts = append(parts, "of any age")
	}
	return strings.Join(parts, ", ")
}

// flagNames rewrites Prune's field names as the command's flags.
func flagNames(err error) string {
	var fe *session.FieldError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	flag := map[string]string{"all": "--all", "older_than": "--older-than", "batch": "--batch",
		"application_name": "--application"}[fe.Field]
	if flag == "" {
		return err.Error()
	}
	return flag + ": " + fe.Reason
}

// progressBar draws "label [#####.....] n/total" on stderr, redrawn in
// place, when stderr is a terminal or --progress is given; otherwise the
// summary line says it all.
type progressBar struct {
	w     io.Writer
	on    bool
	total int // -1: unknown, a counter instead of a bar
	drawn bool
}

const barWidth = 30

func (b *progressBar) show(label string, n int) {
	if !b.on {
		return
	}
	b.drawn = true
	if b.total < 0 {
		fmt.Fprintf(b.w, "\r%s: %d matching", label, n)
		return
	}
	filled := barWidth
	if b.total > 0 {
		filled = min(barWidth, n*barWidth/b.total)
	}
	fmt.Fprintf(b.w, "\r%s [%s%s] %d/%d", label, strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), n, b.total)
}

// done ends the bar's line.
func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
