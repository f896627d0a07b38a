package benchsuite_test

import (
	"context"
	"fmt"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/internal/benchsuite"
)

// A Strands tool-using turn over the memory backend, with its repository
// calls counted as the benchmarks count them.
func Example() {
	ctx := context.Background()
	repo := benchsuite.NewCounting(memory.New(memory.Options{}))
	defer repo.Close()
	conv, err := benchsuite.Open(ctx, repo, "demo", 1)
	if err != nil {
		panic(err)
	}
	defer conv.Close()
	before := repo.Calls()
	if err := conv.Run(ctx); err != nil {
		panic(err)
	}
	fmt.Println(repo.Calls()-before, "repository calls for a four-message turn")
	// Output: 6 repository calls for a four-message turn
}
