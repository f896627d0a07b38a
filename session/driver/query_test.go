package driver_test

import (
	"encoding/base64"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func TestPrepareQuery(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		q, c, err := driver.PrepareQuery(session.SessionQuery{Metadata: map[string]any{"n": 1}})
		require.NoError(t, err)
		assert.Nil(t, c)
		assert.Equal(t, session.DefaultPageSize, q.Limit)
		assert.Equal(t, map[string]any{"n": int64(1)}, q.Metadata, "filter values are normalized")
	})
	t.Run("max page size accepted", func(t *testing.T) {
		t.Parallel()
		q, _, err := driver.PrepareQuery(session.SessionQuery{Limit: session.MaxPageSize})
		require.NoError(t, err)
		assert.Equal(t, session.MaxPageSize, q.Limit)
	})
	t.Run("cursor decoded", func(t *testing.T) {
		t.Parallel()
		want := driver.Cursor{CreatedAt: t0, ID: "s1"}
		_, c, err := driver.PrepareQuery(session.SessionQuery{Cursor: want.Encode()})
		require.NoError(t, err)
		require.NotNil(t, c)
		assert.Equal(t, want.ID, c.ID)
		assert.True(t, want.CreatedAt.Equal(c.CreatedAt))
	})
	for name, q := range map[string]session.SessionQuery{
		"negative limit":     {Limit: -1},
		"limit over max":     {Limit: session.MaxPageSize + 1},
		"empty range":        {CreatedFrom: t0, CreatedTo: t0},
		"inverted range":     {CreatedFrom: t0.Add(time.Hour), CreatedTo: t0},
		"prefix with slash":  {IDPrefix: "a/"},
		"prefix with NUL":    {IDPrefix: "a\x00"},
		"prefix too long":    {IDPrefix: strings.Repeat("a", 257)},
		"bad metadata key":   {Metadata: map[string]any{"a.b": 1}},
		"bad metadata value": {Metadata: map[string]any{"a": nan()}},
		"malformed cursor":   {Cursor: "!!!"},
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Parallel()
			_, _, err := driver.PrepareQuery(q)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
		})
	}
}

func TestCursor_RoundTripAndMalformed(t *testing.T) {
	t.Parallel()
	in := driver.Cursor{CreatedAt: time.Date(2026, 5, 15, 10, 46, 33, 123456000, time.UTC), ID: "user@example.com"}
	enc := in.Encode()
	assert.NotContains(t, enc, "=", "URL-safe, unpadded")
	out, err := driver.DecodeCursor(enc)
	require.NoError(t, err)
	assert.Equal(t, in.ID, out.ID)
	assert.True(t, in.CreatedAt.Equal(out.CreatedAt))

	b64 := base64.RawURLEncoding.EncodeToString
	for name, s := range map[string]string{
		"empty":         "",
		"not base64":    "@@",
		"padded base64": base64.URLEncoding.EncodeToString([]byte(`{"i":"x"}`)) + "==",
		"not json":      b64([]byte("hello")),
		"no id":         b64([]byte(`{"t":"2026-01-01T00:00:00Z"}`)),
		"bad time":      b64([]byte(`{"t":"yesterday","i":"x"}`)),
		"wrong id type": b64([]byte(`{"i":5}`)),
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			t.Parallel()
			_, err := driver.DecodeCursor(s)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			assert.Contains(t, err.Error(), "cursor")
		})
	}
}

func TestNewestFirstAndCursorAfter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ss := []*session.Session{
		{ID: "a", CreatedAt: t0},
		{ID: "c", CreatedAt: t0.Add(time.Second)},
		{ID: "b", CreatedAt: t0},
		{ID: "d", CreatedAt: t0.Add(-time.Second)},
	}
	sort.Slice(ss, func(i, j int) bool { return driver.NewestFirst(ss[i], ss[j]) })
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	assert.Equal(t, []string{"c", "b", "a", "d"}, ids, "newest first, then id descending")

	// A cursor at "b" continues with exactly the sessions after it.
	c := &driver.Cursor{CreatedAt: t0, ID: "b"}
	var after []string
	for _, s := range ss {
		if c.After(s) {
			after = append(after, s.ID)
		}
	}
	assert.Equal(t, []string{"a", "d"}, after)
	var nilCursor *driver.Cursor
	assert.True(t, nilCursor.After(ss[0]), "no cursor: everything")
}

func TestSessionQueryMatches(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &session.Session{ID: "user-42", Type: session.TypeAgent, ApplicationName: "app", CreatedAt: t0,
		Metadata: map[string]any{"tier": "gold", "n": int64(3), "tags": []any{"a"}}}
	tests := []struct {
		name string
		q    session.SessionQuery
		want bool
	}{
		{"empty query", session.SessionQuery{}, true},
		{"application", session.SessionQuery{ApplicationName: "app"}, true},
		{"other application", session.SessionQuery{ApplicationName: "other"}, false},
		{"type", session.SessionQuery{Type: session.TypeAgent}, true},
		{"other type", session.SessionQuery{Type: "X"}, false},
		{"prefix", session.SessionQuery{IDPrefix: "user-"}, true},
		{"other prefix", session.SessionQuery{IDPrefix: "admin-"}, false},
		{"from inclusive", session.SessionQuery{CreatedFrom: t0}, true},
		{"from later", session.SessionQuery{CreatedFrom: t0.Add(time.Nanosecond)}, false},
		{"to exclusive", session.SessionQuery{CreatedTo: t0}, false},
		{"to later", session.SessionQuery{CreatedTo: t0.Add(time.Second)}, true},
		{"metadata equal", session.SessionQuery{Metadata: map[string]any{"tier": "gold", "n": 3}}, true},
		{"metadata nested equal", session.SessionQuery{Metadata: map[string]any{"tags": []string{"a"}}}, true},
		{"metadata int is not float", session.SessionQuery{Metadata: map[string]any{"n": 3.0}}, false},
		{"metadata differs", session.SessionQuery{Metadata: map[string]any{"tier": "silver"}}, false},
		{"metadata missing key", session.SessionQuery{Metadata: map[string]any{"absent": ""}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, _, err := driver.PrepareQuery(tt.q)
			require.NoError(t, err)
			assert.Equal(t, tt.want, q.Matches(s))
		})
	}
}
