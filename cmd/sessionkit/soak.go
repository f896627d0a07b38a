package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/backend/rediscache"
	"github.com/sessionkit/sessionkit/internal/faultinject"
	"github.com/sessionkit/sessionkit/internal/soak"
	"github.com/sessionkit/sessionkit/session"
)

// runSoak implements "sessionkit soak": the soak workload of internal/soak
// against the configured backend, optionally with injected faults, then the
// checker, then a summary. It fails when anything acknowledged was lost or
// duplicated, a call overran its deadline, or a cached read differs from the
// backend.
func runSoak(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("soak", "Run N concurrent simulated agents over M sessions through the session manager against\n"+
		"the backend (bounded in count and time), optionally injecting latency, errors and an outage,\n"+
		"then verify that every acknowledged message is stored exactly once, in order, with dense ids,\n"+
		"and that every acknowledged metadata and feedback write is present. With a Redis cache it also\n"+
		"checks that reads through the cache equal reads from the backend. Sessions are named\n"+
		"soak-<run-id>-sNNN and deleted afterwards unless --keep.", std.err)
	var (
		bf       backendFlags
		lf       logFlags
		scaleArg = fs.String("scale", env(soak.ScaleEnv, "ci"), "run size: ci (8x4x20), large (32x16x200) or AGENTSxSESSIONSxOPS [$"+soak.ScaleEnv+"]")
		agents   = fs.Int("agents", 0, "concurrent simulated agents (overrides --scale)")
		sessions = fs.Int("sessions", 0, "sessions they share (overrides --scale)")
		ops      = fs.Int("ops", 0, "operations per agent (overrides --scale)")
		shared   = fs.Int("writers-per-log", soak.DefaultSharedLogs, "agents appending to one agent log concurrently")
		opTO     = fs.Duration("op-timeout", soak.DefaultOpTimeout, "deadline of every call")
		slack    = fs.Duration("slack", soak.DefaultSlack, "how late past its deadline a call may return before it counts as an overrun")
		think    = fs.Duration("think", soak.DefaultThink, "mean pause between an agent's operations")
		timeout  = fs.Duration("timeout", 10*time.Minute, "bound on the whole run, check included")
		errRate  = fs.Float64("error-rate", 0, "inject: probability a call fails before reaching the backend")
		errAfter = fs.Float64("write-error-after", 0, "inject: probability a write fails after the backend applied it")
		latency  = fs.Duration("latency", 0, "inject: latency added to every call")
		jitter   = fs.Duration("jitter", 0, "inject: up to this much more latency, uniformly")
		outage   = fs.Duration("outage", 0, "inject: make every call fail for this long, once")
		outageAt = fs.Float64("outage-at", 0.5, "fraction of the operations done when the outage starts")
		seed     = fs.Uint64("seed", 1, "seed of the operation mix and of the injected faults")
		runID    = fs.String("run-id", "", "session id infix (soak-<run-id>-sNNN); default random")
		keep     = fs.Bool("keep", false, "keep the soak sessions instead of deleting them after the check")
	)
	bf.register(fs, "", "backend")
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(std.err)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	sc, err := soak.ParseScale(*scaleArg)
	if err != nil {
		return fmt.Errorf("%w: --scale: %v", errUsage, err)
	}
	for _, o := range []struct {
		v   int
		dst *int
	}{{*agents, &sc.Agents}, {*sessions, &sc.Sessions}, {*ops, &sc.Ops}} {
		if o.v < 0 {
			return fmt.Errorf("%w: --agents, --sessions and --ops must be positive", errUsage)
		}
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	for _, p := range []float64{*errRate, *errAfter} {
		if p < 0 || p > 1 {
			return fmt.Errorf("%w: --error-rate and --write-error-after must be in [0, 1]", errUsage)
		}
	}
	if *outage < 0 || *outageAt < 0 || *outageAt >= 1 {
		return fmt.Errorf("%w: --outage must not be negative and --outage-at must be in [0, 1)", errUsage)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	repo, _, err := bf.open(ctx, log)
	if err != nil {
		return err
	}
	defer func() { _ = repo.Close() }()
	// Check against the backend itself, not through the cache under test.
	direct := repo
	cache, cached := repo.(*rediscache.Cache)
	if cached {
		direct = cache.Inner()
	}
	target := repo
	cfg := soak.Config{
		SharedLogs: *shared, OpTimeout: *opTO, Slack: *slack, Think: *think,
		RunID: *runID, Seed: *seed,
	}.WithScale(sc)
	if *think == 0 {
		cfg.Think = -1
	}
	if *errRate > 0 || *errAfter > 0 || *latency > 0 || *jitter > 0 || *outage > 0 {
		flaky := faultinject.New(unclosed{repo}, faultinject.Options{
			ErrorRate: *errRate, WriteErrorAfter: *errAfter, Latency: *latency, Jitter: *jitter, Seed: *seed,
		})
		target = flaky
		if *outage > 0 {
			cfg.Faults = append(cfg.Faults, soak.Outage(fmt.Sprintf("backend outage of %s", *outage), flaky, *outageAt, *outage))
		}
	}
	log.Info("soak starting", "scale", sc.String(), "op_timeout", *opTO)
	res, runErr := soak.Run(ctx, target, cfg)
	if res == nil {
		return fmt.Errorf("%w: %v", errUsage, runErr)
	}
	rep, verifyErr := soak.Verify(ctx, direct, res.Ledger)
	soak.WriteSummary(std.out, res, rep)
	var compareErr error
	if cached && verifyErr == nil {
		compareErr = soak.CompareFresh(ctx, repo, direct, res.Ledger.SessionIDs())
		if compareErr == nil {
			fmt.Fprintln(std.out, "  cache        reads through the cache equal reads from the backend")
		}
	}
	var healthErr error
	if verifyErr == nil {
		healthErr = soak.Healthy(res, rep)
	}
	var cleanupErr error
	if !*keep {
		cleanupErr = deleteSoakSessions(context.WithoutCancel(ctx), repo, res.Config, *opTO)
	} else {
		fmt.Fprintf(std.out, "  kept         sessions soak-%s-s000 .. s%03d\n", res.Config.RunID, res.Config.Sessions-1)
	}
	if verifyErr != nil {
		verifyErr = fmt.Errorf("verify: %w", verifyErr)
	}
	return errors.Join(runErr, verifyErr, healthErr, compareErr, cleanupErr)
}

// deleteSoakSessions removes the run's sessions (through the cache, so its
// entries are invalidated).
func deleteSoakSessions(ctx context.Context, repo session.Repository, cfg soak.Config, opTimeout time.Duration) error {
	var errs []error
	for i := range cfg.Sessions {
		dctx, cancel := context.WithTimeout(ctx, max(opTimeout, 5*time.Second))
		err := repo.DeleteSession(dctx, soak.SessionID(cfg.RunID, i))
		cancel()
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			errs = append(errs, fmt.Errorf("delete soak session: %w", err))
		}
	}
	return errors.Join(errs...)
}

// unclosed keeps the repository open when the fault injector over it is
// closed; runSoak closes the repository itself.
type unclosed struct{ session.Repository }

func (unclosed) Close() error { return nil }
