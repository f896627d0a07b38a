package session

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ExpiryStore is implemented by repositories whose sessions can expire
// (every backend, and the cache by delegation; a
// decorator whose inner repository is not one answers an error matching
// errors.ErrUnsupported). A session's expiry is Session.ExpiresAt, set on
// CreateSession or later with SetSessionExpiry; from that instant on the
// session and everything under it read as ErrNotFound, writes under it
// report ErrNotFound, ListSessions leaves it out, and CreateSession may
// reuse its id. The store removes it for good: a background sweeper calls
// SweepExpired (and MongoDB servers with TTL indexes also remove the
// document on their own).
type ExpiryStore interface {
	// SetSessionExpiry sets the session's expiry (zero clears it, so the
	// session never expires) and moves UpdatedAt. Contract: ErrNotFound if
	// the session does not exist or has expired; ErrInvalidArgument naming
	// "expires_at" for an instant that is not in the future, with nothing
	// written. Idempotent.
	SetSessionExpiry(ctx context.Context, sessionID string, expiresAt time.Time) error
	// SweepExpired removes at most limit expired sessions with everything
	// they own (agents, messages, metadata, feedback, guardrail events,
	// multi-agent state, snapshots) and returns how many it removed.
	// Sessions that have not expired are never touched. Contract:
	// ErrInvalidArgument naming "limit" when limit < 1. Safe to run from
	// many processes at once; each session is removed once.
	SweepExpired(ctx context.Context, limit int) (int, error)
}

// ExpiryOf returns r as an ExpiryStore, or an error matching
// errors.ErrUnsupported when r cannot expire sessions.
func ExpiryOf(r Repository) (ExpiryStore, error) {
	if e, ok := r.(ExpiryStore); ok {
		return e, nil
	}
	return nil, fmt.Errorf("%T: session expiry: %w", r, errors.ErrUnsupported)
}

// Expired reports whether s has an expiry that is not after now.
func Expired(s *Session, now time.Time) bool {
	return s != nil && !s.ExpiresAt.IsZero() && !s.ExpiresAt.After(now)
}

// ExpiryAfter returns now + retention, the expiry of a session kept for
// retention. Contract: ErrInvalidArgument naming "retention" when
// retention <= 0.
func ExpiryAfter(now time.Time, retention time.Duration) (time.Time, error) {
	if retention <= 0 {
		return time.Time{}, invalidArgument("retention", "must be positive, got %s", retention)
	}
	return now.Add(retention).UTC().Truncate(time.Microsecond), nil
}

// AnyApplication is the RetentionPolicy key that applies to applications
// without an entry of their own.
const AnyApplication = "*"

// RetentionPolicy is a per-application default retention: new sessions
// of an application listed in it (or of any application, under
// AnyApplication) expire that long after creation unless they carry an
// expiry of their own. The service applies it to the sessions it creates
// (serve --retention); library users call Apply before CreateSession.
type RetentionPolicy map[string]time.Duration

// ParseRetentionPolicy reads "app=30d,other=12h,*=90d" (durations as
// ParseDuration). Contract: ErrInvalidArgument naming "retention" for a
// malformed entry or a retention <= 0.
func ParseRetentionPolicy(s string) (RetentionPolicy, error) {
	p := RetentionPolicy{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		app, d, ok := strings.Cut(part, "=")
		if !ok || app == "" {
			return nil, invalidArgument("retention", "%q is not application=duration", part)
		}
		dur, err := ParseDuration(d)
		if err != nil {
			return nil, invalidArgument("retention", "%s: %v", app, err)
		}
		p[app] = dur
	}
	return p, p.Validate()
}

// Validate reports a retention <= 0 as ErrInvalidArgument naming
// "retention".
func (p RetentionPolicy) Validate() error {
	for app, d := range p {
		if d <= 0 {
			return invalidArgument("retention", "%s: must be positive, got %s", app, d)
		}
	}
	return nil
}

// For returns the retention of application's sessions and whether it has
// one.
func (p RetentionPolicy) For(application string) (time.Duration, bool) {
	if d, ok := p[application]; ok {
		return d, true
	}
	d, ok := p[AnyApplication]
	return d, ok
}

// Apply sets s.ExpiresAt from the policy when s has no expiry of its own
// and its application has a retention. Contract: ErrInvalidArgument naming
// "retention" for a retention <= 0, with s unchanged.
func (p RetentionPolicy) Apply(s *Session, now time.Time) error {
	if s == nil || !s.ExpiresAt.IsZero() {
		return nil
	}
	d, ok := p.For(s.ApplicationName)
	if !ok {
		return nil
	}
	at, err := ExpiryAfter(now, d)
	if err != nil {
		return err
	}
	s.ExpiresAt = at
	return nil
}

// String renders the policy as ParseRetentionPolicy reads it, sorted.
func (p RetentionPolicy) String() string {
	parts := make([]string, 0, len(p))
	for app, d := range p {
		parts = append(parts, app+"="+d.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// ParseDuration is time.ParseDuration plus a whole number of days ("30d"),
// the unit retention is usually given in.
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// Sweeper defaults.
const (
	DefaultSweepInterval = time.Minute
	DefaultSweepBatch    = 100
	DefaultSweepTimeout  = 30 * time.Second
)

// SweeperOptions configure a backend's expiry sweeper. The zero value
// sweeps every DefaultSweepInterval.
type SweeperOptions struct {
	// Interval between passes (DefaultSweepInterval when 0); negative
	// disables the sweeper — expired sessions still read as not found, and
	// stay stored until something calls SweepExpired.
	Interval time.Duration
	// Batch is how many sessions one SweepExpired call removes at most
	// (DefaultSweepBatch when 0). A pass calls it until a batch comes back
	// short, at most 100 times.
	Batch int
	// Timeout bounds one pass (DefaultSweepTimeout when 0).
	Timeout time.Duration
}
