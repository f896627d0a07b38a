// Package manager is the session manager: it runs an agent's conversation
// over any session.Repository, as Strands' RepositorySessionManager does,
// plus the Python MongoDBSessionManager's extras — metadata and feedback
// with hooks, agent configuration, the guardrail audit trail, event-loop
// metrics and the manage_metadata agent tool.
//
// # Lifecycle
//
// New opens (or creates) one session; Open and OpenSession open an
// existing one only, for callers that must never bring a deleted session
// back (the HTTP API's writes). Initialize returns an AgentSession
// for one agent: on first use it creates the agent; on resume it restores
// state, internal state and conversation-manager state, loads the messages
// from removed_message_count on (after a pinned head of pinned_head_count
// messages, which stays in view), adds a summary message and repairs
// broken toolUse/toolResult pairs in memory (RepairToolUse). Then, per
// invocation: BeginInvocation, Append for every message, RedactLatest when a
// guardrail intervenes, and EndInvocation, which syncs changed agent state
// and stores the metrics on the invocation's last assistant message.
//
// # Round trips
//
// A four-message tool-using turn costs six repository calls: four appends
// (AppendMessage, or CreateMessage on a repository without it), at most one
// UpdateAgent and one UpdateMessage for metrics. The next message id comes
// from the store, never from the loaded window. A session.MessageAppender
// assigns it in the same atomic write, so any number of writers (goroutines,
// processes) on one agent all succeed; on other repositories, when another
// writer took the id, Append re-reads the count and retries a bounded number
// of times. Either way no id is duplicated and no message lost.
//
// # Hooks
//
// Hooks are middleware (see Hook) around metadata updates, gets and
// deletes, feedback adds, message appends and redactions. They run in
// registration order and decide whether and when to call next.
//
// # Strands compatibility
//
// Conversation-manager state carries the Python class names
// ("SlidingWindowConversationManager", ...) and _internal_state the
// interrupt and model state shapes, so the Strands Python SDK can resume
// sessions this package wrote.
package manager
