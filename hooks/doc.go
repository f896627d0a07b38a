// Package hooks holds session-manager hooks (manager.Hook) that notify
// other systems of what was stored:
//
//   - FeedbackSNS publishes each stored feedback to an SNS topic chosen by
//     its rating (up → good, down → bad, anything else → neutral), with
//     templated subject and body and message attributes session_id and
//     rating. A route set to TopicNone is off; an empty one is a
//     construction error. Subjects are sanitised to SNS's rules. No secret —
//     in particular no session viewer password — is ever put in a message.
//   - MetadataSQS sends each metadata update or delete to an SQS queue as
//     {session_id, event: "metadata_update", operation, metadata, timestamp},
//     deletes naming the deleted keys ({key: null} and "deleted_keys"). FIFO
//     queues get the session id as message group and a deduplication id.
//   - MetadataWebSocket pushes the same body to the session's API Gateway
//     WebSocket connection, whose id it reads from the session's stored
//     metadata (not from the update), through APIGatewayClient, a small
//     SigV4-signed PostToConnection client.
//
// # Delivery never gets in the way of storage
//
// Each hook calls next first; only when the storage operation succeeded does
// it copy what it needs and queue a notification, without blocking. Each
// hook owns a bounded queue and a small worker pool (DeliveryOptions).
// Events are sharded onto workers by session id, so one session's
// notifications go out in the order its writes succeeded. Throttling, 5xx
// and transport errors are retried with exponential backoff and equal jitter;
// the AWS SDK's own retryer is turned off for these calls so that the
// counters (Stats: Sent, Retried, Dropped, Failed, Skipped) tell the whole
// story. A full queue drops the event (counted) instead of waiting; errors
// are logged with log/slog at most once per LogInterval.
//
// Close(ctx) stops intake and flushes what is queued; at ctx's deadline it
// abandons the rest, counts it as dropped and returns the context's error.
// No goroutine outlives Close. Close the manager first, then the hooks.
//
// # Differences from the Python original
//
// Notifications are queued and retried rather than fired and forgotten;
// delete events say which keys were deleted (B3); WebSocket pushes use the
// stored connection id, so deletes are delivered too (B2); a bad
// configuration fails construction instead of silently disabling the hook
// (B13); subjects are made valid for SNS (B13); the viewer password is never
// sent.
package hooks
