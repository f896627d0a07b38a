package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
)

func runDemo(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("demo", "Write scripted agent conversations into the backend — several applications and sessions,\n"+
		"tool calls, a guardrail redaction, metrics, metadata and feedback — then resume one in a new\n"+
		"session manager and print its timeline. Each run uses fresh session ids.", std.err)
	var (
		bf    backendFlags
		hf    hookFlags
		lf    logFlags
		runID = fs.String("run-id", "", "session id infix (demo-<run-id>-...); default random")
	)
	bf.register(fs, "", "backend")
	hf.register(fs)
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(std.err)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	repo, raw, err := bf.open(ctx, log)
	if err != nil {
		return err
	}
	warnIfMemory(log, raw, "every demo session")
	hs, err := hf.build(ctx, log)
	if err != nil {
		_ = repo.Close()
		return err
	}
	res, runErr := demo.Run(ctx, repo, demo.Options{RunID: *runID, Hooks: hs.hooks, Out: std.out})
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	err = errors.Join(runErr, hs.close(fctx), repo.Close())
	switch {
	case err != nil:
	case isMemory(raw):
		fmt.Fprintf(std.out, "\n%d sessions written to memory and discarded now that demo exits. To browse them, run demo with --data-dir (SQLite), then sessionkit serve with the same flags.\n", len(res.SessionIDs))
	default:
		fmt.Fprintf(std.out, "\n%d sessions written. Browse them: sessionkit serve (same backend flags), then open the viewer.\n", len(res.SessionIDs))
	}
	return err
}
