// Command sessionkit runs the sessionkit session service and its tools:
//
//	sessionkit serve    HTTP API, session viewer, /healthz and /metrics
//	sessionkit demo     scripted agent conversations showing every feature
//	sessionkit export   sessions to JSON Lines or a Strands directory
//	sessionkit import   sessions from JSON Lines or a Strands directory
//	sessionkit apikey   per-application API keys: create, list, revoke
//	sessionkit soak     load and fault test a backend
//	sessionkit check    agents with duplicate or missing message ids (--repair)
//	sessionkit prune    delete an application's sessions older than a cutoff
//
// Every subcommand picks its backend the same way: SQLite in --data-dir by
// default, --backend memory, --mongo-uri (or $MONGODB_URI) for MongoDB,
// --redis-url (or $REDIS_URL) to add the Redis cache, or --url with a full
// backend URL. Run "sessionkit <command> --help" for each command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/sessionkit/sessionkit/backend/memory"
	_ "github.com/sessionkit/sessionkit/backend/mongo"
	_ "github.com/sessionkit/sessionkit/backend/rediscache"
	_ "github.com/sessionkit/sessionkit/backend/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, io stdio) error
}

// stdio are a command's streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP API, the session viewer, /healthz and /metrics", runServe},
		{"demo", "write scripted demo conversations into the backend and print one timeline", runDemo},
		{"export", "write sessions as JSON Lines or a Strands FileSessionManager directory", runExport},
		{"import", "read sessions from JSON Lines or a Strands FileSessionManager directory", runImport},
		{"soak", "load and fault test a backend, then verify nothing acknowledged was lost", runSoak},
		{"apikey", "create, list or revoke per-application API keys in the store", runAPIKey},
		{"check", "find agents whose message ids are not dense; --repair renumbers them", runCheck},
		{"prune", "delete an application's sessions not written to for a while (--dry-run first)", runPrune},
		{"fork", "copy a session, or one agent's history up to a message, into a new session", runFork},
	}
}

// errUsage marks a command-line mistake: exit status 2.
var errUsage = errors.New("usage error")

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(errw)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdio{in: in, out: out, err: errw})
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(errw, "sessionkit %s: %v\n", c.name, err)
			return 2
		}
		fmt.Fprintf(errw, "sessionkit %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(errw, "sessionkit: unknown command %q\n\n", args[0])
	usage(errw)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "sessionkit stores AI-agent conversations behind one storage contract.")
	fmt.Fprintln(w, "\nUsage: sessionkit <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'sessionkit <command> --help' for the flags of a command.")
	fmt.Fprintln(w, "Backends: SQLite in --data-dir (default), --backend memory, --mongo-uri, --redis-url for a cache, or --url.")
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage to w.
func newFlagSet(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: sessionkit %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning flag errors into errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	return nil
}
