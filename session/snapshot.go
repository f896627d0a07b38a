package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Snapshot storage: the byte store behind Strands' SnapshotSessionManager
// (strands-agents 1.62's Storage protocol: write, read, delete and list by
// prefix over bytes under string keys). sessionkit scopes every key to a
// session: the SDK key "session/<sid>/<rest>" is session <sid>, key <rest>.
// A session owns its keys, so DeleteSession deletes them and export/import
// carries them. The store never parses the bytes: a corrupt snapshot is
// returned exactly as it was written, so nothing is lost.

// Limits of the snapshot store.
const (
	// MaxSnapshotKeyBytes is the longest key accepted, before normalization.
	MaxSnapshotKeyBytes = 1024
	// DefaultMaxSnapshotBytes is the snapshot size limit a backend applies
	// when its options set none. A snapshot holds a whole conversation, so
	// the default is generous; it bounds what one write may hold in memory.
	DefaultMaxSnapshotBytes = 64 << 20
	// DefaultSnapshotListLimit is the page size of ListSnapshots when
	// SnapshotQuery.Limit is 0.
	DefaultSnapshotListLimit = 1000
	// MaxSnapshotListLimit is the largest page ListSnapshots returns.
	MaxSnapshotListLimit = 10000
)

// SnapshotInfo describes one stored snapshot without its bytes.
type SnapshotInfo struct {
	// Key is the normalized key (see NormalizeSnapshotKey).
	Key string
	// SizeBytes is the length of the stored bytes.
	SizeBytes int64
	// UpdatedAt is when the bytes were last written.
	UpdatedAt time.Time
}

// Snapshot is one stored snapshot with its bytes.
type Snapshot struct {
	SnapshotInfo
	// Data is the stored bytes, exactly as written. The caller owns it.
	Data []byte
}

// SnapshotQuery selects a page of ListSnapshots.
type SnapshotQuery struct {
	// Prefix keeps keys that start with it (after NormalizeSnapshotPrefix);
	// empty lists every key of the session.
	Prefix string
	// Cursor continues a listing: only keys after it, in byte order, are
	// returned. It is the NextCursor of the previous page; empty starts at
	// the first key.
	Cursor string
	// Limit is the page size: 0 means DefaultSnapshotListLimit; at most
	// MaxSnapshotListLimit.
	Limit int
}

// SnapshotPage is one page of ListSnapshots.
type SnapshotPage struct {
	// Snapshots are in ascending byte order of Key.
	Snapshots []SnapshotInfo
	// NextCursor continues the listing; empty on the last page.
	NextCursor string
}

// SnapshotStore stores opaque bytes under keys owned by a session. It is a
// role interface a Repository may implement (every backend in this module
// does, and decorators delegate to it when the repository they wrap does);
// callers find it with SnapshotsOf. Keys are normalized with
// NormalizeSnapshotKey, so "a//b/" and "a/b" name the same snapshot.
type SnapshotStore interface {
	// PutSnapshot stores data under key, replacing what was there. The
	// overwrite is atomic: a concurrent reader gets the old bytes or the new
	// ones, never a mix. The store keeps its own copy of data. Contract:
	// ErrNotFound if the session does not exist; ErrInvalidArgument naming
	// "key" for a bad key; ErrTooLarge over the backend's snapshot size
	// limit (DefaultMaxSnapshotBytes unless configured) — in every error
	// case nothing is written.
	PutSnapshot(ctx context.Context, sessionID, key string, data []byte) (*SnapshotInfo, error)
	// GetSnapshot returns the bytes stored under key. Contract: ErrNotFound
	// if the session or the key does not exist.
	GetSnapshot(ctx context.Context, sessionID, key string) (*Snapshot, error)
	// DeleteSnapshot removes key. Deleting a missing key succeeds (Strands'
	// delete is a no-op then). Contract: ErrNotFound only if the session
	// does not exist.
	DeleteSnapshot(ctx context.Context, sessionID, key string) error
	// ListSnapshots returns a page of the session's keys in ascending byte
	// order. Contract: ErrNotFound if the session does not exist;
	// ErrInvalidArgument naming "prefix", "cursor" or "limit".
	ListSnapshots(ctx context.Context, sessionID string, q SnapshotQuery) (*SnapshotPage, error)
}

// SnapshotsOf returns repo's SnapshotStore. When repo lacks the role the
// error matches errors.ErrUnsupported, so callers can tell "this backend
// stores no snapshots" from a failed call.
func SnapshotsOf(repo any) (SnapshotStore, error) {
	if s, ok := repo.(SnapshotStore); ok {
		return s, nil
	}
	return nil, fmt.Errorf("%T does not store snapshots: %w", repo, errors.ErrUnsupported)
}

