package hooks

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

func routes(good, bad, neutral string) FeedbackSNSOptions {
	return FeedbackSNSOptions{
		Good:    FeedbackRoute{TopicARN: good},
		Bad:     FeedbackRoute{TopicARN: bad},
		Neutral: FeedbackRoute{TopicARN: neutral},
	}
}

func TestFeedbackSNS_RoutesByRating(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rating    session.Rating
		wantTopic string
		wantText  string
	}{
		{session.RatingUp, "arn:good", "positive"},
		{session.RatingDown, "arn:bad", "negative"},
		{session.RatingNone, "arn:neutral", "neutral"},
	}
	for _, tt := range tests {
		t.Run(string(tt.rating), func(t *testing.T) {
			t.Parallel()
			pub := &recordingSNS{}
			opts := routes("arn:good", "arn:bad", "arn:neutral")
			opts.Delivery = fastDelivery(nil)
			h, err := NewFeedbackSNS(pub, opts)
			require.NoError(t, err)
			m := newManager(t, "sess-1", h.Hook)
			stored, err := m.AddFeedback(t.Context(), &session.Feedback{Rating: tt.rating, Comment: "thanks"})
			require.NoError(t, err)
			closeHook(t, h)

			got := pub.published()
			require.Len(t, got, 1)
			in := got[0]
			assert.Equal(t, tt.wantTopic, aws.ToString(in.TopicArn))
			assert.Equal(t, "Feedback "+tt.wantText+" on session sess-1", aws.ToString(in.Subject))
			assert.Contains(t, aws.ToString(in.Message), "Session: sess-1")
			assert.Contains(t, aws.ToString(in.Message), "thanks")
			assert.Contains(t, aws.ToString(in.Message), formatTimestamp(stored.CreatedAt))
			assert.Equal(t, "sess-1", aws.ToString(in.MessageAttributes["session_id"].StringValue))
			assert.Equal(t, tt.wantText, aws.ToString(in.MessageAttributes["rating"].StringValue))
			assert.Nil(t, in.MessageGroupId, "standard topic")
			assert.Equal(t, Stats{Sent: 1}, h.Stats())
		})
	}
}

func TestFeedbackSNS_NoneTopicDisablesOnlyItsRoute(t *testing.T) {
	t.Parallel()
	pub := &recordingSNS{}
	h, err := NewFeedbackSNS(pub, routes("arn:good", TopicNone, "arn:neutral"))
	require.NoError(t, err)
	m := newManager(t, "s", h.Hook)
	_, err = m.AddFeedback(t.Context(), &session.Feedback{Rating: session.RatingDown})
	require.NoError(t, err)
	_, err = m.AddFeedback(t.Context(), &session.Feedback{Rating: session.RatingUp})
	require.NoError(t, err)
	closeHook(t, h)
	got := pub.published()
	require.Len(t, got, 1)
	assert.Equal(t, "arn:good", aws.ToString(got[0].TopicArn))
}

func TestNewFeedbackSNS_RejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  FeedbackSNSOptions
		field string
	}{
		{"empty good topic", routes("", "b", "n"), "good topic"},
		{"empty neutral topic", routes("g", "b", ""), "neutral topic"},
		{"unparsable subject", func() FeedbackSNSOptions {
			o := routes("g", "b", "n")
			o.Bad.Subject = "{{.Rating"
			return o
		}(), "bad subject template"},
		{"unknown field in body", func() FeedbackSNSOptions {
			o := routes("g", "b", "n")
			o.Good.Body = "{{.ViewerPassword}}"
			return o
		}(), "good body template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := NewFeedbackSNS(&recordingSNS{}, tt.opts)
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.field)
			assert.Nil(t, h)
		})
	}
	_, err := NewFeedbackSNS(nil, routes("g", "b", "n"))
	require.ErrorIs(t, err, session.ErrInvalidArgument)
}

