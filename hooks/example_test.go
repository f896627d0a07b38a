package hooks_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/hooks"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/manager"
)

// Wire the three notification hooks into a session manager. The AWS
// endpoints here are placeholders that nothing answers: storage still
// succeeds, and Close gives up on the undeliverable notifications at its
// deadline.
func Example() {
	ctx := context.Background()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}
	endpoint := aws.String("http://127.0.0.1:9") // discard port: nothing listens

	feedback, err := hooks.NewFeedbackSNS(sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = endpoint }), hooks.FeedbackSNSOptions{
		Good:    hooks.FeedbackRoute{TopicARN: "arn:aws:sns:us-east-1:123456789012:feedback-good"},
		Bad:     hooks.FeedbackRoute{TopicARN: "arn:aws:sns:us-east-1:123456789012:feedback-bad", Subject: "[URGENT] {{.RatingText}} feedback on {{.SessionID}}"},
		Neutral: hooks.FeedbackRoute{TopicARN: hooks.TopicNone},
	})
	if err != nil {
		log.Fatal(err)
	}
	metadata, err := hooks.NewMetadataSQS(sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = endpoint }), hooks.MetadataSQSOptions{
		QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/metadata-events",
		Fields:   []string{"status"},
	})
	if err != nil {
		log.Fatal(err)
	}
	apigw, err := hooks.NewAPIGatewayClient("http://127.0.0.1:9/prod", cfg)
	if err != nil {
		log.Fatal(err)
	}
	push, err := hooks.NewMetadataWebSocket(apigw, hooks.MetadataWebSocketOptions{})
	if err != nil {
		log.Fatal(err)
	}

	repo := memory.New(memory.Options{})
	defer repo.Close()
	m, err := manager.New(ctx, repo, "session-1", manager.Options{
		Hooks: []manager.Hook{feedback.Hook, metadata.Hook, push.Hook},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.UpdateMetadata(ctx, map[string]any{"status": "open"}); err != nil {
		log.Fatal(err)
	}
	if _, err := m.AddFeedback(ctx, &session.Feedback{Rating: session.RatingDown, Comment: "wrong answer"}); err != nil {
		log.Fatal(err)
	}
	stored, err := m.GetMetadata(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored status:", stored["status"])

	// Close the manager, then flush the hooks. The WebSocket push needs no
	// network here (there is no connection id to push to); the others give
	// up at the deadline, counting what they could not deliver.
	_ = m.Close()
	flushCtx, cancelFlush := context.WithTimeout(ctx, 10*time.Second)
	defer cancelFlush()
	if err := push.Close(flushCtx); err != nil {
		log.Fatal(err)
	}
	closeCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_ = feedback.Close(closeCtx)
	_ = metadata.Close(closeCtx)
	fmt.Println("websocket pushes skipped (no connection id stored):", push.Stats().Skipped)
	// Output:
	// stored status: open
	// websocket pushes skipped (no connection id stored): 1
}
