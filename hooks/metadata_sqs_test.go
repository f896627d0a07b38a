package hooks

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

var fixedNow = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC) }

func TestMetadataSQS_SendsUpdatesAndDeletesWithKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields []string
		want   []string // message bodies, in order
	}{
		{
			name: "all fields",
			want: []string{
				`{"session_id":"s1","event":"metadata_update","operation":"update","metadata":{"other":1,"status":"open"},"timestamp":"2025-01-02T03:04:05.000006+00:00"}`,
				`{"session_id":"s1","event":"metadata_update","operation":"delete","metadata":{"other":null,"status":null},"timestamp":"2025-01-02T03:04:05.000006+00:00","deleted_keys":["status","other"]}`,
				`{"session_id":"s1","event":"metadata_update","operation":"update","metadata":{"other":2},"timestamp":"2025-01-02T03:04:05.000006+00:00"}`,
			},
		},
		{
			name:   "selected fields",
			fields: []string{"status"},
			want: []string{
				`{"session_id":"s1","event":"metadata_update","operation":"update","metadata":{"status":"open"},"timestamp":"2025-01-02T03:04:05.000006+00:00"}`,
				`{"session_id":"s1","event":"metadata_update","operation":"delete","metadata":{"status":null},"timestamp":"2025-01-02T03:04:05.000006+00:00","deleted_keys":["status"]}`,
				// the last update touches no selected field: nothing is sent
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := &recordingSQS{}
			h, err := NewMetadataSQS(q, MetadataSQSOptions{QueueURL: "http://q/queue", Fields: tt.fields, Now: fixedNow, Delivery: fastDelivery(nil)})
			require.NoError(t, err)
			m := newManager(t, "s1", h.Hook)
			ctx := t.Context()
			require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"status": "open", "other": 1}))
			require.NoError(t, m.DeleteMetadata(ctx, []string{"status", "other"}))
			require.NoError(t, m.UpdateMetadata(ctx, map[string]any{"other": 2}))
			_, err = m.GetMetadata(ctx) // gets are not notified
			require.NoError(t, err)
			closeHook(t, h)

			got := q.sent()
			require.Len(t, got, len(tt.want))
			for i, in := range got {
				assert.JSONEq(t, tt.want[i], aws.ToString(in.MessageBody))
				assert.Equal(t, "http://q/queue", aws.ToString(in.QueueUrl))
				assert.Equal(t, "s1", aws.ToString(in.MessageAttributes["session_id"].StringValue))
				assert.Equal(t, EventMetadataUpdate, aws.ToString(in.MessageAttributes["event"].StringValue))
				var body struct{ Operation string }
				require.NoError(t, json.Unmarshal([]byte(aws.ToString(in.MessageBody)), &body))
				assert.Equal(t, body.Operation, aws.ToString(in.MessageAttributes["operation"].StringValue))
				assert.Nil(t, in.MessageGroupId)
			}
		})
	}
}

func TestMetadataSQS_FIFOQueueKeepsDeduplicationIDAcrossRetries(t *testing.T) {
	t.Parallel()
	q := &recordingSQS{fail: func(call int) error {
		if call <= 2 {
			return errThrottled
		}
		return nil
	}}
	var seen []string
	h, err := NewMetadataSQS(sqsSpy{q, &seen}, MetadataSQSOptions{QueueURL: "http://q/queue.fifo", Delivery: fastDelivery(nil)})
	require.NoError(t, err)
	m := newManager(t, "s1", h.Hook)
	require.NoError(t, m.UpdateMetadata(t.Context(), map[string]any{"k": "v"}))
	closeHook(t, h)
	got := q.sent()
	require.Len(t, got, 1)
	assert.Equal(t, "s1", aws.ToString(got[0].MessageGroupId))
	require.Len(t, seen, 3)
	assert.Equal(t, seen[0], seen[1])
	assert.Equal(t, seen[0], seen[2])
	assert.Len(t, seen[0], 32)
	assert.Equal(t, Stats{Sent: 1, Retried: 2}, h.Stats())
}

func TestNewMetadataSQS_RejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	_, err := NewMetadataSQS(&recordingSQS{}, MetadataSQSOptions{})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	_, err = NewMetadataSQS(nil, MetadataSQSOptions{QueueURL: "q"})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	_, err = NewMetadataSQS(&recordingSQS{}, MetadataSQSOptions{QueueURL: "q", Fields: []string{"a.b"}})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
}

func TestMetadataSQS_FailedStorageSendsNothing(t *testing.T) {
	t.Parallel()
	q := &recordingSQS{}
	h, err := NewMetadataSQS(q, MetadataSQSOptions{QueueURL: "q"})
	require.NoError(t, err)
	m := newManager(t, "s1", h.Hook)
	require.ErrorIs(t, m.UpdateMetadata(t.Context(), map[string]any{"$bad": 1}), session.ErrInvalidArgument)
	require.ErrorIs(t, m.DeleteMetadata(t.Context(), nil), session.ErrInvalidArgument)
	closeHook(t, h)
	assert.Empty(t, q.sent())
}
