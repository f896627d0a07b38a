package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// Snapshot storage (Strands' SnapshotSessionManager over its Storage
// protocol). The cases run only on repositories implementing
// session.SnapshotStore and skip with a reason otherwise.

// latestKey is the key Strands overwrites on every save of an agent.
const latestKey = "scopes/agent/" + aid + "/snapshots/snapshot_latest.json"

// largeSnapshotBytes is the size of the large-blob case: past MongoDB's
// 16 MiB document limit, so a backend that keeps a snapshot in one
// document fails it.
const largeSnapshotBytes = 20 << 20

// snapshots returns r's SnapshotStore or skips the case: the role is
// optional, and a decorator over a repository without it reports
// errors.ErrUnsupported (probed with a read in a session that does not
// exist).
func snapshots(t *testing.T, r session.Repository) session.SnapshotStore {
	t.Helper()
	s, ok := r.(session.SnapshotStore)
	if !ok {
		t.Skipf("%T does not implement session.SnapshotStore", r)
	}
	if _, err := s.GetSnapshot(context.Background(), "conformance-probe-missing", "k"); errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the repository does not store snapshots: %v", err)
	}
	return s
}

// snapshotLimit is the backend's snapshot size limit as the harness
// declares it.
func snapshotLimit(h Harness) int64 {
	if h.Capabilities.SnapshotLimit > 0 {
		return h.Capabilities.SnapshotLimit
	}
	return session.DefaultMaxSnapshotBytes
}

// blob returns n bytes of fill: a version of the overwrite case, so a mix
// of two versions shows as two fill bytes.
func blob(n int, fill byte) []byte { return bytes.Repeat([]byte{fill}, n) }

// randomBytes returns n pseudo-random bytes (seeded, so a failure repeats).
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// listSnapshotKeys pages through a session's keys with the given prefix and page
// size and returns every key in order.
func listSnapshotKeys(t *testing.T, ctx context.Context, s session.SnapshotStore, sessionID, prefix string, limit int) []string {
	t.Helper()
	keys := []string{}
	cursor := ""
	for range 1000 {
		page, err := s.ListSnapshots(ctx, sessionID, session.SnapshotQuery{Prefix: prefix, Cursor: cursor, Limit: limit})
		require.NoError(t, err, "ListSnapshots prefix %q cursor %q", prefix, cursor)
		if limit > 0 {
			require.LessOrEqual(t, len(page.Snapshots), limit, "page over the limit")
		}
		for _, info := range page.Snapshots {
			keys = append(keys, info.Key)
		}
		if page.NextCursor == "" {
			return keys
		}
		cursor = page.NextCursor
	}
	t.Fatal("ListSnapshots never returned an empty NextCursor")
	return nil
}

