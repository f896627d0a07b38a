package hooks

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// EventMetadataUpdate is the "event" field of every metadata notification,
// as in the Python original.
const EventMetadataUpdate = "metadata_update"

// timestampLayout is Python's datetime.now(timezone.utc).isoformat() with
// the microseconds always present.
const timestampLayout = "2006-01-02T15:04:05.000000-07:00"

// metadataChange is the part of a metadata event a notification needs,
// copied out of the Event before the storage call returns to its caller.
type metadataChange struct {
	sessionID string
	operation manager.Operation
	// metadata is the (selected) update payload, or nil values for the
	// deleted keys.
	metadata map[string]any
	// deletedKeys names the deleted (selected) keys of a delete.
	deletedKeys []string
	at          time.Time
}

// captureMetadataChange copies what a notification needs out of ev. It
// reports false when ev is not a metadata update or delete, or when a field
// selection leaves nothing to report. exclude names a key left out when no
// selection is given (the WebSocket hook's connection id).
func captureMetadataChange(ev *manager.Event, fields []string, exclude string, now time.Time) (metadataChange, bool, error) {
	if ev.Kind != manager.KindMetadata {
		return metadataChange{}, false, nil
	}
	keep := func(k string) bool {
		if len(fields) > 0 {
			return slices.Contains(fields, k)
		}
		return k != exclude || exclude == ""
	}
	c := metadataChange{sessionID: ev.SessionID, operation: ev.Operation, at: now}
	switch ev.Operation {
	case manager.OpUpdate:
		selected := make(map[string]any, len(ev.Metadata))
		for k, v := range ev.Metadata {
			if keep(k) {
				selected[k] = v
			}
		}
		if len(fields) > 0 && len(selected) == 0 {
			return c, false, nil
		}
		m, err := driver.NormalizeMap("metadata", selected)
		if err != nil {
			return c, false, err
		}
		c.metadata = m
	case manager.OpDelete:
		c.metadata = make(map[string]any, len(ev.Keys))
		for _, k := range ev.Keys {
			if keep(k) && !slices.Contains(c.deletedKeys, k) {
				c.deletedKeys = append(c.deletedKeys, k)
				c.metadata[k] = nil
			}
		}
		if len(fields) > 0 && len(c.deletedKeys) == 0 {
			return c, false, nil
		}
	default:
		return c, false, nil
	}
	return c, true, nil
}

// body encodes the notification:
// {session_id, event, operation, metadata, timestamp[, deleted_keys]}.
func (c metadataChange) body() ([]byte, error) {
	md, err := driver.MarshalValueJSON(c.metadata)
	if err != nil {
		return nil, fmt.Errorf("session %q: metadata: %w", c.sessionID, err)
	}
	return json.Marshal(struct {
		SessionID   string          `json:"session_id"`
		Event       string          `json:"event"`
		Operation   string          `json:"operation"`
		Metadata    json.RawMessage `json:"metadata"`
		Timestamp   string          `json:"timestamp"`
		DeletedKeys []string        `json:"deleted_keys,omitempty"`
	}{c.sessionID, EventMetadataUpdate, string(c.operation), md, formatTimestamp(c.at), c.deletedKeys})
}

func formatTimestamp(t time.Time) string { return t.UTC().Format(timestampLayout) }

func validateFields(fields []string) ([]string, error) {
	for _, f := range fields {
		if err := driver.ValidateMetadataKey(f); err != nil {
			return nil, err
		}
	}
	return slices.Clone(fields), nil
}

// isFIFO reports whether a queue URL or topic ARN names a FIFO queue/topic.
func isFIFO(target string) bool { return strings.HasSuffix(target, ".fifo") }

// fifoGroupID is the session id when it fits SNS/SQS's MessageGroupId rules
// (1–128 printable ASCII characters), else its SHA-256, so one session's
// messages always share a group.
func fifoGroupID(sessionID string) string {
	if len(sessionID) <= 128 && isPrintableASCII(sessionID) {
		return sessionID
	}
	sum := sha256.Sum256([]byte(sessionID))
	return hex.EncodeToString(sum[:])
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// newDeduplicationID returns a random id, made once per event so that the
// dispatcher's retries of it are deduplicated by a FIFO queue.
func newDeduplicationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
