package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func runFork(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("fork", "Copy a session, or one agent's history up to a message, into a new session of the\n"+
		"same application, recording where it came from (see the README's \"Fork\" section).\n"+
		"A whole-session fork copies agents, messages, metadata, orchestrator state and\n"+
		"snapshots, never feedback or guardrail events. Prints the new session's id.", std.err)
	var bf backendFlags
	var lf logFlags
	bf.register(fs, "", "backend")
	lf.register(fs)
	from := fs.String("from", "", "the session to copy (required)")
	to := fs.String("to", "", "the new session's id (default: a random id)")
	agent := fs.String("agent", "", "copy only this agent's history")
	message := fs.Int("message", -1, "with --agent: the last message id to copy (default: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" {
		return fmt.Errorf("%w: --from is required", errUsage)
	}
	req := session.ForkRequest{SourceID: *from, ID: *to, AgentID: *agent}
	if req.ID == "" {
		req.ID = driver.NewID()
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "message" {
			req.MessageID = message
		}
	})
	log, err := lf.logger(std.err)
	if err != nil {
		return err
	}
	repo, _, err := bf.open(ctx, log)
	if err != nil {
		return err
	}
	defer repo.Close()
	f, err := session.ForkerOf(repo)
	if err != nil {
		return err
	}
	s, err := f.ForkSession(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(std.out, s.ID)
	return nil
}