func snapshotCases() []testCase {
	return []testCase{
		{"Snapshot", "PutThenGetReturnsTheBytesAsStored", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			for i, data := range [][]byte{
				[]byte(`{"scope":"agent","schema_version":"1.0"}`),
				[]byte(`{"truncated": [1, 2`),        // corrupt JSON
				{0, 1, 2, 0xff, 0xfe, '\n', 0x80, 0}, // not UTF-8
				[]byte("héllo \u2028 世界"),            // not JSON at all
				{},                                   // empty
			} {
				key := fmt.Sprintf("k%d", i)
				before := time.Now().UTC()
				info, err := s.PutSnapshot(ctx, sid, key, data)
				require.NoError(t, err, "PutSnapshot %s", key)
				assert.Equal(t, key, info.Key)
				assert.Equal(t, int64(len(data)), info.SizeBytes)
				assert.False(t, info.UpdatedAt.Before(before.Truncate(h.Capabilities.TimePrecision)), "UpdatedAt %s before the call", info.UpdatedAt)
				got, err := s.GetSnapshot(ctx, sid, key)
				require.NoError(t, err, "GetSnapshot %s", key)
				assert.Equal(t, key, got.Key)
				assert.Equal(t, int64(len(data)), got.SizeBytes)
				assert.True(t, bytes.Equal(data, got.Data), "GetSnapshot %s: got %q, want %q", key, got.Data, data)
				sameTime(t, h, info.UpdatedAt, got.UpdatedAt, "UpdatedAt of Get")
			}
		}},
		{"Snapshot", "KeysAreNormalized", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			info, err := s.PutSnapshot(ctx, sid, "//scopes//agent/a/", []byte("one"))
			require.NoError(t, err)
			assert.Equal(t, "scopes/agent/a", info.Key)
			got, err := s.GetSnapshot(ctx, sid, "scopes/agent/a")
			require.NoError(t, err)
			assert.Equal(t, []byte("one"), got.Data)
			_, err = s.PutSnapshot(ctx, sid, "scopes/agent/a", []byte("two"))
			require.NoError(t, err)
			got, err = s.GetSnapshot(ctx, sid, "/scopes/agent//a")
			require.NoError(t, err)
			assert.Equal(t, []byte("two"), got.Data, "the two spellings name two snapshots")
			assert.Equal(t, []string{"scopes/agent/a"}, listSnapshotKeys(t, ctx, s, sid, "", 0))
		}},
		{"Snapshot", "MissingSessionOrKeyIsNotFound", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			_, err := s.PutSnapshot(ctx, "nope", latestKey, []byte("x"))
			requireIs(t, err, session.ErrNotFound, "PutSnapshot in a missing session")
			_, err = s.GetSnapshot(ctx, "nope", latestKey)
			requireIs(t, err, session.ErrNotFound, "GetSnapshot in a missing session")
			requireIs(t, s.DeleteSnapshot(ctx, "nope", latestKey), session.ErrNotFound, "DeleteSnapshot in a missing session")
			_, err = s.ListSnapshots(ctx, "nope", session.SnapshotQuery{})
			requireIs(t, err, session.ErrNotFound, "ListSnapshots of a missing session")
			_, err = r.GetSession(ctx, "nope")
			requireIs(t, err, session.ErrNotFound, "a snapshot write created the session")

			createSession(t, ctx, r, sid)
			_, err = s.GetSnapshot(ctx, sid, latestKey)
			requireIs(t, err, session.ErrNotFound, "GetSnapshot of a missing key")
		}},
		{"Snapshot", "DeleteIsIdempotent", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			require.NoError(t, s.DeleteSnapshot(ctx, sid, latestKey), "delete of a key never written")
			_, err := s.PutSnapshot(ctx, sid, latestKey, []byte("x"))
			require.NoError(t, err)
			_, err = s.PutSnapshot(ctx, sid, "other", []byte("y"))
			require.NoError(t, err)
			require.NoError(t, s.DeleteSnapshot(ctx, sid, "/"+latestKey+"/"), "delete by another spelling")
			require.NoError(t, s.DeleteSnapshot(ctx, sid, latestKey), "second delete")
			_, err = s.GetSnapshot(ctx, sid, latestKey)
			requireIs(t, err, session.ErrNotFound, "GetSnapshot after delete")
			assert.Equal(t, []string{"other"}, listSnapshotKeys(t, ctx, s, sid, "", 0), "delete removed another key")
		}},
		{"Snapshot", "BadKeysAreInvalidAndWriteNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			for _, key := range []string{"", "/", "a\\b", "a/../b", "..", "a/./b", "a\x00", "\xff\xfe", string(make([]byte, session.MaxSnapshotKeyBytes+1))} {
				_, err := s.PutSnapshot(ctx, sid, key, []byte("x"))
				requireIs(t, err, session.ErrInvalidArgument, fmt.Sprintf("PutSnapshot %q", key))
				var fe *session.FieldError
				require.True(t, errors.As(err, &fe), "PutSnapshot %q: %v does not name the field", key, err)
				assert.Equal(t, "key", fe.Field)
				_, err = s.GetSnapshot(ctx, sid, key)
				requireIs(t, err, session.ErrInvalidArgument, fmt.Sprintf("GetSnapshot %q", key))
				requireIs(t, s.DeleteSnapshot(ctx, sid, key), session.ErrInvalidArgument, fmt.Sprintf("DeleteSnapshot %q", key))
			}
			for _, q := range []session.SnapshotQuery{{Prefix: "a\\"}, {Limit: -1}, {Limit: session.MaxSnapshotListLimit + 1}} {
				_, err := s.ListSnapshots(ctx, sid, q)
				requireIs(t, err, session.ErrInvalidArgument, fmt.Sprintf("ListSnapshots %+v", q))
			}
			assert.Empty(t, listSnapshotKeys(t, ctx, s, sid, "", 0), "a rejected write stored something")
		}},
		{"Snapshot", "ListByPrefixInKeyOrderWithPaging", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			createSession(t, ctx, r, "other-session")
			keys := []string{
				"scopes/agent/a/snapshots/snapshot_latest.json",
				"scopes/agent/a/snapshots/immutable_history/snapshot_01900000-0000-7000-8000-000000000001.json",
				"scopes/agent/a/snapshots/immutable_history/snapshot_01900000-0000-7000-8000-000000000002.json",
				"scopes/agent/a/snapshots/immutable_history/snapshot_01900000-0000-7000-8000-000000000010.json",
				"scopes/agent/b/snapshots/snapshot_latest.json",
				"scopes/agents/x",
				"scopes/multiAgent/default_graph/snapshots/snapshot_latest.json",
				"scopes/agent/é/z",
				"scopes/agent/Z/z",
				"a",
			}
			for _, i := range rand.Perm(len(keys)) {
				_, err := s.PutSnapshot(ctx, sid, keys[i], []byte(keys[i]))
				require.NoError(t, err)
			}
			_, err := s.PutSnapshot(ctx, "other-session", "scopes/agent/a/foreign", []byte("x"))
			require.NoError(t, err)
			want := func(prefix string) []string {
				out := []string{}
				for _, k := range sortedBytes(keys) {
					if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
						out = append(out, k)
					}
				}
				return out
			}
			for _, prefix := range []string{"", "scopes/agent/", "scopes/agent/a/snapshots/immutable_history/", "scopes/agent", "scopes/m", "zzz"} {
				for _, limit := range []int{0, 1, 2, 3, 100} {
					assert.Equal(t, want(prefix), listSnapshotKeys(t, ctx, s, sid, prefix, limit), "prefix %q limit %d", prefix, limit)
				}
			}
			assert.Equal(t, want("scopes/agent/"), listSnapshotKeys(t, ctx, s, sid, "//scopes//agent/", 2), "prefix with runs of slashes")
			page, err := s.ListSnapshots(ctx, sid, session.SnapshotQuery{Prefix: "scopes/agent/a/snapshots/snapshot_latest.json"})
			require.NoError(t, err)
			require.Len(t, page.Snapshots, 1)
			assert.Equal(t, int64(len(keys[0])), page.Snapshots[0].SizeBytes)
			assert.False(t, page.Snapshots[0].UpdatedAt.IsZero())
			assert.Empty(t, page.NextCursor)
		}},
		{"Snapshot", "OverwriteIsAtomicForConcurrentReaders", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			// Sizes vary per version, so a torn read shows as a wrong length
			// or a mix of fill bytes.
			base := int(min(100<<10, snapshotLimit(h)/2))
			size := func(v int) int { return base + v*797 }
			_, err := s.PutSnapshot(ctx, sid, latestKey, blob(size(0), 0))
			require.NoError(t, err)
			const versions, readers = 10, 4
			var wg sync.WaitGroup
			done := make(chan struct{})
			errs := make(chan error, readers+1)
			for range readers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-done:
							return
						default:
						}
						// A short pause keeps readers from saturating a slow
						// shared server (FerretDB) that other cases use too.
						time.Sleep(time.Millisecond)
						got, err := s.GetSnapshot(ctx, sid, latestKey)
						if err != nil {
							errs <- fmt.Errorf("GetSnapshot during overwrites: %w", err)
							return
						}
						if len(got.Data) == 0 {
							errs <- fmt.Errorf("torn read: no bytes (size_bytes %d)", got.SizeBytes)
							return
						}
						v := int(got.Data[0])
						if len(got.Data) != size(v) || int64(len(got.Data)) != got.SizeBytes || !bytes.Equal(got.Data, blob(size(v), byte(v))) {
							errs <- fmt.Errorf("torn read: %d bytes (size_bytes %d) starting with version %d", len(got.Data), got.SizeBytes, v)
							return
						}
					}
				}()
			}
			for v := 1; v <= versions; v++ {
				if _, err := s.PutSnapshot(ctx, sid, latestKey, blob(size(v), byte(v))); err != nil {
					errs <- err
					break
				}
			}
			close(done)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			got, err := s.GetSnapshot(ctx, sid, latestKey)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(blob(size(versions), versions), got.Data), "the last write is not what is stored")
		}},
		{"Snapshot", "ConcurrentWritersOfOneKeyAllSucceedAndOneWins", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			const writers = 8
			size := int(min(40<<10, snapshotLimit(h)/2))
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.PutSnapshot(ctx, sid, latestKey, blob(size+w, byte(w)))
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err, "a concurrent first write of one key failed")
			}
			got, err := s.GetSnapshot(ctx, sid, latestKey)
			require.NoError(t, err)
			require.NotEmpty(t, got.Data)
			w := int(got.Data[0])
			assert.True(t, bytes.Equal(blob(size+w, byte(w)), got.Data), "the stored snapshot is not one writer's whole bytes")
			assert.Equal(t, []string{latestKey}, listSnapshotKeys(t, ctx, s, sid, "", 0))
		}},
		{"Snapshot", "OverLimitIsTooLargeAndWritesNothing", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			_, err := s.PutSnapshot(ctx, sid, latestKey, []byte("old"))
			require.NoError(t, err)
			over := make([]byte, snapshotLimit(h)+1)
			_, err = s.PutSnapshot(ctx, sid, latestKey, over)
			requireIs(t, err, session.ErrTooLarge, "overwrite over the limit")
			_, err = s.PutSnapshot(ctx, sid, "new", over)
			requireIs(t, err, session.ErrTooLarge, "new key over the limit")
			got, err := s.GetSnapshot(ctx, sid, latestKey)
			require.NoError(t, err)
			assert.Equal(t, []byte("old"), got.Data, "a rejected overwrite changed the snapshot")
			assert.Equal(t, []string{latestKey}, listSnapshotKeys(t, ctx, s, sid, "", 0), "a rejected write stored a key")
		}},
		{"Snapshot", "LargeSnapshotRoundTripsAndShrinks", func(t *testing.T, h Harness) {
			if testing.Short() {
				t.Skip("a 20 MiB snapshot in -short mode")
			}
			if snapshotLimit(h) < largeSnapshotBytes {
				t.Skipf("the backend's snapshot limit %d is under %d", snapshotLimit(h), largeSnapshotBytes)
			}
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			big := randomBytes(largeSnapshotBytes, 16)
			info, err := s.PutSnapshot(ctx, sid, latestKey, big)
			require.NoError(t, err)
			assert.Equal(t, int64(len(big)), info.SizeBytes)
			got, err := s.GetSnapshot(ctx, sid, latestKey)
			require.NoError(t, err)
			require.True(t, bytes.Equal(big, got.Data), "a %d-byte snapshot came back as %d different bytes", len(big), len(got.Data))
			small := []byte(`{"scope":"agent"}`)
			_, err = s.PutSnapshot(ctx, sid, latestKey, small)
			require.NoError(t, err)
			got, err = s.GetSnapshot(ctx, sid, latestKey)
			require.NoError(t, err)
			assert.Equal(t, small, got.Data, "a small overwrite of a large snapshot")
		}},
		{"Snapshot", "CopiesInAndOut", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			in := []byte("original")
			_, err := s.PutSnapshot(ctx, sid, latestKey, in)
			require.NoError(t, err)
			copy(in, "mutated!")
			got, err := s.GetSnapshot(ctx, sid, latestKey)
			require.NoError(t, err)
			assert.Equal(t, []byte("original"), got.Data, "the store shares the caller's input")
			copy(got.Data, "mutated!")
			again, err := s.GetSnapshot(ctx, sid, latestKey)
			require.NoError(t, err)
			assert.Equal(t, []byte("original"), again.Data, "the store shares its output")
		}},
		{"Snapshot", "DeleteSessionRemovesAllKeys", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			createSession(t, ctx, r, "kept")
			for _, k := range []string{latestKey, "scopes/multiAgent/g/snapshots/snapshot_latest.json", "a/b/c"} {
				_, err := s.PutSnapshot(ctx, sid, k, []byte(k))
				require.NoError(t, err)
			}
			_, err := s.PutSnapshot(ctx, "kept", latestKey, []byte("kept"))
			require.NoError(t, err)
			_, err = s.GetSnapshot(ctx, sid, latestKey) // read once, so a cache holds it
			require.NoError(t, err)
			require.NoError(t, r.DeleteSession(ctx, sid))
			_, err = s.GetSnapshot(ctx, sid, latestKey)
			requireIs(t, err, session.ErrNotFound, "GetSnapshot after DeleteSession")
			createSession(t, ctx, r, sid)
			assert.Empty(t, listSnapshotKeys(t, ctx, s, sid, "", 0), "the recreated session inherited snapshots")
			_, err = s.GetSnapshot(ctx, sid, latestKey)
			requireIs(t, err, session.ErrNotFound, "the recreated session inherited the latest snapshot")
			got, err := s.GetSnapshot(ctx, "kept", latestKey)
			require.NoError(t, err, "DeleteSession removed another session's snapshot")
			assert.Equal(t, []byte("kept"), got.Data)
		}},
		{"Snapshot", "PeerSeesWrites", func(t *testing.T, h Harness) {
			if h.NewPeer == nil {
				t.Skip("the harness has no NewPeer: the backend does not share a store between instances")
			}
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			p := snapshots(t, h.NewPeer(t, r))
			createSession(t, ctx, r, sid)
			_, err := p.GetSnapshot(ctx, sid, latestKey)
			requireIs(t, err, session.ErrNotFound, "peer read before put")
			for _, v := range []string{"v1", "v2"} {
				_, err = s.PutSnapshot(ctx, sid, latestKey, []byte(v))
				require.NoError(t, err)
				got, err := p.GetSnapshot(ctx, sid, latestKey)
				require.NoError(t, err)
				assert.Equal(t, []byte(v), got.Data, "peer read a stale snapshot")
				assert.Equal(t, []string{latestKey}, listSnapshotKeys(t, ctx, p, sid, "", 0))
			}
			require.NoError(t, s.DeleteSnapshot(ctx, sid, latestKey))
			_, err = p.GetSnapshot(ctx, sid, latestKey)
			requireIs(t, err, session.ErrNotFound, "peer read after delete")
		}},
		{"Snapshot", "ClosedRepositoryAndCancelledContext", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			s := snapshots(t, r)
			createSession(t, ctx, r, sid)
			_, err := s.PutSnapshot(ctx, sid, latestKey, []byte("x"))
			require.NoError(t, err)
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			for name, err := range snapshotCalls(cancelled, s) {
				requireIs(t, err, context.Canceled, name+" with a cancelled context")
			}
			got, err := s.GetSnapshot(ctx, sid, latestKey)
			require.NoError(t, err)
			assert.Equal(t, []byte("x"), got.Data, "a cancelled write changed the snapshot")
			require.NoError(t, r.Close())
			for name, err := range snapshotCalls(ctx, s) {
				requireIs(t, err, session.ErrClosed, name+" after Close")
			}
		}},
	}
}

// snapshotCalls calls each SnapshotStore method once on the seeded ids.
func snapshotCalls(ctx context.Context, s session.SnapshotStore) map[string]error {
	out := map[string]error{}
	_, out["PutSnapshot"] = s.PutSnapshot(ctx, sid, latestKey, []byte("changed"))
	_, out["GetSnapshot"] = s.GetSnapshot(ctx, sid, latestKey)
	out["DeleteSnapshot"] = s.DeleteSnapshot(ctx, sid, latestKey)
	_, out["ListSnapshots"] = s.ListSnapshots(ctx, sid, session.SnapshotQuery{})
	return out
}

// sortedBytes returns keys sorted in byte order (Go's string order).
func sortedBytes(keys []string) []string {
	out := slices.Clone(keys)
	sort.Strings(out)
	return out
}
