package rediscache_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/session"
)

func Example() {
	mr, err := miniredis.Run() // a real Redis in production
	if err != nil {
		panic(err)
	}
	defer mr.Close()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})

	repo, err := rediscache.New(memory.New(memory.Options{}), client, rediscache.Options{CloseClient: true})
	if err != nil {
		panic(err)
	}
	defer repo.Close()

	ctx := context.Background()
	_ = repo.CreateSession(ctx, &session.Session{ID: "user@example.com", Metadata: map[string]any{"topic": "billing"}})
	for range 2 {
		md, _ := repo.GetMetadata(ctx, "user@example.com")
		fmt.Println(md["topic"])
	}
	_ = repo.UpdateMetadata(ctx, "user@example.com", map[string]any{"topic": "refund"})
	md, _ := repo.GetMetadata(ctx, "user@example.com")
	fmt.Println(md["topic"])

	st := repo.Stats()
	fmt.Println("hits:", st["cache_hits_total"], "misses:", st["cache_misses_total"])
	// Output:
	// billing
	// billing
	// refund
	// hits: 1 misses: 2
}
