package conformance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// forkExpiryCases check how forks and expiry meet: an expired source
// cannot be forked, an expired session's id is free for a fork as it is for
// CreateSession, and a fork keeps its source's expiry (whole-session and
// agent forks alike), so copying a conversation never escapes its
// retention.
func forkExpiryCases() []testCase {
	return []testCase{
		{"ForkExpiry", "ExpiredSourceIsNotFoundAndWritesNothing", func(t *testing.T, h Harness) {
			ctx, r, _, clock := expiring(t, h)
			f := forker(t, r)
			fill(t, ctx, r, sid, clock.Now().Add(time.Minute))
			clock.Advance(time.Minute)
			for _, req := range []session.ForkRequest{
				{SourceID: sid, ID: "fork-whole"},
				{SourceID: sid, ID: "fork-agent", AgentID: aid},
			} {
				_, err := f.ForkSession(ctx, req)
				assert.ErrorIs(t, err, session.ErrNotFound, "fork of an expired source %+v", req)
				_, err = r.GetSession(ctx, req.ID)
				assert.ErrorIs(t, err, session.ErrNotFound, "nothing written for %+v", req)
			}
		}},
		{"ForkExpiry", "ExpiredIDIsFreeForAFork", func(t *testing.T, h Harness) {
			ctx, r, _, clock := expiring(t, h)
			f := forker(t, r)
			fill(t, ctx, r, "old", clock.Now().Add(time.Minute))
			fill(t, ctx, r, sid, time.Time{})
			clock.Advance(time.Minute)
			got, err := f.ForkSession(ctx, session.ForkRequest{SourceID: sid, ID: "old"})
			require.NoError(t, err, "an expired session's id is free again")
			require.NotNil(t, got.ForkedFrom)
			assert.Equal(t, sid, got.ForkedFrom.SessionID)
			assert.True(t, got.ExpiresAt.IsZero(), "the fork has its source's expiry (none), not the old session's")
			msgs, err := r.ListMessages(ctx, "old", aid, 0, 0)
			require.NoError(t, err)
			assert.Len(t, msgs, 2, "the fork's messages, none of the expired session's left over")
		}},
		{"ForkExpiry", "ForkKeepsTheSourceExpiry", func(t *testing.T, h Harness) {
			ctx, r, _, clock := expiring(t, h)
			f := forker(t, r)
			at := clock.Now().Add(time.Hour)
			fill(t, ctx, r, sid, at)
			for _, req := range []session.ForkRequest{
				{SourceID: sid, ID: "fork-whole"},
				{SourceID: sid, ID: "fork-agent", AgentID: aid},
			} {
				got, err := f.ForkSession(ctx, req)
				require.NoError(t, err, "%+v", req)
				assert.True(t, got.ExpiresAt.Equal(at), "%+v returned ExpiresAt %v, want %v", req, got.ExpiresAt, at)
				stored, err := r.GetSession(ctx, req.ID)
				require.NoError(t, err)
				assert.True(t, stored.ExpiresAt.Equal(at), "%+v stored ExpiresAt %v, want %v", req, stored.ExpiresAt, at)
			}
			clock.Advance(time.Hour)
			for _, id := range []string{"fork-whole", "fork-agent"} {
				_, err := r.GetSession(ctx, id)
				assert.ErrorIs(t, err, session.ErrNotFound, "%s expires with its source", id)
			}
		}},
	}
}
