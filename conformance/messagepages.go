package conformance

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// Several pages of a message log in one read (session.MessagePagesReader),
// which session/manager uses to resume a pinned head. The cases run only
// on repositories implementing the role and skip otherwise.

func messagePagesReader(t *testing.T, r session.Repository) session.MessagePagesReader {
	t.Helper()
	pr, ok := r.(session.MessagePagesReader)
	if !ok {
		t.Skipf("%T does not implement session.MessagePagesReader", r)
	}
	return pr
}

// page is the page at offset o of at most l messages (l <= 0: to the end).
func page(o, l int) session.MessagePage { return session.MessagePage{Offset: o, Limit: l} }

// orEmpty makes a nil page an empty one, so pages compare by content.
func orEmpty(ms []*session.Message) []*session.Message {
	if ms == nil {
		return []*session.Message{}
	}
	return ms
}

func messagePagesCases() []testCase {
	return []testCase{
		{"MessagePages", "EachPageIsWhatListMessagesReturns", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			pr := messagePagesReader(t, r)
			seed(t, ctx, r)
			createAgent(t, ctx, r, sid, "empty")
			const total = 6
			for i := range total {
				require.NoError(t, r.CreateMessage(ctx, sid, aid, msg(i, fmt.Sprintf("m%d", i))))
			}
			pages := []session.MessagePage{page(0, 2), page(4, 0), page(1, 3), page(total, 0), page(total+3, 2), page(0, 0), page(5, 10)}
			got, err := pr.ListMessagePages(ctx, sid, aid, pages)
			require.NoError(t, err)
			assert.Equal(t, total, got.Count)
			require.Len(t, got.Pages, len(pages))
			for i, p := range pages {
				want, err := r.ListMessages(ctx, sid, aid, p.Offset, p.Limit)
				require.NoError(t, err)
				assert.Equal(t, orEmpty(want), orEmpty(got.Pages[i]), "page %d %+v", i, p)
			}
			got, err = pr.ListMessagePages(ctx, sid, "empty", []session.MessagePage{page(0, 1), page(0, 0)})
			require.NoError(t, err)
			assert.Equal(t, 0, got.Count)
			assert.Empty(t, got.Pages[0])
			assert.Empty(t, got.Pages[1])
		}},
		{"MessagePages", "ErrorsAreTyped", func(t *testing.T, h Harness) {
			ctx, r := setup(t, h)
			pr := messagePagesReader(t, r)
			seed(t, ctx, r)
			one := []session.MessagePage{page(0, 1)}
			_, err := pr.ListMessagePages(ctx, "no-such-session", aid, one)
			assert.ErrorIs(t, err, session.ErrNotFound, "missing session")
			_, err = pr.ListMessagePages(ctx, sid, "no-such-agent", one)
			assert.ErrorIs(t, err, session.ErrNotFound, "missing agent")
			_, err = pr.ListMessagePages(ctx, sid, aid, []session.MessagePage{page(0, 1), page(-1, 0)})
			assert.ErrorIs(t, err, session.ErrInvalidArgument, "negative offset")
			assert.ErrorContains(t, err, "offset")
			_, err = pr.ListMessagePages(ctx, sid, aid, nil)
			assert.ErrorIs(t, err, session.ErrInvalidArgument, "no pages")
			_, err = pr.ListMessagePages(ctx, sid, "a.b", one)
			assert.ErrorIs(t, err, session.ErrInvalidArgument, "bad agent id")
		}},
	}
}
