package mongotest_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/mongo"
	"github.com/sessionkit/sessionkit/session"
)

// texts returns the first text of each message, and ids their ids.
func texts(msgs []*session.Message) (out []string, ids []int) {
	for _, m := range msgs {
		s, _ := m.Message.Content[0].Text()
		out = append(out, s)
		ids = append(ids, m.ID)
	}
	return out, ids
}

// TestNonDenseAgent_ReadWithoutErrorWritesNeverMakeItWorse: an agent that a
// foreign writer left with duplicate and missing ids is read in full, in
// array order, without error; reads and updates by id address the element
// at the id's position when it holds the id, else the first that does;
// appends never add a duplicate (a taken next id is session.ErrMessageIDs,
// nothing written); the condition is reported by CheckMessages and
// repaired by RenumberMessages, idempotently, losing nothing.
func TestNonDenseAgent_ReadWithoutErrorWritesNeverMakeItWorse(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, c, _ := newRepo(t, uri, mongo.Options{})
			ctx := ctxT(t)
			orig := newOriginal(c, r.Database(), r.Collection())
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
			require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
			for i := range 4 {
				require.NoError(t, r.CreateMessage(ctx, "s", "a", textMessage(i, fmt.Sprintf("m%d", i))))
			}
			require.NoError(t, orig.createMessage(ctx, "s", "a", 2, textChat("user", "py2")))
			require.NoError(t, orig.createMessage(ctx, "s", "a", 3, textChat("user", "py3")))

			msgs, err := r.ListMessages(ctx, "s", "a", 0, 0)
			require.NoError(t, err, "read without error")
			got, ids := texts(msgs)
			assert.Equal(t, []string{"m0", "m1", "m2", "m3", "py2", "py3"}, got, "every element, array order")
			assert.Equal(t, []int{0, 1, 2, 3, 2, 3}, ids)
			page, err := r.ListMessages(ctx, "s", "a", 3, 2)
			require.NoError(t, err)
			got, _ = texts(page)
			assert.Equal(t, []string{"m3", "py2"}, got, "offsets are array positions")
			n, err := r.CountMessages(ctx, "s", "a")
			require.NoError(t, err)
			assert.Equal(t, 6, n)

			rep, err := r.CheckMessages(ctx, "s", "a")
			require.NoError(t, err)
			require.NotNil(t, rep)
			assert.Equal(t, []int{2, 3}, rep.Duplicates)
			assert.Equal(t, []int{4, 5}, rep.Missing)

			m, err := r.GetMessage(ctx, "s", "a", 2)
			require.NoError(t, err)
			got, _ = texts([]*session.Message{m})
			assert.Equal(t, []string{"m2"}, got, "id 2 at position 2")
			_, err = r.GetMessage(ctx, "s", "a", 4)
			assert.ErrorIs(t, err, session.ErrNotFound, "no element holds id 4")
			red := chat(session.RoleUser, "redacted")
			m.RedactMessage = &red
			require.NoError(t, r.UpdateMessage(ctx, "s", "a", m))
			require.NoError(t, r.RecordGuardrailEvent(ctx, "s", "a", 3, &session.GuardrailEvent{Action: "BLOCKED"}))
			msgs, err = r.ListMessages(ctx, "s", "a", 0, 0)
			require.NoError(t, err)
			assert.NotNil(t, msgs[2].RedactMessage, "the update hit position 2")
			assert.Nil(t, msgs[4].RedactMessage, "and not the other element holding id 2")
			assert.NotNil(t, msgs[3].GuardrailEvent)
			assert.Nil(t, msgs[5].GuardrailEvent)

			// The next id is the count: 6 is free, so the append lands there.
			id, err := r.AppendMessage(ctx, "s", "a", textMessage(0, "go6"))
			require.NoError(t, err)
			assert.Equal(t, 6, id)
			// A foreign id 8 at position 7 takes the next id: refused, nothing written.
			require.NoError(t, orig.createMessage(ctx, "s", "a", 8, textChat("user", "py8")))
			err = r.CreateMessage(ctx, "s", "a", textMessage(8, "go8"))
			assert.ErrorIs(t, err, session.ErrMessageIDs)
			_, err = r.AppendMessage(ctx, "s", "a", textMessage(0, "go8"))
			assert.ErrorIs(t, err, session.ErrMessageIDs)
			var report *session.MessageIDReport
			require.ErrorAs(t, err, &report)
			assert.Equal(t, 8, report.Count)
			n, err = r.CountMessages(ctx, "s", "a")
			require.NoError(t, err)
			assert.Equal(t, 8, n, "nothing written")

			// Out of place: id 1 at position 2 behind a foreign 7.
			require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "b"}))
			require.NoError(t, orig.createMessage(ctx, "s", "b", 0, textChat("user", "b0")))
			require.NoError(t, orig.createMessage(ctx, "s", "b", 7, textChat("user", "b7")))
			require.NoError(t, orig.createMessage(ctx, "s", "b", 1, textChat("user", "b1")))
			mb, err := r.GetMessage(ctx, "s", "b", 1)
			require.NoError(t, err)
			got, _ = texts([]*session.Message{mb})
			assert.Equal(t, []string{"b1"}, got, "the first element holding the id")
			mb.RedactMessage = &red
			require.NoError(t, r.UpdateMessage(ctx, "s", "b", mb))
			bs, err := r.ListMessages(ctx, "s", "b", 0, 0)
			require.NoError(t, err)
			assert.Nil(t, bs[1].RedactMessage)
			assert.NotNil(t, bs[2].RedactMessage, "the update hit the element GetMessage returned")

			// Repair: renumber in array order, nothing lost, idempotent.
			changed, err := r.RenumberMessages(ctx, "s", "a")
			require.NoError(t, err)
			assert.Equal(t, 3, changed, "positions 4, 5 and 7")
			changed, err = r.RenumberMessages(ctx, "s", "a")
			require.NoError(t, err)
			assert.Zero(t, changed)
			msgs, err = r.ListMessages(ctx, "s", "a", 0, 0)
			require.NoError(t, err)
			got, ids = texts(msgs)
			assert.Equal(t, []string{"m0", "m1", "m2", "m3", "py2", "py3", "go6", "py8"}, got)
			assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, ids)
			assert.NotNil(t, msgs[2].RedactMessage, "renumbering keeps every other field")
			assert.NotNil(t, msgs[3].GuardrailEvent)
			id, err = r.AppendMessage(ctx, "s", "a", textMessage(0, "go8"))
			require.NoError(t, err)
			assert.Equal(t, 8, id)
			requireDenseIDs(t, r, "s", "a", 9)
			_, err = r.RenumberMessages(ctx, "s", "nobody")
			assert.ErrorIs(t, err, session.ErrNotFound)
		})
	}
}

