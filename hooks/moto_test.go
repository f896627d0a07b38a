package hooks

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
)

// moto is a running moto server with SDK clients pointed at it.
type moto struct {
	endpoint string
	sns      *sns.Client
	sqs      *sqs.Client
}

func startMoto(t *testing.T) *moto {
	t.Helper()
	p := testservice.Start(t, 20*time.Second, nil, "moto_server", "-H", "127.0.0.1", "-p", "{port}")
	endpoint := "http://" + p.Addr
	cfg := staticConfig("us-east-1")
	return &moto{
		endpoint: endpoint,
		sns:      sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		sqs:      sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) }),
	}
}

// queue creates a queue and returns its URL and ARN.
func (m *moto) queue(t *testing.T, name string) (url, arn string) {
	t.Helper()
	in := &sqs.CreateQueueInput{QueueName: aws.String(name)}
	if isFIFO(name) {
		in.Attributes = map[string]string{"FifoQueue": "true"}
	}
	out, err := m.sqs.CreateQueue(t.Context(), in)
	require.NoError(t, err)
	attrs, err := m.sqs.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	require.NoError(t, err)
	return aws.ToString(out.QueueUrl), attrs.Attributes["QueueArn"]
}

// topicToQueue creates a topic delivering to a new queue and returns the
// topic ARN and queue URL.
func (m *moto) topicToQueue(t *testing.T, name string, raw bool) (topicARN, queueURL string) {
	t.Helper()
	topic, err := m.sns.CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String(name)})
	require.NoError(t, err)
	url, arn := m.queue(t, name+"-queue")
	_, err = m.sns.Subscribe(t.Context(), &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arn),
		Attributes: map[string]string{"RawMessageDelivery": fmt.Sprint(raw)},
	})
	require.NoError(t, err)
	return aws.ToString(topic.TopicArn), url
}

// drain receives every message now in the queue, in order.
func (m *moto) drain(t *testing.T, queueURL string) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for {
		out, err := m.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		require.NoError(t, err)
		if len(out.Messages) == 0 {
			return all
		}
		all = append(all, out.Messages...)
		for _, msg := range out.Messages {
			_, err := m.sqs.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: msg.ReceiptHandle})
			require.NoError(t, err)
		}
	}
}

// TestMoto runs the hooks against one moto server (starting it is the
// slow part).
func TestMoto(t *testing.T) {
	srv := startMoto(t)
	t.Run("FeedbackReachesTheQueueOfItsRatingsTopic", func(t *testing.T) { testMotoFeedback(t, srv) })
	t.Run("MetadataEventsReachStandardAndFIFOQueues", func(t *testing.T) { testMotoMetadata(t, srv) })
	t.Run("WebSocketPushIsAcceptedByAPIGatewayManagementAPI", func(t *testing.T) { testMotoWebSocket(t, srv) })
}

func testMotoFeedback(t *testing.T, srv *moto) {
	goodTopic, goodQ := srv.topicToQueue(t, "good", true)
	badTopic, badQ := srv.topicToQueue(t, "bad", false)
	neutralTopic, neutralQ := srv.topicToQueue(t, "neutral", true)

	h, err := NewFeedbackSNS(srv.sns, FeedbackSNSOptions{
		Good:     FeedbackRoute{TopicARN: goodTopic, Subject: "👍 {{.RatingText}}\n{{.SessionID}}"},
		Bad:      FeedbackRoute{TopicARN: badTopic},
		Neutral:  FeedbackRoute{TopicARN: neutralTopic},
		Delivery: fastDelivery(nil),
	})
	require.NoError(t, err)
	m := newManager(t, "sess-moto", h.Hook)
	ctx := t.Context()
	for i := range 5 {
		_, err := m.AddFeedback(ctx, &session.Feedback{Rating: session.RatingUp, Comment: fmt.Sprintf("good %d", i)})
		require.NoError(t, err)
	}
	_, err = m.AddFeedback(ctx, &session.Feedback{Rating: session.RatingDown, Comment: "bad answer"})
	require.NoError(t, err)
	_, err = m.AddFeedback(ctx, &session.Feedback{Comment: "meh"})
	require.NoError(t, err)
	closeHook(t, h)
	require.Equal(t, Stats{Sent: 7}, h.Stats())

	// Raw delivery: the body is the message and the attributes are SQS
	// message attributes; order per session is kept.
	good := srv.drain(t, goodQ)
	require.Len(t, good, 5)
	for i, msg := range good {
		assert.Contains(t, aws.ToString(msg.Body), fmt.Sprintf("good %d", i))
		assert.Equal(t, "sess-moto", aws.ToString(msg.MessageAttributes["session_id"].StringValue))
		assert.Equal(t, "positive", aws.ToString(msg.MessageAttributes["rating"].StringValue))
	}
	neutral := srv.drain(t, neutralQ)
	require.Len(t, neutral, 1)
	assert.Contains(t, aws.ToString(neutral[0].Body), "meh")
	assert.Equal(t, "neutral", aws.ToString(neutral[0].MessageAttributes["rating"].StringValue))

	// Envelope delivery: the SNS JSON envelope carries subject and attributes.
	bad := srv.drain(t, badQ)
	require.Len(t, bad, 1)
	var envelope struct {
		Subject           string
		Message           string
		TopicArn          string
		MessageAttributes map[string]struct{ Type, Value string }
	}
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(bad[0].Body)), &envelope))
	assert.Equal(t, "Feedback negative on session sess-moto", envelope.Subject)
	assert.Equal(t, badTopic, envelope.TopicArn)
	assert.Contains(t, envelope.Message, "bad answer")
	assert.Equal(t, "sess-moto", envelope.MessageAttributes["session_id"].Value)
	assert.Equal(t, "negative", envelope.MessageAttributes["rating"].Value)
}

