package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/session"
)

// aggregate pages through ListSessions and stops at its session cap,
// saying so, whether the cap falls inside a page or on a page boundary.
func TestAggregate_PagesAndStopsAtTheCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for i := range 7 {
		err := repo.CreateSession(ctx, &session.Session{ID: fmt.Sprintf("s-%d", i), ApplicationName: "app",
			CreatedAt: day.Add(time.Duration(i) * time.Hour)})
		require.NoError(t, err)
	}
	srv, err := New(Options{Repository: repo, AdminToken: "admin-token-0123456789abcdef",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	q := statsQuery{from: day.AddDate(0, 0, -1), to: day}
	tests := []struct {
		name             string
		cap, wantScanned int
		wantTruncated    bool
	}{
		{"cap above the store", 100, 7, false},
		{"cap inside a page", 5, 5, true},
		{"cap on a page boundary with more to read", 6, 6, true},
		{"cap equal to the store", 7, 7, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := srv.aggregate(ctx, q, 3, tt.cap)
			require.NoError(t, err)
			assert.Equal(t, tt.wantScanned, out.SessionsScanned)
			assert.Equal(t, tt.wantTruncated, out.Truncated)
			require.Len(t, out.Applications, 1)
			assert.Equal(t, []int{0, tt.wantScanned}, out.Applications[0].Sessions)
		})
	}
}

// The stats cache answers a repeated query for statsTTL, then forgets it;
// a full cache evicts rather than grows.
func TestStatsCache_ExpiresAndStaysBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	c := newStatsCache(func() time.Time { return now })
	q := statsQuery{application: "a", from: now.AddDate(0, 0, -1), to: now}
	out := &statsResponse{SessionsScanned: 1}
	assert.Nil(t, c.get(q))
	c.put(q, out)
	assert.Same(t, out, c.get(q))
	assert.Nil(t, c.get(statsQuery{application: "b", from: q.from, to: q.to}), "another application's answer")
	now = now.Add(statsTTL)
	assert.Nil(t, c.get(q), "expired")
	for i := range 3 * maxStatsCached {
		c.put(statsQuery{application: fmt.Sprint(i)}, out)
		now = now.Add(time.Millisecond)
	}
	assert.Len(t, c.entries, maxStatsCached)
	assert.Same(t, out, c.get(statsQuery{application: fmt.Sprint(3*maxStatsCached - 1)}), "the newest is kept")
}
