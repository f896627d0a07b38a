package hooks

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/internal/testservice"
)

// sqsServer speaks just enough of SQS's JSON protocol for SendMessage: it
// answers with the scripted failures first, then accepts, recording bodies.
// hold, when non-nil, blocks every request until it is closed.
type sqsServer struct {
	mu     sync.Mutex
	script []int
	bodies []string
	hold   chan struct{}
}

func (s *sqsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.hold != nil {
		select {
		case <-s.hold:
		case <-r.Context().Done():
			return
		}
	}
	var in struct{ MessageBody string }
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &in)
	s.mu.Lock()
	status := http.StatusOK
	if len(s.script) > 0 {
		status, s.script = s.script[0], s.script[1:]
	} else {
		s.bodies = append(s.bodies, in.MessageBody)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	switch status {
	case http.StatusOK:
		sum := md5.Sum([]byte(in.MessageBody))
		_ = json.NewEncoder(w).Encode(map[string]string{"MessageId": "m", "MD5OfMessageBody": hex.EncodeToString(sum[:])})
	case http.StatusBadRequest:
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"}`)
	default:
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"__type":"com.amazonaws.sqs#InternalError","message":"oops"}`)
	}
}

func (s *sqsServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func sqsClient(endpoint string) *sqs.Client {
	return sqs.NewFromConfig(staticConfig("us-east-1"), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func TestMetadataSQS_ThrottlingAnd5xxAreRetriedInOrder(t *testing.T) {
	t.Parallel()
	srv := &sqsServer{script: []int{400, 400, 503}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	h, err := NewMetadataSQS(sqsClient(ts.URL), MetadataSQSOptions{QueueURL: ts.URL + "/000000000000/q", Delivery: fastDelivery(nil)})
	require.NoError(t, err)
	m := newManager(t, "s1", h.Hook)
	for i := range 3 {
		require.NoError(t, m.UpdateMetadata(t.Context(), map[string]any{"n": i}))
	}
	closeHook(t, h)
	got := srv.received()
	require.Len(t, got, 3)
	for i, body := range got {
		assert.Contains(t, body, fmt.Sprintf(`"metadata":{"n":%d}`, i))
	}
	assert.Equal(t, Stats{Sent: 3, Retried: 3}, h.Stats())
}

func TestMetadataSQS_EndpointDownNeverFailsStorage(t *testing.T) {
	t.Parallel()
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", testservice.FreePort(t)) // nothing listens
	logger, logs := newLogger()
	h, err := NewMetadataSQS(sqsClient(endpoint), MetadataSQSOptions{QueueURL: endpoint + "/000000000000/q", Delivery: fastDelivery(logger)})
	require.NoError(t, err)
	m := newManager(t, "s1", h.Hook)
	for i := range 5 {
		require.NoError(t, m.UpdateMetadata(t.Context(), map[string]any{"n": i}))
	}
	got, err := m.GetMetadata(t.Context())
	require.NoError(t, err)
	assert.Equal(t, int64(4), got["n"], "storage kept every write")
	closeHook(t, h)
	st := h.Stats()
	assert.Equal(t, uint64(5), st.Failed)
	assert.Equal(t, uint64(15), st.Retried, "3 retries per event: %s", logs.String())
	assert.Equal(t, 1, countLines(logs.String(), "delivery failed"), "errors are rate-limited: %s", logs.String())
}

func TestMetadataSQS_SlowEndpointAndFullQueueNeverBlockStorage(t *testing.T) {
	t.Parallel()
	srv := &sqsServer{hold: make(chan struct{})}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	opts := fastDelivery(nil)
	opts.Workers, opts.QueueSize = 1, 4
	h, err := NewMetadataSQS(sqsClient(ts.URL), MetadataSQSOptions{QueueURL: ts.URL + "/000000000000/q", Delivery: opts})
	require.NoError(t, err)
	m := newManager(t, "s1", h.Hook)
	// The endpoint answers nothing until released; the worker holds one
	// event, the queue four, so at least 20-1-4 writes find it full. Every
	// write still returns, which it could not if a hook waited on SQS.
	for i := range 20 {
		require.NoError(t, m.UpdateMetadata(t.Context(), map[string]any{"n": i}))
	}
	assert.GreaterOrEqual(t, h.Stats().Dropped, uint64(15))
	close(srv.hold)
	closeHook(t, h)
	st := h.Stats()
	assert.Equal(t, uint64(20), st.Sent+st.Dropped)
	assert.Len(t, srv.received(), int(st.Sent))
}

func countLines(s, substr string) int {
	n := 0
	for line := range strings.Lines(s) {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}
