package hooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// SNSPublisher is the part of *sns.Client the feedback hook uses.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ SNSPublisher = (*sns.Client)(nil)

// TopicNone, as a route's topic, turns that route off.
const TopicNone = "none"

// Default templates. Template data is a FeedbackMessage.
const (
	DefaultFeedbackSubject = "Feedback {{.RatingText}} on session {{.SessionID}}"
	DefaultFeedbackBody    = "Rating: {{.RatingText}}\nSession: {{.SessionID}}\nTime: {{.Timestamp}}\n{{if .Comment}}\n{{.Comment}}\n{{end}}"
)

// SNS limits the hook keeps to: a subject is at most 100 printable ASCII
// characters without newlines; a whole message is at most 256 KiB, of which
// the body may use maxSNSBody (leaving room for subject and attributes).
const (
	maxSNSSubject = 100
	maxSNSBody    = 256*1024 - 4*1024
)

// FeedbackRoute is where feedback of one rating goes.
type FeedbackRoute struct {
	// TopicARN is the topic to publish to, or TopicNone to publish nothing
	// for this rating. Empty is a construction error. An ARN ending in
	// ".fifo" gets the session id as MessageGroupId and the feedback id as
	// the deduplication id.
	TopicARN string
	// Subject is a text/template over FeedbackMessage (default
	// DefaultFeedbackSubject). Its output is sanitised to fit SNS's rules:
	// control characters become spaces, non-ASCII characters are dropped,
	// runs of spaces collapse and the result is cut to 100 characters.
	Subject string
	// Body is a text/template over FeedbackMessage (default
	// DefaultFeedbackBody), cut to fit SNS's size limit.
	Body string
}

// FeedbackMessage is the data the subject and body templates see. It holds
// nothing secret: the session viewer password, which the Python original
// mailed out, is deliberately not available.
type FeedbackMessage struct {
	SessionID string
	// Rating is the stored rating: "up", "down" or "".
	Rating string
	// RatingText is "positive", "negative" or "neutral".
	RatingText string
	Comment    string
	FeedbackID string
	// AgentID and MessageID are set when the feedback points at a message;
	// MessageID is then its decimal id, else "".
	AgentID   string
	MessageID string
	// Timestamp is when the feedback was stored, ISO 8601 UTC.
	Timestamp string
}

// FeedbackSNSOptions configures NewFeedbackSNS. All three routes must be
// set (to a topic ARN or TopicNone).
type FeedbackSNSOptions struct {
	// Good receives rating "up", Bad rating "down", Neutral everything else.
	Good, Bad, Neutral FeedbackRoute
	// Delivery tunes queueing, retries and logging.
	Delivery DeliveryOptions
	// Now stamps feedback that has no creation time (default time.Now).
	Now func() time.Time
}

type feedbackRoute struct {
	topic         string
	fifo          bool
	subject, body *template.Template
}

// FeedbackSNS is a session-manager hook that publishes every successfully
// stored feedback to an SNS topic chosen by its rating, with message
// attributes session_id and rating ("positive", "negative", "neutral").
// Publishing is asynchronous; see DeliveryOptions.
type FeedbackSNS struct {
	client             SNSPublisher
	good, bad, neutral *feedbackRoute // nil: route disabled
	now                func() time.Time
	d                  *dispatcher
}

// NewFeedbackSNS returns a started hook, or ErrInvalidArgument naming the
// bad route or template. Call Close to flush and stop it.
func NewFeedbackSNS(client SNSPublisher, opts FeedbackSNSOptions) (*FeedbackSNS, error) {
	if client == nil {
		return nil, driver.InvalidArgument("sns client", "must not be nil")
	}
	h := &FeedbackSNS{client: client, now: opts.Now}
	if h.now == nil {
		h.now = time.Now
	}
	var err error
	for _, r := range []struct {
		name string
		in   FeedbackRoute
		out  **feedbackRoute
	}{{"good", opts.Good, &h.good}, {"bad", opts.Bad, &h.bad}, {"neutral", opts.Neutral, &h.neutral}} {
		if *r.out, err = compileRoute(r.name, r.in); err != nil {
			return nil, err
		}
	}
	h.d = newDispatcher("feedback-sns", opts.Delivery)
	return h, nil
}

func compileRoute(name string, r FeedbackRoute) (*feedbackRoute, error) {
	switch r.TopicARN {
	case "":
		return nil, driver.InvalidArgument(name+" topic", "must be a topic ARN or %q", TopicNone)
	case TopicNone:
		return nil, nil
	}
	subject, body := r.Subject, r.Body
	if subject == "" {
		subject = DefaultFeedbackSubject
	}
	if body == "" {
		body = DefaultFeedbackBody
	}
	out := &feedbackRoute{topic: r.TopicARN, fifo: isFIFO(r.TopicARN)}
	var err error
	if out.subject, err = parseTemplate(subject); err != nil {
		return nil, driver.InvalidArgument(name+" subject template", "%v", err)
	}
	if out.body, err = parseTemplate(body); err != nil {
		return nil, driver.InvalidArgument(name+" body template", "%v", err)
	}
	return out, nil
}

