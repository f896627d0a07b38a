package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

func TestMetadataWebSocket_UsesStoredConnectionIDForUpdatesAndDeletes(t *testing.T) {
	t.Parallel()
	p := &recordingPoster{}
	h, err := NewMetadataWebSocket(p, MetadataWebSocketOptions{Now: fixedNow, Delivery: fastDelivery(nil)})
	require.NoError(t, err)
	m := newManagerWithMetadata(t, "s1", map[string]any{"connection_id": "conn=1"}, h.Hook)
	ctx := t.Context()
	require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"status": "open"})) // no id in the payload
	require.NoError(t, m.DeleteMetadata(ctx, []string{"status"}))
	closeHook(t, h)

	got := p.posts()
	require.Len(t, got, 2)
	for _, g := range got {
		assert.Equal(t, "conn=1", g.connectionID)
	}
	assert.JSONEq(t, `{"event":"metadata_update","session_id":"s1","operation":"update","metadata":{"status":"open"},"timestamp":"2025-01-02T03:04:05.000006+00:00"}`, got[0].data)
	assert.JSONEq(t, `{"event":"metadata_update","session_id":"s1","operation":"delete","metadata":{"status":null},"deleted_keys":["status"],"timestamp":"2025-01-02T03:04:05.000006+00:00"}`, got[1].data)
	assert.Equal(t, Stats{Sent: 2}, h.Stats())
}

func TestMetadataWebSocket_ConnectionIDIsNotPushedAndUpdatesWithoutOneAreSkipped(t *testing.T) {
	t.Parallel()
	p := &recordingPoster{}
	h, err := NewMetadataWebSocket(p, MetadataWebSocketOptions{Now: fixedNow, Delivery: fastDelivery(nil)})
	require.NoError(t, err)
	m := newManager(t, "s1", h.Hook)
	require.NoError(t, m.UpdateMetadata(t.Context(), map[string]any{"status": "no connection yet"}))
	closeHook(t, h)
	assert.Empty(t, p.posts())
	assert.Equal(t, Stats{Skipped: 1}, h.Stats())

	p = &recordingPoster{}
	h, err = NewMetadataWebSocket(p, MetadataWebSocketOptions{Now: fixedNow, Delivery: fastDelivery(nil)})
	require.NoError(t, err)
	m = newManager(t, "s2", h.Hook)
	require.NoError(t, m.UpdateMetadata(t.Context(), map[string]any{"connection_id": "c2"}))
	closeHook(t, h)
	got := p.posts()
	require.Len(t, got, 1)
	assert.Equal(t, "c2", got[0].connectionID)
	assert.JSONEq(t, `{"event":"metadata_update","session_id":"s2","operation":"update","metadata":{},"timestamp":"2025-01-02T03:04:05.000006+00:00"}`, got[0].data)
}

func TestMetadataWebSocket_GoneConnectionIsLoggedOnceAndDropped(t *testing.T) {
	t.Parallel()
	p := &recordingPoster{fail: func(id string, _ int) error {
		return fmt.Errorf("connection %q: %w", id, ErrGone)
	}}
	logger, logs := newLogger()
	h, err := NewMetadataWebSocket(p, MetadataWebSocketOptions{Fields: []string{"status"}, Delivery: fastDelivery(logger)})
	require.NoError(t, err)
	m := newManagerWithMetadata(t, "s1", map[string]any{"connection_id": "old"}, h.Hook)
	for i := range 3 {
		require.NoError(t, m.UpdateMetadata(t.Context(), map[string]any{"status": i}))
	}
	closeHook(t, h)

	p.mu.Lock()
	calls := p.calls
	p.mu.Unlock()
	assert.Equal(t, 1, calls, "one post to the gone connection, then none")
	assert.Empty(t, p.posts())
	assert.Equal(t, 1, strings.Count(logs.String(), "connection gone"), logs.String())
	assert.NotContains(t, logs.String(), "level=ERROR")
	assert.Equal(t, Stats{Dropped: 3}, h.Stats())
}

