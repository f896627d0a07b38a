package conformance

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// apiKeyStore returns r as a session.APIKeyStore, or skips: the role is
// optional, and a decorator over a repository without it reports
// errors.ErrUnsupported (probed with ListAPIKeys, a read).
func apiKeyStore(t *testing.T, r session.Repository) session.APIKeyStore {
	t.Helper()
	ks, ok := r.(session.APIKeyStore)
	if !ok {
		t.Skipf("%T does not implement session.APIKeyStore", r)
	}
	if _, err := ks.ListAPIKeys(context.Background()); errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the repository does not store API keys: %v", err)
	}
	return ks
}

func newKey(t *testing.T, app string, at time.Time) (string, *session.APIKey) {
	t.Helper()
	key, k, err := driver.NewAPIKey(app, "conformance", at)
	require.NoError(t, err)
	return key, k
}

func apiKeyCases() []testCase {
	return []testCase{
		{"APIKey", "CreateFindListDelete", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ks := apiKeyStore(t, r)
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			key, k1 := newKey(t, "support", t0)
			_, k2 := newKey(t, "billing", t0.Add(time.Second))
			require.NoError(t, ks.CreateAPIKey(ctx, k1))
			require.NoError(t, ks.CreateAPIKey(ctx, k2))

			got, err := ks.APIKeyByHash(ctx, driver.HashAPIKey(key))
			require.NoError(t, err)
			assert.Equal(t, k1.ID, got.ID)
			assert.Equal(t, "support", got.ApplicationName)
			assert.Equal(t, "conformance", got.Description)
			assert.True(t, k1.CreatedAt.Truncate(h.Capabilities.TimePrecision).Equal(got.CreatedAt), "%v vs %v", k1.CreatedAt, got.CreatedAt)

			list, err := ks.ListAPIKeys(ctx)
			require.NoError(t, err)
			require.Len(t, list, 2)
			assert.Equal(t, []string{k1.ID, k2.ID}, []string{list[0].ID, list[1].ID}, "oldest first")

			require.NoError(t, ks.DeleteAPIKey(ctx, k1.ID))
			_, err = ks.APIKeyByHash(ctx, k1.Hash)
			assert.ErrorIs(t, err, session.ErrNotFound)
			assert.ErrorIs(t, ks.DeleteAPIKey(ctx, k1.ID), session.ErrNotFound, "a second revoke")
			list, err = ks.ListAPIKeys(ctx)
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, k2.ID, list[0].ID)
		}},
		{"APIKey", "DuplicatesAndBadInput", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ks := apiKeyStore(t, r)
			_, k := newKey(t, "app", time.Now())
			require.NoError(t, ks.CreateAPIKey(ctx, k))
			sameID := *k
			_, other := newKey(t, "app", time.Now())
			sameID.Hash = other.Hash
			assert.ErrorIs(t, ks.CreateAPIKey(ctx, &sameID), session.ErrAlreadyExists, "same id")
			sameHash := *k
			sameHash.ID = other.ID
			assert.ErrorIs(t, ks.CreateAPIKey(ctx, &sameHash), session.ErrAlreadyExists, "same hash")
			bad := *other
			bad.ApplicationName = ""
			assert.ErrorIs(t, ks.CreateAPIKey(ctx, &bad), session.ErrInvalidArgument)
			assert.ErrorIs(t, ks.CreateAPIKey(ctx, nil), session.ErrInvalidArgument)
			_, err := ks.APIKeyByHash(ctx, "not-a-hash")
			assert.ErrorIs(t, err, session.ErrNotFound)
			assert.ErrorIs(t, ks.DeleteAPIKey(ctx, "a/b"), session.ErrInvalidArgument)
			list, err := ks.ListAPIKeys(ctx)
			require.NoError(t, err)
			assert.Len(t, list, 1, "nothing else was stored")
		}},
		{"APIKey", "KeysAreNotSessions", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ks := apiKeyStore(t, r)
			for i := range 3 {
				_, k := newKey(t, fmt.Sprintf("app-%d", i), time.Now())
				require.NoError(t, ks.CreateAPIKey(ctx, k))
			}
			page, err := r.ListSessions(ctx, session.SessionQuery{})
			require.NoError(t, err)
			assert.Empty(t, page.Sessions, "keys never appear as sessions")
		}},
		{"APIKey", "SharedByPeers", func(t *testing.T, h Harness) {
			if h.NewPeer == nil {
				t.Skip("the harness has no NewPeer")
			}
			ctx, r := setup(t, h)
			ks := apiKeyStore(t, r)
			peer := apiKeyStore(t, h.NewPeer(t, r))
			key, k := newKey(t, "app", time.Now())
			require.NoError(t, ks.CreateAPIKey(ctx, k))
			got, err := peer.APIKeyByHash(ctx, driver.HashAPIKey(key))
			require.NoError(t, err)
			assert.Equal(t, k.ID, got.ID)
			require.NoError(t, peer.DeleteAPIKey(ctx, k.ID))
			_, err = ks.APIKeyByHash(ctx, k.Hash)
			assert.ErrorIs(t, err, session.ErrNotFound, "a revocation through one instance holds for all")
		}},
		{"APIKey", "ClosedAndCancelled", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			ks := apiKeyStore(t, r)
			_, k := newKey(t, "app", time.Now())
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			assert.Error(t, ks.CreateAPIKey(cctx, k))
			require.NoError(t, r.Close())
			assert.ErrorIs(t, ks.CreateAPIKey(ctx, k), session.ErrClosed)
			_, err := ks.ListAPIKeys(ctx)
			assert.ErrorIs(t, err, session.ErrClosed)
		}},
	}
}
