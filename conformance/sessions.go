package conformance

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// base is the creation time of sessions made with explicit CreatedAt; it is
// whole milliseconds so every backend keeps it exactly.
var base = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

func sessionCases() []testCase {
	return []testCase{
		{"Session", "CreateThenGetRoundTrips", func(t *testing.T, h Harness) {
			// Strands F1, F2, S5, S7; original 8.10 create/read and
			// application name stored.
			ctx, r := setup(t, h)
			before := time.Now()
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid, ApplicationName: "integration-test"}))
			got, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, sid, got.ID)
			assert.Equal(t, session.TypeAgent, got.Type, "type defaults to AGENT")
			assert.Equal(t, "integration-test", got.ApplicationName)
			assert.Empty(t, got.Metadata)
			assert.Equal(t, time.UTC, got.CreatedAt.Location())
			p := h.Capabilities.TimePrecision
			assert.False(t, got.CreatedAt.Before(before.Add(-p).Add(-time.Second)), "CreatedAt %s is set to about now", got.CreatedAt)
			assert.False(t, got.CreatedAt.After(time.Now().Add(time.Second)), "CreatedAt %s is in the future", got.CreatedAt)
			assert.False(t, got.UpdatedAt.Before(got.CreatedAt), "UpdatedAt before CreatedAt")
		}},
		{"Session", "ExplicitFieldsAreKept", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			in := &session.Session{ID: sid, Type: session.TypeAgent, ApplicationName: "app", CreatedAt: base,
				Metadata: map[string]any{"status": "", "priority": ""}}
			require.NoError(t, r.CreateSession(ctx, in))
			got, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			sameTime(t, h, base, got.CreatedAt, "CreatedAt")
			// Original 8.2 #100: metadata fields pre-filled with "".
			assert.Equal(t, map[string]any{"status": "", "priority": ""}, got.Metadata)
		}},
		{"Session", "CreateExistingIsAlreadyExistsAndKeepsOriginal", func(t *testing.T, h Harness) {
			// Strands S6: a second create fails; nothing is overwritten.
			ctx, r := setup(t, h)
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid, ApplicationName: "first",
				Metadata: map[string]any{"k": "v1"}}))
			createAgent(t, ctx, r, sid, aid)
			before := dumpSession(t, ctx, r, sid)
			err := r.CreateSession(ctx, &session.Session{ID: sid, ApplicationName: "second",
				Metadata: map[string]any{"k": "v2"}})
			requireIs(t, err, session.ErrAlreadyExists, "second CreateSession")
			assert.Equal(t, before, dumpSession(t, ctx, r, sid))
		}},
		{"Session", "GetMissingIsNotFound", func(t *testing.T, h Harness) {
			// Strands F3, S8.
			ctx, r := setup(t, h)
			_, err := r.GetSession(ctx, "nonexistent-session")
			requireIs(t, err, session.ErrNotFound, "GetSession")
		}},
		{"Session", "IDsWithDotAndAtAreAccepted", func(t *testing.T, h Harness) {
			// "." and ".." alone are refused (ErrInvalidArgument cases):
			// no URL path can address them.
			ctx, r := setup(t, h)
			for _, id := range []string{"user@example.com", "a.b.c", "v1.2@host.name", "...", ".a", "$dollar.start", strings.Repeat("x", session.MaxIDBytes)} {
				require.NoError(t, r.CreateSession(ctx, &session.Session{ID: id}), "CreateSession %q", id)
				require.NoError(t, r.CreateAgent(ctx, id, &session.Agent{ID: aid}))
				require.NoError(t, r.CreateMessage(ctx, id, aid, msg(0, id)))
				got, err := r.GetMessage(ctx, id, aid, 0)
				require.NoError(t, err, "GetMessage in %q", id)
				assert.Equal(t, id, textOf(t, got))
				s, err := r.GetSession(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, id, s.ID)
			}
		}},
		{"Session", "DeleteRemovesEverything", func(t *testing.T, h Harness) {
			// Strands F4, S9.
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 2)
			require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"k": "v"}))
			_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingUp})
			require.NoError(t, err)
			require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 1, &session.GuardrailEvent{StopReason: "guardrail_intervened"}))

			require.NoError(t, r.DeleteSession(ctx, sid))
			_, err = r.GetSession(ctx, sid)
			requireIs(t, err, session.ErrNotFound, "GetSession after delete")
			_, err = r.GetAgent(ctx, sid, aid)
			requireIs(t, err, session.ErrNotFound, "GetAgent after delete")
			_, err = r.GetMessage(ctx, sid, aid, 0)
			requireIs(t, err, session.ErrNotFound, "GetMessage after delete")
			_, err = r.ListMessages(ctx, sid, aid, 0, 0)
			requireIs(t, err, session.ErrNotFound, "ListMessages after delete")
			_, err = r.GetMetadata(ctx, sid)
			requireIs(t, err, session.ErrNotFound, "GetMetadata after delete")
			_, err = r.ListFeedback(ctx, sid)
			requireIs(t, err, session.ErrNotFound, "ListFeedback after delete")
			_, err = r.ListGuardrailEvents(ctx, sid)
			requireIs(t, err, session.ErrNotFound, "ListGuardrailEvents after delete")
			requireIs(t, r.DeleteSession(ctx, sid), session.ErrNotFound, "second DeleteSession")
			assert.Empty(t, listAll(t, ctx, r, session.SessionQuery{}))
		}},
		{"Session", "DeleteMissingIsNotFound", func(t *testing.T, h Harness) {
			// Strands F5.
			ctx, r := setup(t, h)
			requireIs(t, r.DeleteSession(ctx, "nonexistent-session"), session.ErrNotFound, "DeleteSession")
		}},
		{"Session", "RecreatedAfterDeleteStartsEmpty", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			seed(t, ctx, r)
			appendN(t, ctx, r, sid, aid, 3)
			require.NoError(t, r.UpdateMetadata(ctx, sid, map[string]any{"k": "v"}))
			_, err := r.AddFeedback(ctx, sid, &session.Feedback{Rating: session.RatingDown})
			require.NoError(t, err)
			require.NoError(t, r.RecordGuardrailEvent(ctx, sid, aid, 0, &session.GuardrailEvent{}))
			require.NoError(t, r.DeleteSession(ctx, sid))

			createSession(t, ctx, r, sid)
			d := dumpSession(t, ctx, r, sid)
			assert.Empty(t, d.Metadata)
			assert.Empty(t, d.Agents)
			assert.Empty(t, d.Feedback)
			assert.Empty(t, d.Guardrails)
			createAgent(t, ctx, r, sid, aid)
			n, err := r.CountMessages(ctx, sid, aid)
			require.NoError(t, err)
			assert.Zero(t, n, "old messages came back")
			require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(0, "fresh")))
		}},
		{"Session", "DeleteLeavesOtherSessions", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			for _, id := range []string{"keep", sid, "keep2"} {
				createSession(t, ctx, r, id)
				createAgent(t, ctx, r, id, aid)
				appendN(t, ctx, r, id, aid, 2)
			}
			before := dumpSession(t, ctx, r, "keep")
			require.NoError(t, r.DeleteSession(ctx, sid))
			assert.Equal(t, before, dumpSession(t, ctx, r, "keep"))
			assert.ElementsMatch(t, []string{"keep", "keep2"}, sessionIDs(listAll(t, ctx, r, session.SessionQuery{})))
		}},
		{"Session", "UpdatedAtMovesOnWritesCreatedAtDoesNot", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: sid, CreatedAt: base}))
			require.NoError(t, r.CreateAgent(ctx, sid, &session.Agent{ID: aid}))
			require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(0, "x")))
			got, err := r.GetSession(ctx, sid)
			require.NoError(t, err)
			sameTime(t, h, base, got.CreatedAt, "CreatedAt after writes")
			assert.True(t, got.UpdatedAt.After(base), "UpdatedAt %s did not move past %s", got.UpdatedAt, base)
		}},
		{"Session", "ConcurrentCreatesOfOneIDExactlyOneWins", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			const n = 16
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = r.CreateSession(ctx, &session.Session{ID: sid, ApplicationName: "writer",
						Metadata: map[string]any{"writer": int64(i)}})
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					require.Equal(t, -1, winner, "writers %d and %d both succeeded", winner, i)
					winner = i
					continue
				}
				requireIs(t, err, session.ErrAlreadyExists, "losing CreateSession")
			}
			require.NotEqual(t, -1, winner, "no writer succeeded")
			md, err := r.GetMetadata(ctx, sid)
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"writer": int64(winner)}, md, "the stored session is the winner's")
		}},
	}
}

