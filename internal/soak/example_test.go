package soak_test

import (
	"context"
	"fmt"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/internal/soak"
)

// A small soak over an in-memory store that fails 10% of the calls (half
// of the failed writes after applying them), with a short outage: the
// checker still finds every acknowledged write exactly once.
func Example() {
	ctx := context.Background()
	backend := memory.New(memory.Options{})
	flaky := faultinject.New(backend, faultinject.Options{ErrorRate: 0.05, WriteErrorAfter: 0.05, Seed: 1})
	defer flaky.Close()

	res, err := soak.Run(ctx, flaky, soak.Config{
		Agents: 4, Sessions: 2, Ops: 25, Seed: 1,
		Faults: []soak.Fault{soak.Outage("backend down", flaky, 0.5, 0)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := soak.Verify(ctx, backend, res.Ledger)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("acknowledged writes checked:", rep.Messages+rep.Metadata+rep.Feedback > 0)
	fmt.Println("some calls failed:", res.Stats.Acks < res.Stats.Ops)
	fmt.Println("messages lost:", rep.Lost, "duplicates:", rep.Duplicates)
	fmt.Println("healthy:", soak.Healthy(res, rep) == nil)
	// Output:
	// acknowledged writes checked: true
	// some calls failed: true
	// messages lost: 0 duplicates: 0
	// healthy: true
}
