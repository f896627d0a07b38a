package hooks

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// SQSSender is the part of *sqs.Client the metadata hook uses.
type SQSSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SQSSender = (*sqs.Client)(nil)

// MetadataSQSOptions configures NewMetadataSQS.
type MetadataSQSOptions struct {
	// QueueURL is the queue to send to (required). A URL ending in ".fifo"
	// makes each message carry the session id as its MessageGroupId and a
	// per-event MessageDeduplicationId, so retries are not duplicated.
	QueueURL string
	// Fields, when set, restricts the metadata sent to these keys; an
	// event touching none of them sends nothing. Empty sends every key.
	Fields []string
	// Delivery tunes queueing, retries and logging.
	Delivery DeliveryOptions
	// Now stamps events (default time.Now).
	Now func() time.Time
}

// MetadataSQS is a session-manager hook that sends every successful metadata
// update or delete to an SQS queue as
//
//	{"session_id": ..., "event": "metadata_update", "operation": "update"|"delete",
//	 "metadata": {...}, "timestamp": "2025-01-02T03:04:05.000006+00:00"}
//
// with message attributes session_id, event and operation. Deletes carry
// {key: null} for each deleted key plus "deleted_keys": [...], so consumers
// can tell what went (the Python original sent {} with a field selection).
// Sending is asynchronous; see DeliveryOptions.
type MetadataSQS struct {
	client SQSSender
	opts   MetadataSQSOptions
	fifo   bool
	d      *dispatcher
}

// NewMetadataSQS returns a started hook. Call Close to flush and stop it.
func NewMetadataSQS(client SQSSender, opts MetadataSQSOptions) (*MetadataSQS, error) {
	if client == nil {
		return nil, driver.InvalidArgument("sqs client", "must not be nil")
	}
	if opts.QueueURL == "" {
		return nil, driver.InvalidArgument("queue url", "must not be empty")
	}
	fields, err := validateFields(opts.Fields)
	if err != nil {
		return nil, err
	}
	opts.Fields = fields
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &MetadataSQS{
		client: client, opts: opts, fifo: isFIFO(opts.QueueURL),
		d: newDispatcher("metadata-sqs", opts.Delivery),
	}, nil
}

// Hook is the manager.Hook: it runs the storage operation first and, only if
// it succeeded, queues the notification. It never blocks on, or fails
// because of, SQS.
func (h *MetadataSQS) Hook(ctx context.Context, ev *manager.Event, next manager.Next) error {
	if err := next(ctx, ev); err != nil {
		return err
	}
	if ev.Kind != manager.KindMetadata || (ev.Operation != manager.OpUpdate && ev.Operation != manager.OpDelete) || h.d.full(ev.SessionID) {
		return nil
	}
	c, ok, err := captureMetadataChange(ev, h.opts.Fields, "", h.opts.Now())
	if err != nil {
		h.d.log.error("metadata not queued", err, "session_id", ev.SessionID)
		return nil
	}
	if ok {
		var in *sqs.SendMessageInput
		_ = h.d.enqueue(job{sessionID: c.sessionID, send: func(ctx context.Context) error {
			if in == nil {
				built, err := h.input(c)
				if err != nil {
					return err
				}
				in = built
			}
			_, err := h.client.SendMessage(ctx, in, noSDKRetriesSQS)
			if err != nil {
				return fmt.Errorf("session %q: sqs send: %w", c.sessionID, err)
			}
			return nil
		}})
	}
	return nil
}

func (h *MetadataSQS) input(c metadataChange) (*sqs.SendMessageInput, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(h.opts.QueueURL),
		MessageBody: aws.String(string(body)),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"session_id": {DataType: aws.String("String"), StringValue: aws.String(c.sessionID)},
			"event":      {DataType: aws.String("String"), StringValue: aws.String(EventMetadataUpdate)},
			"operation":  {DataType: aws.String("String"), StringValue: aws.String(string(c.operation))},
		},
	}
	if h.fifo {
		in.MessageGroupId = aws.String(fifoGroupID(c.sessionID))
		in.MessageDeduplicationId = aws.String(newDeduplicationID())
	}
	return in, nil
}

// noSDKRetriesSQS turns off the SDK's retryer: the dispatcher retries, with
// its own counters and backoff, without blocking other sessions twice over.
func noSDKRetriesSQS(o *sqs.Options) { o.Retryer = aws.NopRetryer{} }

// Close stops accepting events and waits until the queued ones are sent, or
// until ctx ends, when it abandons the rest (counted in Stats.Dropped) and
// returns ctx's error. No goroutine outlives Close.
func (h *MetadataSQS) Close(ctx context.Context) error { return h.d.close(ctx) }

// Stats returns the delivery counters.
func (h *MetadataSQS) Stats() Stats { return h.d.stats() }
