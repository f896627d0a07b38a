package driver

import (
	"slices"

	"github.com/sessionkit/sessionkit/session"
)

// CheckMessageIDs reports whether ids, an agent's message ids in storage
// order, are 0..len(ids)-1: it returns nil when they are, else the report.
func CheckMessageIDs(sessionID, agentID string, ids []int) *session.MessageIDReport {
	r := &session.MessageIDReport{SessionID: sessionID, AgentID: agentID, Count: len(ids)}
	seen := make(map[int]int, len(ids))
	for i, id := range ids {
		if id != i {
			r.Misplaced++
		}
		seen[id]++
	}
	if r.Misplaced == 0 {
		return nil
	}
	for id := range len(ids) {
		if seen[id] == 0 {
			r.Missing = append(r.Missing, id)
		}
	}
	for id, n := range seen {
		if n > 1 {
			r.Duplicates = append(r.Duplicates, id)
		}
	}
	slices.Sort(r.Duplicates)
	return r
}