func TestMetadataWebSocket_LoadErrorFailsWithoutTouchingStorage(t *testing.T) {
	t.Parallel()
	p := &recordingPoster{}
	h, err := NewMetadataWebSocket(p, MetadataWebSocketOptions{Delivery: fastDelivery(nil)})
	require.NoError(t, err)
	ev := &manager.Event{Kind: manager.KindMetadata, Operation: manager.OpUpdate, SessionID: "s",
		Metadata: map[string]any{"a": 1},
		LoadMetadata: func(context.Context) (map[string]any, error) {
			return nil, driver.SessionError("s", session.ErrNotFound)
		}}
	require.NoError(t, h.Hook(t.Context(), ev, func(context.Context, *manager.Event) error { return nil }))
	closeHook(t, h)
	assert.Empty(t, p.posts())
	assert.Equal(t, Stats{Failed: 1}, h.Stats())
}

func TestNewMetadataWebSocket_RejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	_, err := NewMetadataWebSocket(nil, MetadataWebSocketOptions{})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	_, err = NewMetadataWebSocket(&recordingPoster{}, MetadataWebSocketOptions{ConnectionIDKey: "$id"})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
}

// apiGatewayServer is a local PostToConnection endpoint: it answers each
// request with the next scripted status (200 once the script runs out) and
// records what it received.
type apiGatewayServer struct {
	mu       sync.Mutex
	script   []int
	requests []*http.Request
	bodies   []string
}

func (s *apiGatewayServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.bodies = append(s.bodies, string(body))
	status := http.StatusOK
	if len(s.script) > 0 {
		status, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	switch status {
	case http.StatusGone:
		w.Header().Set("X-Amzn-Errortype", "GoneException")
	case http.StatusBadRequest:
		w.Header().Set("X-Amzn-Errortype", "ThrottlingException:http://internal.amazon.com/coral/")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": http.StatusText(status)})
}

func staticConfig(region string) aws.Config {
	return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key-never-logged", "")}
}

func TestAPIGatewayClient_PostToConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script []int
		check  func(t *testing.T, err error)
	}{
		{"ok", nil, func(t *testing.T, err error) { require.NoError(t, err) }},
		{"gone", []int{410}, func(t *testing.T, err error) {
			require.ErrorIs(t, err, ErrGone)
			assert.False(t, retryable(err))
		}},
		{"throttled", []int{400}, func(t *testing.T, err error) {
			var se *StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "ThrottlingException", se.Code)
			assert.True(t, retryable(err))
		}},
		{"server error", []int{503}, func(t *testing.T, err error) {
			var se *StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 503, se.StatusCode)
			assert.True(t, retryable(err))
		}},
		{"forbidden", []int{403}, func(t *testing.T, err error) {
			require.Error(t, err)
			assert.False(t, retryable(err))
			assert.NotContains(t, err.Error(), "secret-key-never-logged")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &apiGatewayServer{script: tt.script}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c, err := NewAPIGatewayClient(ts.URL+"/prod/", staticConfig("eu-west-1"))
			require.NoError(t, err)
			err = c.PostToConnection(t.Context(), "ab/c=d", []byte(`{"x":1}`))
			tt.check(t, err)

			require.Len(t, srv.requests, 1)
			r := srv.requests[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, "/prod/@connections/ab%2Fc=d", r.URL.EscapedPath())
			assert.Equal(t, `{"x":1}`, srv.bodies[0])
			auth := r.Header.Get("Authorization")
			assert.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/"), auth)
			assert.Contains(t, auth, "/eu-west-1/execute-api/aws4_request")
			assert.NotEmpty(t, r.Header.Get("X-Amz-Date"))
		})
	}
}

func TestNewAPIGatewayClient_RejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		endpoint string
		cfg      aws.Config
	}{
		{"not a url", staticConfig("us-east-1")},
		{"ftp://host/x", staticConfig("us-east-1")},
		{"https://host/prod", staticConfig("")},
		{"https://host/prod", aws.Config{Region: "us-east-1"}},
	} {
		_, err := NewAPIGatewayClient(tt.endpoint, tt.cfg)
		assert.ErrorIs(t, err, session.ErrInvalidArgument, tt.endpoint)
	}
	c, err := NewAPIGatewayClient("https://abc.execute-api.eu-west-1.amazonaws.com/prod", staticConfig("eu-west-1"))
	require.NoError(t, err)
	err = c.PostToConnection(t.Context(), "", nil)
	assert.True(t, errors.Is(err, session.ErrInvalidArgument))
}
