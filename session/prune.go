package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultPruneBatch is how many sessions Prune lists per page when
// PruneOptions.Batch is 0.
const DefaultPruneBatch = 100

// PruneOptions select the sessions Prune deletes: those of
// ApplicationName whose last write (UpdatedAt) is older than OlderThan.
type PruneOptions struct {
	// ApplicationName keeps sessions of that application. Empty means every
	// application, which requires All.
	ApplicationName string
	// OlderThan keeps sessions whose UpdatedAt is before now - OlderThan.
	// It must be positive, except with All, where 0 means any age.
	OlderThan time.Duration
	// All confirms a filter that matches every application or every age.
	All bool
	// DryRun counts the matching sessions and deletes nothing.
	DryRun bool
	// Batch is the page size of the listing (DefaultPruneBatch when 0, at
	// most MaxPageSize).
	Batch int
	// Limit, when > 0, stops after that many deletions (the result says
	// More), so that one call stays short; run again to continue.
	Limit int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Progress, when set, is called after each batch.
	Progress func(PruneProgress)
}

// PruneProgress is Prune's progress after a batch.
type PruneProgress struct {
	// Scanned is how many sessions were examined, Matched how many of them
	// matched, Deleted how many Prune deleted (0 in a dry run).
	Scanned, Matched, Deleted int
}

// IdleDeleter is implemented by repositories that can delete a session on
// the condition that it was not written to since an instant, in one step
// no write can come between (one statement, one conditional delete, or
// under the store's lock). Prune uses it so that a write landing while it
// works always wins over the delete. It is a role interface (every backend
// in this module implements it, and decorators delegate to it, answering
// an error matching errors.ErrUnsupported when the repository they wrap
// lacks it); Prune falls back to a read then a delete without it.
type IdleDeleter interface {
	// DeleteSessionIfIdle deletes the session and everything it owns, as
	// DeleteSession does, only if its UpdatedAt is before before, and
	// reports whether it did: false, nil when the session was written to
	// since. Contract: ErrNotFound if the session does not exist or has
	// expired; ErrInvalidArgument naming "before" for a zero instant.
	DeleteSessionIfIdle(ctx context.Context, sessionID string, before time.Time) (bool, error)
}

// PruneResult summarises a Prune.
type PruneResult struct {
	PruneProgress
	// Gone counts matching sessions that disappeared before Prune deleted
	// them (another prune, an expiry, a delete): nothing to do.
	Gone int
	// Skipped counts sessions that matched the listing but were written to
	// before their delete, so no longer matched: left alone.
	Skipped int
	// Cutoff is the instant UpdatedAt had to be before (zero when any age
	// matched).
	Cutoff time.Time
	// More is true when Limit stopped the run before the end.
	More bool
}

// Validate checks o as Prune does, without touching a repository.
func (o PruneOptions) Validate() error {
	switch {
	case o.ApplicationName == "" && !o.All:
		return invalidArgument("all", "pruning every application needs an explicit all")
	case o.OlderThan < 0:
		return invalidArgument("older_than", "must not be negative, got %s", o.OlderThan)
	case o.OlderThan == 0 && !o.All:
		return invalidArgument("older_than", "must be positive (a zero age matches every session: that needs an explicit all)")
	case o.Batch < 0 || o.Batch > MaxPageSize:
		return invalidArgument("batch", "must be within [0, %d], got %d", MaxPageSize, o.Batch)
	case o.Limit < 0:
		return invalidArgument("limit", "must not be negative, got %d", o.Limit)
	case len(o.ApplicationName) > MaxIDBytes:
		return invalidArgument("application_name", "longer than %d bytes", MaxIDBytes)
	}
	return nil
}

// Prune deletes, in batches, the sessions o selects, and never one that
// does not match: each candidate from the listing is deleted on the
// condition that it was not written to since the cutoff
// (IdleDeleter.DeleteSessionIfIdle, which every backend in this module
// has), so a write landing at any moment wins over the delete. On a
// repository without that role the candidate is read again just before an
// unconditional delete and left alone when it no longer matches; a write
// in the short window between that read and the delete then still loses.
// It is safe to interrupt (ctx) and run again: every delete is
// independent, and a rerun finds what is left. Contract:
// ErrInvalidArgument naming "all" for a filter over every application
// without All, "older_than" for a negative age or a zero one without All,
// "batch" or "limit" when negative; nothing is deleted then.
func Prune(ctx context.Context, r Repository, o PruneOptions) (PruneResult, error) {
	var res PruneResult
	if err := o.Validate(); err != nil {
		return res, err
	}
	if o.Batch == 0 {
		o.Batch = DefaultPruneBatch
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	anyAge := o.OlderThan == 0 // only with All (Validate)
	if !anyAge {
		res.Cutoff = now().UTC().Truncate(time.Microsecond).Add(-o.OlderThan)
	}
	matches := func(s *Session) bool {
		return (o.ApplicationName == "" || s.ApplicationName == o.ApplicationName) && (anyAge || s.UpdatedAt.Before(res.Cutoff))
	}
	q := SessionQuery{ApplicationName: o.ApplicationName, Limit: o.Batch}
	if !anyAge {
		// UpdatedAt >= CreatedAt, so every match was created before the
		// cutoff too: the listing narrows on the indexed creation time.
		q.CreatedTo = res.Cutoff
	}
	for {
		page, err := r.ListSessions(ctx, q)
		if err != nil {
			return res, fmt.Errorf("prune: list sessions: %w", err)
		}
		for _, s := range page.Sessions {
			res.Scanned++
			if !matches(s) {
				continue
			}
			res.Matched++
			if o.DryRun {
				continue
			}
			if o.Limit > 0 && res.Deleted == o.Limit {
				res.More = true
				return res, nil
			}
			if d, ok := r.(IdleDeleter); ok && !anyAge {
				deleted, err := d.DeleteSessionIfIdle(ctx, s.ID, res.Cutoff)
				switch {
				case errors.Is(err, errors.ErrUnsupported):
					// A decorator over a repository without the role:
					// read, then delete, below.
				case errors.Is(err, ErrNotFound):
					res.Gone++
					continue
				case err != nil:
					return res, fmt.Errorf("prune: %w", err)
				case deleted:
					res.Deleted++
					continue
				default:
					res.Skipped++
					continue
				}
			}
			cur, err := r.GetSession(ctx, s.ID)
			switch {
			case errors.Is(err, ErrNotFound):
				res.Gone++
				continue
			case err != nil:
				return res, fmt.Errorf("prune: %w", err)
			case !matches(cur):
				res.Skipped++
				continue
			}
			switch err := r.DeleteSession(ctx, s.ID); {
			case errors.Is(err, ErrNotFound):
				res.Gone++
			case err != nil:
				return res, fmt.Errorf("prune: %w", err)
			default:
				res.Deleted++
			}
		}
		if o.Progress != nil {
			o.Progress(res.PruneProgress)
		}
		if page.NextCursor == "" {
			return res, nil
		}
		q.Cursor = page.NextCursor
	}
}
