package benchsuite

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
	"github.com/sessionkit/sessionkit/session/manager/scripted"
)

// AgentID is the agent every turn workload runs.
const AgentID = "assistant"

// Turn returns the i-th turn of the workload: a user prompt, an assistant
// toolUse of "search", its toolResult and the answer — the four messages
// of a Strands tool-using turn — with agent state that changes every turn,
// so that each turn also syncs the agent.
func Turn(i int) scripted.Turn {
	return scripted.Turn{
		User:      fmt.Sprintf("Question %d: what does the report say about growth?", i),
		ToolName:  "search",
		ToolInput: map[string]any{"query": "growth", "page": int64(i % 10)},
		Answer:    Text,
		State:     map[string]any{"turns": int64(i + 1)},
	}
}

func searchTool(context.Context, map[string]any) (string, error) { return Text[:200], nil }

// Conversation is one session driven by the scripted loop.
type Conversation struct {
	Manager *manager.Manager
	Agent   *scripted.Agent

	mu    sync.Mutex
	turns int
}

// Open starts (or resumes) session sid on repo with agent AgentID, ready
// to run turns.
func Open(ctx context.Context, repo session.Repository, sid string, seed uint64) (*Conversation, error) {
	m, err := manager.New(ctx, repo, sid, manager.Options{})
	if err != nil {
		return nil, err
	}
	a, err := m.Initialize(ctx, AgentID, manager.AgentOptions{})
	if err != nil {
		_ = m.Close()
		return nil, err
	}
	return &Conversation{
		Manager: m,
		Agent:   scripted.New(a, scripted.Options{Seed: seed, Tools: map[string]scripted.Tool{"search": searchTool}}),
		turns:   len(a.Messages()) / 4,
	}, nil
}

// Run runs the conversation's next turn (see Turn); concurrent calls run
// one after the other.
func (c *Conversation) Run(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.Agent.Run(ctx, Turn(c.turns))
	c.turns++
	return err
}

// Close closes the manager (not the repository).
func (c *Conversation) Close() error { return c.Manager.Close() }

// Fill stores n sessions named <prefix>-<i> on repo, each with one
// tool-using turn (four messages), and closes their managers.
func Fill(ctx context.Context, repo session.Repository, prefix string, n int) error {
	for i := range n {
		c, err := Open(ctx, repo, fmt.Sprintf("%s-%d", prefix, i), uint64(i))
		if err != nil {
			return err
		}
		err = c.Run(ctx)
		if cerr := c.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var turnsSeq atomic.Int64

// Turns measures Strands turns (see Turn) through session/manager and the
// scripted loop over repo, under two loads: one session driven by one
// worker, and ManySessions sessions driven by 8 workers. Each load is a
// sub-benchmark BenchmarkX/backend=<backend>/sessions=<n>/workers=<w>: the sessions are opened
// before the timer starts, then b.N turns are shared among workers
// goroutines, turn i on session i mod sessions (a session's turns never
// overlap: its scripted agent serializes them). It reports turns/s (wall
// time), calls/op (repository calls per turn, counted by a Counting
// wrapped around repo) and, with a meter, rt/op, B-sent/op, B-recv/op per
// turn.
func Turns(b *testing.B, backend string, repo session.Repository, meter Meter) {
	b.Run("backend="+backend, func(b *testing.B) {
		runTurns(b, repo, meter, 1, 1)
		runTurns(b, repo, meter, ManySessions(), TurnWorkers)
	})
}

// TurnWorkers is how many goroutines drive the many-sessions load.
const TurnWorkers = 8

func runTurns(b *testing.B, repo session.Repository, meter Meter, sessions, workers int) {
	b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) {
		ctx := context.Background()
		counting := NewCounting(repo)
		prefix := fmt.Sprintf("turns-%d", turnsSeq.Add(1))
		convs := make([]*Conversation, sessions)
		defer func() {
			for _, c := range convs {
				if c != nil {
					_ = c.Close()
				}
			}
		}()
		for i := range convs {
			c, err := Open(ctx, counting, fmt.Sprintf("%s-%d", prefix, i), uint64(i))
			if err != nil {
				b.Fatal(err)
			}
			convs[i] = c
		}
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { measureTurns(b, counting, meter, convs, workers) })
	})
}

// measureTurns runs b.N turns on convs with workers goroutines.
func measureTurns(b *testing.B, counting *Counting, meter Meter, convs []*Conversation, workers int) {
	ctx := context.Background()
	calls := counting.Calls()
	m := Measure(meter)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	b.ReportAllocs()
	b.ResetTimer()
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := convs[i%int64(len(convs))].Run(ctx); err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "turns/s")
	}
	b.ReportMetric(float64(counting.Calls()-calls)/float64(b.N), "calls/op")
	m.Report(b)
}
