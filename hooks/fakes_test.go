package hooks

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// recordingSNS records publications; fail, when set, decides each call's
// error by its 1-based call number.
type recordingSNS struct {
	mu    sync.Mutex
	calls int
	got   []*sns.PublishInput
	fail  func(call int) error
}

func (r *recordingSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		if err := r.fail(r.calls); err != nil {
			return nil, err
		}
	}
	r.got = append(r.got, in)
	return &sns.PublishOutput{}, nil
}

func (r *recordingSNS) published() []*sns.PublishInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*sns.PublishInput(nil), r.got...)
}

type recordingSQS struct {
	mu    sync.Mutex
	calls int
	got   []*sqs.SendMessageInput
	fail  func(call int) error
}

func (r *recordingSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		if err := r.fail(r.calls); err != nil {
			return nil, err
		}
	}
	r.got = append(r.got, in)
	return &sqs.SendMessageOutput{}, nil
}

func (r *recordingSQS) sent() []*sqs.SendMessageInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*sqs.SendMessageInput(nil), r.got...)
}

type post struct {
	connectionID string
	data         string
}

type recordingPoster struct {
	mu    sync.Mutex
	calls int
	got   []post
	fail  func(connectionID string, call int) error
}

func (r *recordingPoster) PostToConnection(_ context.Context, connectionID string, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		if err := r.fail(connectionID, r.calls); err != nil {
			return err
		}
	}
	r.got = append(r.got, post{connectionID, string(data)})
	return nil
}

func (r *recordingPoster) posts() []post {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]post(nil), r.got...)
}

// sqsSpy records each attempt's deduplication id before forwarding.
type sqsSpy struct {
	next *recordingSQS
	ids  *[]string
}

func (s sqsSpy) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	*s.ids = append(*s.ids, *in.MessageDeduplicationId) // one worker per session: no race
	return s.next.SendMessage(ctx, in, o...)
}
