package driver

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

func TestNormalizeSnapshotKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"snapshot_latest.json", "snapshot_latest.json"},
		{"scopes/agent/a1/snapshots/snapshot_latest.json", "scopes/agent/a1/snapshots/snapshot_latest.json"},
		{"/a//b///c/", "a/b/c"},
		{"a/.b/..c/d.", "a/.b/..c/d."},
		{"héllo/世界", "héllo/世界"},
		{strings.Repeat("k", session.MaxSnapshotKeyBytes), strings.Repeat("k", session.MaxSnapshotKeyBytes)},
	} {
		got, err := NormalizeSnapshotKey(tc.in)
		require.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		assert.NoError(t, ValidateSnapshotKey(tc.in))
	}
	for _, bad := range []string{"", "/", "///", "a\\b", "a/../b", "..", "./a", "a/.", "a\x00b", "a\nb", "a\x7fb",
		"\xff", strings.Repeat("k", session.MaxSnapshotKeyBytes+1)} {
		_, err := NormalizeSnapshotKey(bad)
		require.ErrorIs(t, err, session.ErrInvalidArgument, "%q", bad)
		var fe *session.FieldError
		require.True(t, errors.As(err, &fe), "%q", bad)
		assert.Equal(t, "key", fe.Field)
		assert.ErrorIs(t, ValidateSnapshotKey(bad), session.ErrInvalidArgument)
	}
}

func TestPrepareSnapshotQuery(t *testing.T) {
	t.Parallel()
	q, err := PrepareSnapshotQuery(session.SnapshotQuery{Prefix: "//scopes//agent/"})
	require.NoError(t, err)
	assert.Equal(t, session.SnapshotQuery{Prefix: "scopes/agent/", Limit: session.DefaultSnapshotListLimit}, q)
	q, err = PrepareSnapshotQuery(session.SnapshotQuery{Prefix: "..", Limit: session.MaxSnapshotListLimit})
	require.NoError(t, err)
	assert.Equal(t, "..", q.Prefix)
	for _, tc := range []struct {
		q     session.SnapshotQuery
		field string
	}{
		{session.SnapshotQuery{Prefix: "a\\"}, "prefix"},
		{session.SnapshotQuery{Prefix: "a\x01"}, "prefix"},
		{session.SnapshotQuery{Cursor: "\xff"}, "cursor"},
		{session.SnapshotQuery{Limit: -1}, "limit"},
		{session.SnapshotQuery{Limit: session.MaxSnapshotListLimit + 1}, "limit"},
	} {
		_, err := PrepareSnapshotQuery(tc.q)
		var fe *session.FieldError
		require.True(t, errors.As(err, &fe), "%+v: %v", tc.q, err)
		assert.Equal(t, tc.field, fe.Field)
	}
}

func TestSnapshotPageOf(t *testing.T) {
	t.Parallel()
	infos := []session.SnapshotInfo{{Key: "a"}, {Key: "b"}, {Key: "c"}}
	p := SnapshotPageOf(infos, 2)
	assert.Equal(t, infos[:2], p.Snapshots)
	assert.Equal(t, "b", p.NextCursor)
	p = SnapshotPageOf(infos, 3)
	assert.Equal(t, infos, p.Snapshots)
	assert.Empty(t, p.NextCursor)
	assert.NotNil(t, SnapshotPageOf(nil, 3).Snapshots)
}

func TestCheckSnapshotSize(t *testing.T) {
	t.Parallel()
	assert.NoError(t, CheckSnapshotSize(10, 10))
	assert.ErrorIs(t, CheckSnapshotSize(11, 10), session.ErrTooLarge)
	assert.NoError(t, CheckSnapshotSize(session.DefaultMaxSnapshotBytes, 0))
	assert.ErrorIs(t, CheckSnapshotSize(session.DefaultMaxSnapshotBytes+1, 0), session.ErrTooLarge)
}

// A normalized key is a fixed point, has no empty, "." or ".." segment and
// no backslash; a rejected key is session.ErrInvalidArgument naming "key".
func FuzzNormalizeSnapshotKey(f *testing.F) {
	for _, s := range []string{"a", "/a//b/", "..", "a/../b", "a\\b", "é/ü", "\xff", "a/./b", "scopes/agent/x/snapshots/snapshot_latest.json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		got, err := NormalizeSnapshotKey(key)
		if err != nil {
			var fe *session.FieldError
			if !errors.As(err, &fe) || fe.Field != "key" {
				t.Fatalf("%q: error %v does not name the key", key, err)
			}
			return
		}
		again, err := NormalizeSnapshotKey(got)
		if err != nil || again != got {
			t.Fatalf("%q -> %q -> %q, %v: not a fixed point", key, got, again, err)
		}
		if got == "" || strings.Contains(got, "//") || strings.HasPrefix(got, "/") || strings.HasSuffix(got, "/") || strings.ContainsRune(got, '\\') {
			t.Fatalf("%q -> %q", key, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q -> %q keeps a %q segment", key, got, seg)
			}
		}
	})
}
