package memory_test

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/conformance"
	"github.com/sessionkit/sessionkit/session"
)

// sharedView is a second handle on a memory repository, as a second process
// would have on a database: it shares the data, and its Close only detaches
// the handle.
type sharedView struct{ session.Repository }

func (sharedView) Close() error { return nil }

func harness(opts memory.Options) conformance.Harness {
	return conformance.Harness{
		NewRepository: func(t *testing.T) session.Repository {
			r := memory.New(opts)
			t.Cleanup(func() { _ = r.Close() })
			return r
		},
		NewPeer: func(t *testing.T, r session.Repository) session.Repository {
			return sharedView{r}
		},
		NewRepositoryAt: func(t *testing.T, now func() time.Time) session.Repository {
			o := opts
			o.Now = now
			r := memory.New(o)
			t.Cleanup(func() { _ = r.Close() })
			return r
		},
		Capabilities: conformance.Capabilities{SizeLimit: opts.MaxSessionBytes, SnapshotLimit: opts.MaxSnapshotBytes},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	conformance.Run(t, harness(memory.Options{}))
}

func TestConformance_WithLimits(t *testing.T) {
	t.Parallel()
	conformance.Run(t, harness(memory.Options{MaxSessions: 1000, MaxSessionBytes: 256 << 10, MaxSnapshotBytes: 128 << 10}))
}