// parseTemplate parses t and runs it once on sample data, so that a
// reference to a missing field fails construction, not every publish.
func parseTemplate(t string) (*template.Template, error) {
	tmpl, err := template.New("").Option("missingkey=error").Parse(t)
	if err != nil {
		return nil, err
	}
	sample := FeedbackMessage{SessionID: "s", Rating: "up", RatingText: "positive", Comment: "c", FeedbackID: "f", AgentID: "a", MessageID: "0", Timestamp: formatTimestamp(time.Unix(0, 0))}
	if err := tmpl.Execute(new(bytes.Buffer), sample); err != nil {
		return nil, err
	}
	return tmpl, nil
}

// Hook is the manager.Hook: it runs the storage operation first and, only if
// it succeeded, queues the publication. It never blocks on, or fails
// because of, SNS.
func (h *FeedbackSNS) Hook(ctx context.Context, ev *manager.Event, next manager.Next) error {
	if err := next(ctx, ev); err != nil {
		return err
	}
	if ev.Kind != manager.KindFeedback || ev.Operation != manager.OpAdd || ev.Feedback == nil {
		return nil
	}
	route, text := h.neutral, "neutral"
	switch ev.Feedback.Rating {
	case session.RatingUp:
		route, text = h.good, "positive"
	case session.RatingDown:
		route, text = h.bad, "negative"
	}
	if route == nil || h.d.full(ev.SessionID) {
		return nil
	}
	fb := ev.Feedback
	msg := FeedbackMessage{
		SessionID: ev.SessionID, Rating: string(fb.Rating), RatingText: text,
		Comment: fb.Comment, FeedbackID: fb.ID, AgentID: fb.AgentID,
	}
	if fb.MessageID != nil {
		msg.MessageID = strconv.Itoa(*fb.MessageID)
	}
	at := fb.CreatedAt
	if at.IsZero() {
		at = h.now()
	}
	msg.Timestamp = formatTimestamp(at)
	var in *sns.PublishInput
	_ = h.d.enqueue(job{sessionID: ev.SessionID, send: func(ctx context.Context) error {
		if in == nil {
			var err error
			if in, err = route.input(msg); err != nil {
				return fmt.Errorf("session %q: feedback %q: %w", msg.SessionID, msg.FeedbackID, err)
			}
		}
		if _, err := h.client.Publish(ctx, in, noSDKRetriesSNS); err != nil {
			return fmt.Errorf("session %q: feedback %q: sns publish: %w", msg.SessionID, msg.FeedbackID, err)
		}
		return nil
	}})
	return nil
}

func (r *feedbackRoute) input(msg FeedbackMessage) (*sns.PublishInput, error) {
	var subject, body bytes.Buffer
	if err := r.subject.Execute(&subject, msg); err != nil {
		return nil, fmt.Errorf("subject template: %w", err)
	}
	if err := r.body.Execute(&body, msg); err != nil {
		return nil, fmt.Errorf("body template: %w", err)
	}
	text := truncateUTF8(body.String(), maxSNSBody)
	if strings.TrimSpace(text) == "" { // SNS rejects an empty message
		text = fmt.Sprintf("Feedback %s on session %s", msg.RatingText, msg.SessionID)
	}
	in := &sns.PublishInput{
		TopicArn: aws.String(r.topic),
		Message:  aws.String(text),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"session_id": {DataType: aws.String("String"), StringValue: aws.String(msg.SessionID)},
			"rating":     {DataType: aws.String("String"), StringValue: aws.String(msg.RatingText)},
		},
	}
	if s := SanitizeSubject(subject.String()); s != "" {
		in.Subject = aws.String(s)
	}
	if r.fifo {
		in.MessageGroupId = aws.String(fifoGroupID(msg.SessionID))
		sum := sha256.Sum256([]byte(msg.SessionID + "\x00" + msg.FeedbackID))
		in.MessageDeduplicationId = aws.String(hex.EncodeToString(sum[:]))
	}
	return in, nil
}

// SanitizeSubject makes s a valid SNS subject: control characters and other
// white space become spaces, characters outside printable ASCII are
// dropped, runs of spaces collapse, and the result is trimmed and cut to
// 100 characters. It may return "" (then no subject is sent).
func SanitizeSubject(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r <= ' ' || r == 0x7f || r == 0x85 || r == 0xa0 || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			continue
		case r > '~':
			continue
		}
		if space {
			if b.Len() >= maxSNSSubject-1 {
				break
			}
			b.WriteByte(' ')
			space = false
		}
		if b.Len() >= maxSNSSubject {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// noSDKRetriesSNS turns off the SDK's retryer: the dispatcher retries.
func noSDKRetriesSNS(o *sns.Options) { o.Retryer = aws.NopRetryer{} }

// Close stops accepting events and waits until the queued ones are
// published, or until ctx ends, when it abandons the rest (counted in
// Stats.Dropped) and returns ctx's error. No goroutine outlives Close.
func (h *FeedbackSNS) Close(ctx context.Context) error { return h.d.close(ctx) }

// Stats returns the delivery counters.
func (h *FeedbackSNS) Stats() Stats { return h.d.stats() }
