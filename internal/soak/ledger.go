package soak

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Kind is the kind of a recorded write.
type Kind string

// The kinds of writes a worker makes.
const (
	KindMessage  Kind = "message"
	KindMetadata Kind = "metadata"
	KindFeedback Kind = "feedback"
)

// Write is one write a worker attempted.
type Write struct {
	Kind      Kind
	SessionID string
	// AgentID is the agent log of a message.
	AgentID string
	// Worker and Seq identify the write: worker w's operation number Seq.
	Worker, Seq int
	// Key is the metadata key of a metadata write.
	Key string
	// Payload is unique to the write: the message text, the metadata value
	// or the feedback comment.
	Payload string
	// Acked reports that the call returned nil. Otherwise the outcome is
	// unknown: the write may have been applied.
	Acked bool
}

// Ledger records the writes of a run. It is safe for concurrent use.
type Ledger struct {
	runID string

	mu     sync.Mutex
	writes []Write
}

// NewLedger returns an empty ledger for run runID.
func NewLedger(runID string) *Ledger { return &Ledger{runID: runID} }

// RunID returns the run the ledger belongs to.
func (l *Ledger) RunID() string { return l.runID }

// Record adds w.
func (l *Ledger) Record(w Write) {
	l.mu.Lock()
	l.writes = append(l.writes, w)
	l.mu.Unlock()
}

// Writes returns a copy of the recorded writes in the order they finished.
func (l *Ledger) Writes() []Write {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Write(nil), l.writes...)
}

// SessionIDs returns the ids of the sessions the ledger's writes touched,
// in first-seen order.
func (l *Ledger) SessionIDs() []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range l.Writes() {
		if !seen[w.SessionID] {
			seen[w.SessionID] = true
			out = append(out, w.SessionID)
		}
	}
	return out
}

// payload returns the unique payload of worker w's operation seq.
func payload(runID string, kind Kind, w, seq int) string {
	return fmt.Sprintf("soak %s %s w%d n%d", runID, kind, w, seq)
}

// parsePayload reads back what payload wrote; ok is false for anything
// else (including another run's payloads).
func parsePayload(runID, s string) (kind Kind, w, seq int, ok bool) {
	f := strings.Fields(s)
	if len(f) != 5 || f[0] != "soak" || f[1] != runID || !strings.HasPrefix(f[3], "w") || !strings.HasPrefix(f[4], "n") {
		return "", 0, 0, false
	}
	w, err1 := strconv.Atoi(f[3][1:])
	seq, err2 := strconv.Atoi(f[4][1:])
	if err1 != nil || err2 != nil {
		return "", 0, 0, false
	}
	return Kind(f[2]), w, seq, true
}

// metadataKey returns the metadata key worker w writes at operation seq:
// each worker owns three keys, so concurrent workers never overwrite each
// other and the checker knows which value must win.
func metadataKey(w, seq int) string { return fmt.Sprintf("soak_w%d_k%d", w, seq%3) }