func testMotoMetadata(t *testing.T, srv *moto) {
	for _, name := range []string{"metadata", "metadata.fifo"} {
		t.Run(name, func(t *testing.T) {
			url, _ := srv.queue(t, name)
			h, err := NewMetadataSQS(srv.sqs, MetadataSQSOptions{QueueURL: url, Fields: []string{"status", "priority"}, Delivery: fastDelivery(nil)})
			require.NoError(t, err)
			m := newManager(t, "sess-"+name, h.Hook)
			ctx := t.Context()
			require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"status": "open", "priority": 2, "ignored": true}))
			require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"ignored": false})) // nothing selected
			require.NoError(t, m.DeleteMetadata(ctx, []string{"status", "ignored"}))
			closeHook(t, h)
			require.Equal(t, Stats{Sent: 2}, h.Stats())

			msgs := srv.drain(t, url)
			require.Len(t, msgs, 2)
			var bodies []map[string]any
			for _, msg := range msgs {
				var b map[string]any
				require.NoError(t, json.Unmarshal([]byte(aws.ToString(msg.Body)), &b))
				bodies = append(bodies, b)
				assert.Equal(t, "sess-"+name, aws.ToString(msg.MessageAttributes["session_id"].StringValue))
				assert.Equal(t, "metadata_update", aws.ToString(msg.MessageAttributes["event"].StringValue))
				if isFIFO(name) {
					assert.Equal(t, "sess-"+name, msg.Attributes["MessageGroupId"])
					assert.NotEmpty(t, msg.Attributes["MessageDeduplicationId"])
				}
			}
			assert.Equal(t, "update", bodies[0]["operation"])
			assert.Equal(t, map[string]any{"status": "open", "priority": float64(2)}, bodies[0]["metadata"])
			assert.Equal(t, "delete", bodies[1]["operation"])
			assert.Equal(t, map[string]any{"status": nil}, bodies[1]["metadata"])
			assert.Equal(t, []any{"status"}, bodies[1]["deleted_keys"])
		})
	}
}

func testMotoWebSocket(t *testing.T, srv *moto) {
	client, err := NewAPIGatewayClient(srv.endpoint, staticConfig("us-east-1"))
	require.NoError(t, err)
	require.NoError(t, client.PostToConnection(t.Context(), "conn-1=", []byte(`{"hello":"world"}`)))

	h, err := NewMetadataWebSocket(client, MetadataWebSocketOptions{Delivery: fastDelivery(nil)})
	require.NoError(t, err)
	m := newManagerWithMetadata(t, "sess-ws", map[string]any{"connection_id": "conn-1="}, h.Hook)
	require.NoError(t, m.UpdateMetadata(t.Context(), map[string]any{"status": "open"}))
	require.NoError(t, m.DeleteMetadata(t.Context(), []string{"status"}))
	closeHook(t, h)
	assert.Equal(t, Stats{Sent: 2}, h.Stats())
}
