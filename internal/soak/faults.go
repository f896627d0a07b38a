package soak

import (
	"context"
	"time"

	"github.com/sessionkit/sessionkit/internal/faultinject"
)

// Fault is one disruption applied during a run.
type Fault struct {
	// Name describes the fault in the summary ("redis killed").
	Name string
	// At is the fraction of the workload's operations, in [0, 1), attempted
	// before the fault is injected.
	At float64
	// Hold is how long the fault lasts while the workers keep writing.
	Hold time.Duration
	// Inject starts the fault; Recover (optional) ends it. Both run on the
	// goroutine that called Run. Recover always runs once Inject has,
	// with a context that outlives the run's by up to a minute.
	Inject, Recover func(ctx context.Context) error
}

// FaultRecord is what happened to one scheduled fault.
type FaultRecord struct {
	Name string
	// Fired reports that the fault was injected; it is false when the
	// workload finished (or was cancelled) before reaching Fault.At.
	Fired bool
	// Progress is the fraction of operations attempted when it fired.
	Progress float64
	// Held is how long the fault actually lasted, Recover included.
	Held time.Duration
	// InjectErr and RecoverErr are what Inject and Recover returned.
	InjectErr, RecoverErr error
}

// runFaults applies faults in order as progress passes their At, until the
// workers are done.
func runFaults(ctx context.Context, faults []Fault, progress func() float64, done <-chan struct{}) []FaultRecord {
	out := make([]FaultRecord, len(faults))
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i, f := range faults {
		out[i].Name = f.Name
	wait:
		for progress() < f.At {
			select {
			case <-ctx.Done():
				return out
			case <-done:
				return out
			case <-tick.C:
				continue wait
			}
		}
		out[i].Fired, out[i].Progress = true, progress()
		start := time.Now()
		out[i].InjectErr = f.Inject(ctx)
		if f.Hold > 0 {
			t := time.NewTimer(f.Hold)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		if f.Recover != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			out[i].RecoverErr = f.Recover(rctx)
			cancel()
		}
		out[i].Held = time.Since(start)
	}
	return out
}

// Outage returns a fault that makes every call through r fail with
// faultinject.ErrInjected for hold, starting at progress at.
func Outage(name string, r *faultinject.Repository, at float64, hold time.Duration) Fault {
	return Fault{
		Name: name, At: at, Hold: hold,
		Inject:  func(context.Context) error { r.SetDown(true); return nil },
		Recover: func(context.Context) error { r.SetDown(false); return nil },
	}
}
