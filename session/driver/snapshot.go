package driver

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
)

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
	case len(s) > session.MaxSnapshotKeyBytes:
		return InvalidArgument(field, "%d bytes, longer than %d", len(s), session.MaxSnapshotKeyBytes)
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
func PrepareSnapshotQuery(q session.SnapshotQuery) (session.SnapshotQuery, error) {
	var err error
	if q.Prefix, err = NormalizeSnapshotPrefix(q.Prefix); err != nil {
		return q, err
	}
	if len(q.Cursor) > session.MaxSnapshotKeyBytes || !utf8.ValidString(q.Cursor) {
		return q, InvalidArgument("cursor", "is not a cursor this store returned")
	}
	switch {
	case q.Limit < 0:
		return q, InvalidArgument("limit", "%d is negative", q.Limit)
	case q.Limit > session.MaxSnapshotListLimit:
		return q, InvalidArgument("limit", "%d is over the maximum %d", q.Limit, session.MaxSnapshotListLimit)
	case q.Limit == 0:
		q.Limit = session.DefaultSnapshotListLimit
	}
	return q, nil
}

// SnapshotPageOf builds the page from up to limit+1 infos in key order:
// backends fetch one more than the limit so the last page has an empty
// NextCursor without a further round trip.
func SnapshotPageOf(infos []session.SnapshotInfo, limit int) *session.SnapshotPage {
	page := &session.SnapshotPage{Snapshots: infos}
	if len(infos) > limit {
		page.Snapshots = infos[:limit]
		page.NextCursor = infos[limit-1].Key
	}
	if page.Snapshots == nil {
		page.Snapshots = []session.SnapshotInfo{}
	}
	return page
}

// CheckSnapshotSize returns ErrTooLarge when size is over max (max <= 0
// means DefaultMaxSnapshotBytes).
func CheckSnapshotSize(size, max int64) error {
	if max <= 0 {
		max = session.DefaultMaxSnapshotBytes
	}
	if size > max {
		return fmt.Errorf("%w: snapshot of %d bytes is over the %d-byte limit", session.ErrTooLarge, size, max)
	}
	return nil
}

// SnapshotError wraps err with the session id and key it concerns:
// `session "abc": snapshot "k": <err>`.
func SnapshotError(sessionID, key string, err error) error {
	return fmt.Errorf("session %q: snapshot %q: %w", sessionID, key, err)
}