// TestAppendMessage_ConcurrentWritersNeverDuplicateIDs: writers appending
// to one agent at once, through one repository and (on servers with atomic
// updates) through a second one with its own client and hints, as another
// process would, all succeed with distinct ids that end up dense.
func TestAppendMessage_ConcurrentWritersNeverDuplicateIDs(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			uri, _ := srv.start(t)
			r, _, _ := newRepo(t, uri, mongo.Options{})
			repos := []*mongo.Repository{r}
			if r.Capabilities().AtomicUpdates {
				peer, _, _ := newRepo(t, uri, mongo.Options{Database: r.Database()})
				repos = append(repos, peer)
			}
			ctx := ctxT(t)
			require.NoError(t, r.CreateSession(ctx, &session.Session{ID: "s"}))
			require.NoError(t, r.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
			const writers, each = 6, 12
			var mu sync.Mutex
			byID := map[int]string{}
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					repo := repos[w%len(repos)]
					for i := range each {
						text := fmt.Sprintf("w%d-%d", w, i)
						id, err := repo.AppendMessage(ctx, "s", "a", textMessage(0, text))
						if !assert.NoError(t, err) {
							return
						}
						mu.Lock()
						assert.NotContains(t, byID, id, "id %d handed out twice", id)
						byID[id] = text
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			requireDenseIDs(t, r, "s", "a", writers*each)
			msgs, err := r.ListMessages(ctx, "s", "a", 0, 0)
			require.NoError(t, err)
			for _, m := range msgs {
				s, _ := m.Message.Content[0].Text()
				assert.Equal(t, byID[m.ID], s, "message %d is the one AppendMessage returned it for", m.ID)
			}
		})
	}
}