func TestFeedbackSNS_SanitisesSubjectAndNeverSendsSecrets(t *testing.T) {
	t.Parallel()
	pub := &recordingSNS{}
	opts := routes("arn:good", "arn:bad", "arn:neutral")
	opts.Good.Subject = "👍 Great\nfeedback!\t{{.RatingText}} " + strings.Repeat("x", 200)
	opts.Good.Body = "{{.Comment}} / {{.SessionID}} / {{.FeedbackID}}"
	h, err := NewFeedbackSNS(pub, opts)
	require.NoError(t, err)
	m := newManager(t, "s", h.Hook)
	stored, err := m.AddFeedback(t.Context(), &session.Feedback{
		Rating: session.RatingUp, Comment: "ok",
		Extra: map[string]any{"session_viewer_password": "hunter2-secret"},
	})
	require.NoError(t, err)
	closeHook(t, h)

	got := pub.published()
	require.Len(t, got, 1)
	subject := aws.ToString(got[0].Subject)
	assert.Len(t, subject, 100)
	assert.True(t, strings.HasPrefix(subject, "Great feedback! positive xxx"), subject)
	assert.Equal(t, "ok / s / "+stored.ID, aws.ToString(got[0].Message))
	for _, in := range got {
		all := aws.ToString(in.Subject) + aws.ToString(in.Message)
		for _, v := range in.MessageAttributes {
			all += aws.ToString(v.StringValue)
		}
		assert.NotContains(t, all, "hunter2-secret")
		assert.NotContains(t, strings.ToLower(all), "password")
	}
}

func TestSanitizeSubject(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"line1\r\nline2", "line1 line2"},
		{"  \t leading and trailing \n ", "leading and trailing"},
		{"émoji 🚨 alert", "moji alert"},
		{"🚨🚨🚨", ""},
		{strings.Repeat("a", 99) + " b", strings.Repeat("a", 99)},
		{strings.Repeat("a", 150), strings.Repeat("a", 100)},
		{"tab\tand\x00nul\x7fdel", "tab and nul del"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := SanitizeSubject(tt.in)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), 100)
		})
	}
}

func TestFeedbackSNS_FailedStorageSendsNothing(t *testing.T) {
	t.Parallel()
	pub := &recordingSNS{}
	h, err := NewFeedbackSNS(pub, routes("arn:good", "arn:bad", "arn:neutral"))
	require.NoError(t, err)
	boom := errors.New("storage down")
	chain := func(ctx context.Context, ev *manager.Event) error {
		return h.Hook(ctx, ev, func(context.Context, *manager.Event) error { return boom })
	}
	err = chain(t.Context(), &manager.Event{Kind: manager.KindFeedback, Operation: manager.OpAdd, SessionID: "s",
		Feedback: &session.Feedback{Rating: session.RatingUp}})
	require.ErrorIs(t, err, boom)
	// An invalid rating is rejected by storage, so it is not published either.
	m := newManager(t, "s", h.Hook)
	_, err = m.AddFeedback(t.Context(), &session.Feedback{Rating: "sideways"})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	closeHook(t, h)
	assert.Empty(t, pub.published())
	assert.Equal(t, Stats{}, h.Stats())
}

func TestFeedbackSNS_FIFOTopicGetsGroupAndStableDeduplicationID(t *testing.T) {
	t.Parallel()
	pub := &recordingSNS{fail: func(call int) error {
		if call == 1 {
			return errThrottled
		}
		return nil
	}}
	opts := routes("arn:good.fifo", "arn:bad", "arn:neutral")
	opts.Delivery = fastDelivery(nil)
	h, err := NewFeedbackSNS(pub, opts)
	require.NoError(t, err)
	m := newManager(t, "sessión-ü", h.Hook)
	_, err = m.AddFeedback(t.Context(), &session.Feedback{Rating: session.RatingUp})
	require.NoError(t, err)
	closeHook(t, h)
	got := pub.published()
	require.Len(t, got, 1)
	assert.Len(t, aws.ToString(got[0].MessageGroupId), 64, "non-ASCII session id is hashed")
	assert.Len(t, aws.ToString(got[0].MessageDeduplicationId), 64)
	assert.Equal(t, Stats{Sent: 1, Retried: 1}, h.Stats())
}