func listSessionCases() []testCase {
	// mk creates sessions with explicit creation times base+offset.
	type spec struct {
		id     string
		offset time.Duration
		app    string
		md     map[string]any
	}
	create := func(t *testing.T, h Harness, specs ...spec) session.Repository {
		t.Helper()
		ctx, r := setup(t, h)
		for _, s := range specs {
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: s.id, ApplicationName: s.app,
				CreatedAt: base.Add(s.offset), Metadata: s.md}))
		}
		return r
	}
	ids := func(t *testing.T, h Harness, r session.Repository, q session.SessionQuery) []string {
		t.Helper()
		ctx, cancel := contextFor(t)
		defer cancel()
		return sessionIDs(listAll(t, ctx, r, q))
	}
	return []testCase{
		{"ListSessions", "EmptyStoreGivesEmptyLastPage", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			page, err := r.ListSessions(ctx, session.SessionQuery{})
			require.NoError(t, err)
			assert.Empty(t, page.Sessions)
			assert.Empty(t, page.NextCursor)
		}},
		{"ListSessions", "NewestFirstThenIDDescending", func(t *testing.T, h Harness) {
			r := create(t, h,
				spec{id: "old", offset: 0},
				spec{id: "new", offset: 2 * time.Hour},
				spec{id: "mid-a", offset: time.Hour},
				spec{id: "mid-b", offset: time.Hour},
			)
			assert.Equal(t, []string{"new", "mid-b", "mid-a", "old"}, ids(t, h, r, session.SessionQuery{}))
		}},
		{"ListSessions", "ReturnsFullSessions", func(t *testing.T, h Harness) {
			r := create(t, h, spec{id: sid, app: "app", md: map[string]any{"k": "v", "n": int64(3)}})
			ctx, cancel := contextFor(t)
			defer cancel()
			page, err := r.ListSessions(ctx, session.SessionQuery{})
			require.NoError(t, err)
			require.Len(t, page.Sessions, 1)
			got := page.Sessions[0]
			assert.Equal(t, "app", got.ApplicationName)
			assert.Equal(t, session.TypeAgent, got.Type)
			assert.Equal(t, map[string]any{"k": "v", "n": int64(3)}, got.Metadata)
			sameTime(t, h, base, got.CreatedAt, "CreatedAt")
		}},
		{"ListSessions", "FilterByApplicationName", func(t *testing.T, h Harness) {
			r := create(t, h,
				spec{id: "a1", app: "alpha", offset: 1 * time.Second}, spec{id: "b1", app: "beta", offset: 2 * time.Second},
				spec{id: "a2", app: "alpha", offset: 3 * time.Second}, spec{id: "none"},
			)
			assert.Equal(t, []string{"a2", "a1"}, ids(t, h, r, session.SessionQuery{ApplicationName: "alpha"}))
			assert.Empty(t, ids(t, h, r, session.SessionQuery{ApplicationName: "gamma"}))
		}},
		{"ListSessions", "FilterByType", func(t *testing.T, h Harness) {
			r := create(t, h, spec{id: "x", offset: time.Second}, spec{id: "y"})
			assert.Equal(t, []string{"x", "y"}, ids(t, h, r, session.SessionQuery{Type: session.TypeAgent}))
			assert.Empty(t, ids(t, h, r, session.SessionQuery{Type: "MULTI_AGENT"}))
		}},
		{"ListSessions", "FilterByIDPrefix", func(t *testing.T, h Harness) {
			r := create(t, h,
				spec{id: "user@a.com", offset: 1 * time.Second}, spec{id: "user@b.com", offset: 2 * time.Second},
				spec{id: "usr", offset: 3 * time.Second}, spec{id: "user.1", offset: 4 * time.Second},
			)
			assert.Equal(t, []string{"user.1", "user@b.com", "user@a.com"}, ids(t, h, r, session.SessionQuery{IDPrefix: "user"}))
			assert.Equal(t, []string{"user@b.com", "user@a.com"}, ids(t, h, r, session.SessionQuery{IDPrefix: "user@"}))
			// A prefix is literal, never a pattern.
			assert.Empty(t, ids(t, h, r, session.SessionQuery{IDPrefix: "user.@"}))
			assert.Equal(t, []string{"user.1"}, ids(t, h, r, session.SessionQuery{IDPrefix: "user."}))
			assert.Empty(t, ids(t, h, r, session.SessionQuery{IDPrefix: ".*"}))
		}},
		{"ListSessions", "FilterByMetadataEquality", func(t *testing.T, h Harness) {
			r := create(t, h,
				spec{id: "open-hi", offset: 1 * time.Second, md: map[string]any{"status": "open", "priority": "high", "n": int64(1)}},
				spec{id: "open-lo", offset: 2 * time.Second, md: map[string]any{"status": "open", "priority": "low", "n": int64(2)}},
				spec{id: "closed", offset: 3 * time.Second, md: map[string]any{"status": "closed", "priority": "high"}},
				spec{id: "bare", offset: 4 * time.Second},
			)
			assert.Equal(t, []string{"open-lo", "open-hi"}, ids(t, h, r, session.SessionQuery{Metadata: map[string]any{"status": "open"}}))
			assert.Equal(t, []string{"open-hi"}, ids(t, h, r, session.SessionQuery{Metadata: map[string]any{"status": "open", "priority": "high"}}))
			assert.Equal(t, []string{"open-lo"}, ids(t, h, r, session.SessionQuery{Metadata: map[string]any{"n": 2}}))
			assert.Empty(t, ids(t, h, r, session.SessionQuery{Metadata: map[string]any{"status": "pending"}}))
		}},
		{"ListSessions", "FilterByCreatedRangeIsHalfOpen", func(t *testing.T, h Harness) {
			r := create(t, h,
				spec{id: "s0", offset: 0}, spec{id: "s1", offset: time.Minute},
				spec{id: "s2", offset: 2 * time.Minute}, spec{id: "s3", offset: 3 * time.Minute},
			)
			q := session.SessionQuery{CreatedFrom: base.Add(time.Minute), CreatedTo: base.Add(3 * time.Minute)}
			assert.Equal(t, []string{"s2", "s1"}, ids(t, h, r, q))
			assert.Equal(t, []string{"s3", "s2"}, ids(t, h, r, session.SessionQuery{CreatedFrom: base.Add(2 * time.Minute)}))
			assert.Equal(t, []string{"s0"}, ids(t, h, r, session.SessionQuery{CreatedTo: base.Add(time.Minute)}))
		}},
		{"ListSessions", "CursorPagesHaveNoDuplicatesOrOmissions", func(t *testing.T, h Harness) {
			var specs []spec
			for i := range 23 {
				// Groups of three share a creation time, so the id tie-break
				// is exercised across page boundaries.
				specs = append(specs, spec{id: "s" + string(rune('a'+i)), offset: time.Duration(i/3) * time.Second})
			}
			r := create(t, h, specs...)
			all := ids(t, h, r, session.SessionQuery{Limit: session.MaxPageSize})
			require.Len(t, all, 23)
			for _, limit := range []int{1, 3, 5, 7} {
				assert.Equal(t, all, ids(t, h, r, session.SessionQuery{Limit: limit}), "limit %d", limit)
			}
		}},
		{"ListSessions", "CursorIsStableUnderInserts", func(t *testing.T, h Harness) {
			var specs []spec
			for i := range 10 {
				specs = append(specs, spec{id: "s" + string(rune('a'+i)), offset: time.Duration(i) * time.Minute})
			}
			r := create(t, h, specs...)
			ctx, cancel := contextFor(t)
			defer cancel()
			first, err := r.ListSessions(ctx, session.SessionQuery{Limit: 4})
			require.NoError(t, err)
			require.Equal(t, []string{"sj", "si", "sh", "sg"}, sessionIDs(first.Sessions))
			require.NotEmpty(t, first.NextCursor)
			// Newer than the cursor: not listed by the continuation. Older:
			// listed once.
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "newer", CreatedAt: base.Add(time.Hour)}))
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "older", CreatedAt: base.Add(-time.Hour)}))
			rest := listAll(t, ctx, r, session.SessionQuery{Limit: 4, Cursor: first.NextCursor})
			assert.Equal(t, []string{"sf", "se", "sd", "sc", "sb", "sa", "older"}, sessionIDs(rest))
		}},
		{"ListSessions", "FiltersAndCursorCombine", func(t *testing.T, h Harness) {
			var specs []spec
			for i := range 12 {
				app := "even"
				if i%2 == 1 {
					app = "odd"
				}
				specs = append(specs, spec{id: "s" + string(rune('a'+i)), app: app, offset: time.Duration(i) * time.Second})
			}
			r := create(t, h, specs...)
			assert.Equal(t, []string{"sl", "sj", "sh", "sf", "sd", "sb"}, ids(t, h, r, session.SessionQuery{ApplicationName: "odd", Limit: 4}))
		}},
	}
}
