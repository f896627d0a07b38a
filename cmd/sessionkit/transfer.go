package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/session"
)

// transferFlags are the flags export and import share.
type transferFlags struct {
	bf       backendFlags
	lf       logFlags
	format   string
	path     string
	progress bool
}

func (tf *transferFlags) register(fs *flag.FlagSet, direction string) {
	tf.bf.register(fs, "", "backend")
	tf.lf.register(fs)
	fs.StringVar(&tf.format, "format", "jsonl", "jsonl (one session per line, everything included), strands (FileSessionManager directory: session, agents, messages, multi-agents) or strands-snapshots (SnapshotSessionManager file tree: session/<id>/<key>)")
	fs.StringVar(&tf.path, direction, "-", "file for jsonl (- is std"+map[string]string{"out": "out", "in": "in"}[direction]+"), directory for strands")
	fs.BoolVar(&tf.progress, "progress", false, "show a progress bar on stderr even when it is not a terminal")
}

func runExport(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("export", "Export sessions from the backend (--url, or the backend flags; --from is an alias of --url)\n"+
		"as JSON Lines or a Strands FileSessionManager directory. A summary is printed at the end.", std.err)
	var tf transferFlags
	tf.register(fs, "out")
	from := fs.String("from", "", "source backend URL (same as --url)")
	app := fs.String("application", "", "export only sessions of this application")
	prefix := fs.String("id-prefix", "", "export only sessions whose id starts with this")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from != "" {
		tf.bf.url = *from
	}
	raw, err := tf.bf.resolve()
	if err != nil {
		return err
	}
	if err := storeMissing(raw); err != nil {
		return err
	}
	_, repo, err := tf.open(ctx, std)
	if err != nil {
		return err
	}
	defer repo.Close()
	bar := newProgress(std.err, tf.progress, "exported")
	q := session.SessionQuery{ApplicationName: *app, IDPrefix: *prefix, Limit: 100}
	var sum transfer.Summary
	switch tf.format {
	case "jsonl":
		w, closeOut, oerr := createOutput(tf.path, std.out)
		if oerr != nil {
			return oerr
		}
		sum, err = transfer.ExportJSONL(ctx, repo, q, w, bar.update)
		err = errors.Join(err, closeOut())
	case "strands":
		if tf.path == "-" {
			return fmt.Errorf("%w: --format strands needs --out <directory>", errUsage)
		}
		sum, err = transfer.ExportStrands(ctx, repo, q, tf.path, bar.update)
	case "strands-snapshots":
		if tf.path == "-" {
			return fmt.Errorf("%w: --format strands-snapshots needs --out <directory>", errUsage)
		}
		sum, err = transfer.ExportStrandsSnapshots(ctx, repo, q, tf.path, bar.update)
	default:
		return fmt.Errorf("%w: --format %q: want jsonl, strands or strands-snapshots", errUsage, tf.format)
	}
	bar.done()
	if err != nil {
		return err
	}
	if sum.Sessions == 0 {
		what := "the store is empty"
		if *app != "" || *prefix != "" {
			what = "no session matches --application/--id-prefix"
		}
		return fmt.Errorf("exported nothing from %s: %s (check --data-dir or --url; sessionkit demo writes sample sessions)", session.RedactURL(raw), what)
	}
	fmt.Fprintf(std.err, "exported %s\n", sum.Exported())
	return nil
}

func runImport(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("import", "Import sessions into the backend (--url, or the backend flags; --to is an alias of --url)\n"+
		"from JSON Lines or a Strands FileSessionManager directory. Existing sessions are skipped\n"+
		"unless --overwrite, which deletes and recreates them. A summary is printed at the end.", std.err)
	var tf transferFlags
	tf.register(fs, "in")
	to := fs.String("to", "", "destination backend URL (same as --url)")
	overwrite := fs.Bool("overwrite", false, "replace sessions that already exist (delete, then recreate)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to != "" {
		tf.bf.url = *to
	}
	log, repo, err := tf.open(ctx, std)
	if err != nil {
		return err
	}
	if raw, rerr := tf.bf.resolve(); rerr == nil {
		warnIfMemory(log, raw, "everything imported")
	}
	defer repo.Close()
	bar := newProgress(std.err, tf.progress, "imported")
	opts := transfer.ImportOptions{Overwrite: *overwrite, Progress: bar.update}
	var sum transfer.Summary
	switch tf.format {
	case "jsonl":
		r := std.in
		if tf.path != "-" {
			if fi, serr := os.Stat(tf.path); serr == nil && fi.IsDir() {
				return fmt.Errorf("%w: --in %s is a directory: add --format strands to import a Strands FileSessionManager directory, or pass a JSON Lines file", errUsage, tf.path)
			}
			f, oerr := os.Open(tf.path)
			if oerr != nil {
				return oerr
			}
			defer f.Close()
			r = f
		}
		sum, err = transfer.ImportJSONL(ctx, repo, r, opts)
	case "strands":
		if tf.path == "-" {
			return fmt.Errorf("%w: --format strands needs --in <directory>", errUsage)
		}
		sum, err = transfer.ImportStrands(ctx, repo, tf.path, opts)
	case "strands-snapshots":
		if tf.path == "-" {
			return fmt.Errorf("%w: --format strands-snapshots needs --in <directory>", errUsage)
		}
		sum, err = transfer.ImportStrandsSnapshots(ctx, repo, tf.path, opts)
	default:
		return fmt.Errorf("%w: --format %q: want jsonl, strands or strands-snapshots", errUsage, tf.format)
	}
	bar.done()
	if err != nil {
		return fmt.Errorf("after %s: %w", sum, err)
	}
	fmt.Fprintf(std.err, "imported %s\n", sum)
	return nil
}

func (tf *transferFlags) open(ctx context.Context, std stdio) (*slog.Logger, session.Repository, error) {
	log, err := tf.lf.logger(std.err)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	repo, _, err := tf.bf.open(ctx, log)
	if err != nil {
		return nil, nil, err
	}
	return log, repo, nil
}

func createOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

// progress draws "exported 42 sessions" on stderr, rewritten in place, when
// stderr is a terminal or --progress is given.
type progress struct {
	w     io.Writer
	on    bool
	verb  string
	drawn bool
}

func newProgress(w io.Writer, force bool, verb string) *progress {
	return &progress{w: w, on: force || isTerminal(w), verb: verb}
}

func (p *progress) update(n int) {
	if !p.on {
		return
	}
	bar := strings.Repeat("#", min(n, 40)%41)
	fmt.Fprintf(p.w, "\r[%-40s] %s %d sessions", bar, p.verb, n)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