// NormalizeSnapshotKey returns key in its stored form, following the rules
// of the SDK's own storage backends: runs of "/" collapse to one and
// leading and trailing "/" are stripped. It rejects, with ErrInvalidArgument
// naming "key": an empty key (also one of only slashes), more than
// MaxSnapshotKeyBytes bytes, invalid UTF-8, a control character, a
// backslash, and a "." or ".." segment (they would mean another key on a
// file system, and the SDK rejects "..").
func NormalizeSnapshotKey(key string) (string, error) {
	if err := checkSnapshotText("key", key); err != nil {
		return "", err
	}
	segs := strings.FieldsFunc(key, func(r rune) bool { return r == '/' })
	if len(segs) == 0 {
		return "", InvalidArgument("key", "%q is empty", key)
	}
	for _, s := range segs {
		if s == "." || s == ".." {
			return "", InvalidArgument("key", "%q must not contain a %q segment", key, s)
		}
	}
	return strings.Join(segs, "/"), nil
}

// ValidateSnapshotKey reports whether key is acceptable to
// NormalizeSnapshotKey.
func ValidateSnapshotKey(key string) error {
	_, err := NormalizeSnapshotKey(key)
	return err
}

// NormalizeSnapshotPrefix returns a list prefix in the form keys are
// stored: runs of "/" collapsed and leading "/" stripped, a trailing "/"
// kept (as the SDK does, so "agent/" does not match "agents/x"). Empty
// lists everything. The text rules of NormalizeSnapshotKey apply, naming
// "prefix"; a partial segment such as "snap" or ".." is a legal prefix.
func NormalizeSnapshotPrefix(prefix string) (string, error) {
	if err := checkSnapshotText("prefix", prefix); err != nil {
		return "", err
	}
	var b strings.Builder
	slash := true // strips leading slashes
	for _, r := range prefix {
		if r == '/' {
			if slash {
				continue
			}
			slash = true
		} else {
			slash = false
		}
		b.WriteRune(r)
	}
	return b.String(), nil
}

func checkSnapshotText(field, s string) error {
	switch {
	case len(s) > MaxSnapshotKeyBytes:
		return InvalidArgument(field, "%d bytes, longer than %d", len(s), MaxSnapshotKeyBytes)
	case !utf8.ValidString(s):
		return InvalidArgument(field, "%q is not valid UTF-8", s)
	case strings.ContainsRune(s, '\\'):
		return InvalidArgument(field, "%q must not contain a backslash", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return InvalidArgument(field, "%q must not contain control character %U", s, r)
		}
	}
	return nil
}

// PrepareSnapshotQuery validates q and returns it normalized, with Limit
// defaulted. Backends list keys greater than Cursor that start with Prefix,
// up to Limit, and set NextCursor with SnapshotNextCursor.
func PrepareSnapshotQuery(q SnapshotQuery) (SnapshotQuery, error) {
	var err error
	if q.Prefix, err = NormalizeSnapshotPrefix(q.Prefix); err != nil {
		return q, err
	}
	if len(q.Cursor) > MaxSnapshotKeyBytes || !utf8.ValidString(q.Cursor) {
		return q, InvalidArgument("cursor", "is not a cursor this store returned")
	}
	switch {
	case q.Limit < 0:
		return q, InvalidArgument("limit", "%d is negative", q.Limit)
	case q.Limit > MaxSnapshotListLimit:
		return q, InvalidArgument("limit", "%d is over the maximum %d", q.Limit, MaxSnapshotListLimit)
	case q.Limit == 0:
		q.Limit = DefaultSnapshotListLimit
	}
	return q, nil
}

// SnapshotPageOf builds the page from up to limit+1 infos in key order:
// backends fetch one more than the limit so the last page has an empty
// NextCursor without a further round trip.
func SnapshotPageOf(infos []SnapshotInfo, limit int) *SnapshotPage {
	page := &SnapshotPage{Snapshots: infos}
	if len(infos) > limit {
		page.Snapshots = infos[:limit]
		page.NextCursor = infos[limit-1].Key
	}
	if page.Snapshots == nil {
		page.Snapshots = []SnapshotInfo{}
	}
	return page
}

// CheckSnapshotSize returns ErrTooLarge when size is over max (max <= 0
// means DefaultMaxSnapshotBytes).
func CheckSnapshotSize(size, max int64) error {
	if max <= 0 {
		max = DefaultMaxSnapshotBytes
	}
	if size > max {
		return fmt.Errorf("%w: snapshot of %d bytes is over the %d-byte limit", ErrTooLarge, size, max)
	}
	return nil
}

// SnapshotError wraps err with the session id and key it concerns:
// `session "abc": snapshot "k": <err>`.
func SnapshotError(sessionID, key string, err error) error {
	return fmt.Errorf("session %q: snapshot %q: %w", sessionID, key, err)
}
