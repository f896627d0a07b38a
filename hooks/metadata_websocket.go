package hooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// DefaultConnectionIDKey is the metadata key holding a session's WebSocket
// connection id, as in the Python original.
const DefaultConnectionIDKey = "connection_id"

// maxGoneConnections bounds the memory of connections known to be gone.
const maxGoneConnections = 4096

// MetadataWebSocketOptions configures NewMetadataWebSocket.
type MetadataWebSocketOptions struct {
	// Fields, when set, restricts the metadata pushed to these keys; an
	// event touching none of them pushes nothing. Empty pushes every key
	// except the connection id key.
	Fields []string
	// ConnectionIDKey is the stored metadata key that holds the session's
	// connection id (default DefaultConnectionIDKey).
	ConnectionIDKey string
	// Delivery tunes queueing, retries and logging.
	Delivery DeliveryOptions
	// Now stamps events (default time.Now).
	Now func() time.Time
}

// MetadataWebSocket is a session-manager hook that pushes every successful
// metadata update or delete to the session's API Gateway WebSocket
// connection, with the same JSON body as MetadataSQS.
//
// The connection id is read from the session's stored metadata
// (Event.LoadMetadata), by the delivery worker, not from the update payload
// — so deletes are pushed too, and an update need not repeat the id (both
// were broken in the Python original). A session without a stored
// connection id is skipped. A connection that answers 410 Gone is logged
// once, remembered, and its later events are dropped without a request.
type MetadataWebSocket struct {
	poster ConnectionPoster
	opts   MetadataWebSocketOptions
	d      *dispatcher

	mu   sync.Mutex
	gone map[string]struct{}
}

// NewMetadataWebSocket returns a started hook. Call Close to flush and stop
// it.
func NewMetadataWebSocket(poster ConnectionPoster, opts MetadataWebSocketOptions) (*MetadataWebSocket, error) {
	if poster == nil {
		return nil, driver.InvalidArgument("connection poster", "must not be nil")
	}
	fields, err := validateFields(opts.Fields)
	if err != nil {
		return nil, err
	}
	opts.Fields = fields
	if opts.ConnectionIDKey == "" {
		opts.ConnectionIDKey = DefaultConnectionIDKey
	}
	if err := driver.ValidateMetadataKey(opts.ConnectionIDKey); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &MetadataWebSocket{
		poster: poster, opts: opts, gone: make(map[string]struct{}),
		d: newDispatcher("metadata-websocket", opts.Delivery),
	}, nil
}

// Hook is the manager.Hook: it runs the storage operation first and, only if
// it succeeded, queues the push. The stored connection id is looked up later,
// by the worker; the hook never blocks on, or fails because of, API Gateway.
func (h *MetadataWebSocket) Hook(ctx context.Context, ev *manager.Event, next manager.Next) error {
	if err := next(ctx, ev); err != nil {
		return err
	}
	if ev.Kind != manager.KindMetadata || (ev.Operation != manager.OpUpdate && ev.Operation != manager.OpDelete) || h.d.full(ev.SessionID) {
		return nil
	}
	c, ok, err := captureMetadataChange(ev, h.opts.Fields, h.opts.ConnectionIDKey, h.opts.Now())
	if err != nil {
		h.d.log.error("metadata not queued", err, "session_id", ev.SessionID)
		return nil
	}
	if !ok {
		return nil
	}
	load := ev.LoadMetadata
	if load == nil {
		h.d.log.error("metadata not queued", errors.New("event has no LoadMetadata"), "session_id", ev.SessionID)
		return nil
	}
	var body []byte
	_ = h.d.enqueue(job{sessionID: c.sessionID, send: func(ctx context.Context) error {
		if body == nil {
			built, err := c.body()
			if err != nil {
				return err
			}
			body = built
		}
		return h.push(ctx, c.sessionID, load, body)
	}})
	return nil
}

func (h *MetadataWebSocket) push(ctx context.Context, sessionID string, load func(context.Context) (map[string]any, error), body []byte) error {
	stored, err := load(ctx)
	if err != nil {
		return fmt.Errorf("session %q: load metadata: %w", sessionID, err)
	}
	connID, _ := stored[h.opts.ConnectionIDKey].(string)
	if connID == "" {
		return errSkipped
	}
	if h.isGone(connID) {
		return fmt.Errorf("session %q: connection %q: %w", sessionID, connID, ErrGone)
	}
	err = h.poster.PostToConnection(ctx, connID, body)
	if errors.Is(err, ErrGone) && h.markGone(connID) {
		h.opts.Delivery.logger().Log(context.Background(), slog.LevelInfo,
			"websocket connection gone; dropping its notifications",
			"hook", "metadata-websocket", "session_id", sessionID, "connection_id", connID)
	}
	if err != nil {
		return fmt.Errorf("session %q: %w", sessionID, err)
	}
	return nil
}

func (h *MetadataWebSocket) isGone(connID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.gone[connID]
	return ok
}

// markGone remembers connID and reports whether it is news.
func (h *MetadataWebSocket) markGone(connID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.gone[connID]; ok {
		return false
	}
	if len(h.gone) >= maxGoneConnections {
		clear(h.gone) // connection ids are never reused; forgetting is safe
	}
	h.gone[connID] = struct{}{}
	return true
}

// Close stops accepting events and waits until the queued ones are pushed,
// or until ctx ends, when it abandons the rest (counted in Stats.Dropped)
// and returns ctx's error. No goroutine outlives Close.
func (h *MetadataWebSocket) Close(ctx context.Context) error { return h.d.close(ctx) }

// Stats returns the delivery counters.
func (h *MetadataWebSocket) Stats() Stats { return h.d.stats() }
