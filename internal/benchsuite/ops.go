package benchsuite

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// opsSeq makes the session ids of Ops unique across runs on one store.
var opsSeq atomic.Int64

// op is one operation measured by Ops: setup prepares session sid (which
// does not exist yet) and returns the state the loop body needs.
type op struct {
	name string
	// history is how many messages setup stores under agent "a" of sid
	// (with the session and the agent), -1 for nothing at all.
	history int
	run     func(ctx context.Context, r session.Repository, sid string, i int) error
}

// ListLastN is how many messages the list-last operations fetch: the
// window an agent reloads on resume.
const ListLastN = 20

// OpNames lists the operations Ops measures, in report order.
var OpNames = func() []string {
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = o.name
	}
	return names
}()

var ops = []op{
	{"create-session", -1, func(ctx context.Context, r session.Repository, sid string, i int) error {
		return r.CreateSession(ctx, &session.Session{ID: fmt.Sprintf("%s-%d", sid, i)})
	}},
	{"get-session", 0, func(ctx context.Context, r session.Repository, sid string, _ int) error {
		_, err := r.GetSession(ctx, sid)
		return err
	}},
	{"append", 0, func(ctx context.Context, r session.Repository, sid string, i int) error {
		return r.CreateMessage(ctx, sid, "a", Message(i))
	}},
	{"get-message", 2 * ListLastN, func(ctx context.Context, r session.Repository, sid string, i int) error {
		_, err := r.GetMessage(ctx, sid, "a", i%(2*ListLastN))
		return err
	}},
	{"update-message", 2 * ListLastN, func(ctx context.Context, r session.Repository, sid string, i int) error {
		m := Message(2*ListLastN - 1)
		m.EventLoopMetrics = &session.EventLoopMetrics{AccumulatedUsage: session.Usage{TotalTokens: int64(i)}}
		return r.UpdateMessage(ctx, sid, "a", m)
	}},
	{"get-agent", 2 * ListLastN, func(ctx context.Context, r session.Repository, sid string, _ int) error {
		_, err := r.GetAgent(ctx, sid, "a")
		return err
	}},
	{"update-agent", 2 * ListLastN, func(ctx context.Context, r session.Repository, sid string, i int) error {
		return r.UpdateAgent(ctx, sid, &session.Agent{ID: "a", State: map[string]any{"turn": int64(i)}})
	}},
	{"list-last-20", 2 * ListLastN, func(ctx context.Context, r session.Repository, sid string, _ int) error {
		msgs, err := r.ListMessages(ctx, sid, "a", ListLastN, ListLastN)
		if err == nil && len(msgs) != ListLastN {
			err = fmt.Errorf("list-last-20: got %d messages", len(msgs))
		}
		return err
	}},
	{"count-messages", 2 * ListLastN, func(ctx context.Context, r session.Repository, sid string, _ int) error {
		n, err := r.CountMessages(ctx, sid, "a")
		if err == nil && n != 2*ListLastN {
			err = fmt.Errorf("count-messages: got %d", n)
		}
		return err
	}},
	{"update-metadata", 0, func(ctx context.Context, r session.Repository, sid string, i int) error {
		return r.UpdateMetadata(ctx, sid, map[string]any{"status": fmt.Sprintf("step-%d", i)})
	}},
	{"get-metadata", 0, func(ctx context.Context, r session.Repository, sid string, _ int) error {
		_, err := r.GetMetadata(ctx, sid)
		return err
	}},
}

// Ops measures each operation in OpNames on repo, one sub-benchmark per
// operation (BenchmarkX/backend=<backend>/<op>), each on a session of its
// own created before the timer starts. meter may be nil. Every sub-benchmark reports allocs
// and, with a meter, rt/op, B-sent/op and B-recv/op.
func Ops(b *testing.B, backend string, repo session.Repository, meter Meter) {
	b.Run("backend="+backend, func(b *testing.B) { runOps(b, repo, meter) })
}

func runOps(b *testing.B, repo session.Repository, meter Meter) {
	ctx := context.Background()
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			sid := fmt.Sprintf("ops-%s-%d", o.name, opsSeq.Add(1))
			if o.history >= 0 {
				if err := Seed(ctx, repo, sid, "a", o.history); err != nil {
					b.Fatal(err)
				}
			}
			// The append op continues the log; other ops ignore i's range.
			i := max(o.history, 0)
			b.ReportAllocs()
			m := Measure(meter)
			for b.Loop() {
				if err := o.run(ctx, repo, sid, i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			m.Report(b)
		})
	}
}
