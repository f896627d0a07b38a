package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// errNotDense is check's result when it found agents whose message ids are
// not dense and did not repair them: exit status 1.
var errNotDense = errors.New("agents with non-dense message ids found; run with --repair to renumber them")

func runCheck(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("check", "Check every agent of every session in the backend for message ids that are not\n"+
		"0..n-1 in storage order (duplicate or missing ids, which another program sharing the\n"+
		"store, such as the Python original, can leave), and list them. With --repair, renumber\n"+
		"each such agent in storage order: only message ids change, no message is lost, and a\n"+
		"second run finds nothing. Exit status 1 when unrepaired agents remain.", std.err)
	var bf backendFlags
	var lf logFlags
	bf.register(fs, "", "backend")
	lf.register(fs)
	repair := fs.Bool("repair", false, "renumber the agents found (the backend must support it: MongoDB)")
	if err := parse(fs, args); err != nil {
		return err
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
	sum, err := checkStore(ctx, repo, *repair, std.out)
	fmt.Fprintf(std.err, "checked %d sessions, %d agents, %d messages: %d agents with non-dense ids, %d renumbered (%d ids changed)\n",
		sum.sessions, sum.agents, sum.messages, sum.found, sum.repaired, sum.changed)
	if err != nil {
		return err
	}
	if sum.found > sum.repaired {
		return errNotDense
	}
	return nil
}

// checkSummary counts what checkStore saw and did.
type checkSummary struct {
	sessions, agents, messages int
	found, repaired, changed   int
}

// checkStore walks every session and agent of repo, writes one line to out
// per agent whose ids are not dense and, with repair, renumbers it through
// session.MessageRenumberer.
func checkStore(ctx context.Context, repo session.Repository, repair bool, out io.Writer) (checkSummary, error) {
	var sum checkSummary
	renumberer, canRepair := repo.(session.MessageRenumberer)
	if repair && !canRepair {
		return sum, fmt.Errorf("%w: --repair: this backend (%T) cannot renumber message ids, and never stores non-dense ones itself", errUsage, repo)
	}
	q := session.SessionQuery{Limit: session.MaxPageSize}
	for {
		page, err := repo.ListSessions(ctx, q)
		if err != nil {
			return sum, err
		}
		for _, s := range page.Sessions {
			sum.sessions++
			agents, err := repo.ListAgents(ctx, s.ID)
			if errors.Is(err, session.ErrNotFound) {
				continue // deleted while we walked
			}
			if err != nil {
				return sum, err
			}
			for _, a := range agents {
				sum.agents++
				msgs, err := repo.ListMessages(ctx, s.ID, a.ID, 0, 0)
				if errors.Is(err, session.ErrNotFound) {
					continue
				}
				if err != nil {
					return sum, err
				}
				sum.messages += len(msgs)
				ids := make([]int, len(msgs))
				for i, m := range msgs {
					ids[i] = m.ID
				}
				rep := driver.CheckMessageIDs(s.ID, a.ID, ids)
				if rep == nil {
					continue
				}
				sum.found++
				fmt.Fprintf(out, "session %q agent %q: %d messages, %d ids not at their position (duplicate %v, missing %v)\n",
					s.ID, a.ID, rep.Count, rep.Misplaced, rep.Duplicates, rep.Missing)
				if !repair {
					continue
				}
				n, err := renumberer.RenumberMessages(ctx, s.ID, a.ID)
				if err != nil {
					return sum, err
				}
				sum.repaired++
				sum.changed += n
				fmt.Fprintf(out, "session %q agent %q: renumbered, %d ids changed\n", s.ID, a.ID, n)
			}
		}
		if page.NextCursor == "" {
			return sum, nil
		}
		q.Cursor = page.NextCursor
	}
}
