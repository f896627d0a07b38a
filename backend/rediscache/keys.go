package rediscache

import (
	"strconv"
	"strings"
)

// tagEscaper makes a session id safe inside a Redis Cluster hash tag: the
// tag ends at the first "}", so "{" and "}" (and "%", to keep the mapping
// one-to-one) are percent-encoded.
var tagEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

// sessionKeys are the Redis keys of one session. Every key carries the
// hash tag {<escaped id>}, so a session lives in one Cluster slot and the
// Lua scripts may touch all of its keys.
type sessionKeys struct {
	// gen is "<prefix>{<id>}:g", the session's generation token.
	gen string
	// base is "<prefix>{<id>}:"; an entry's key is base + "e:" + field.
	base string
}

// entry returns the key of one cached entry: "<prefix>{<id>}:e:<field>".
// The key does not depend on the generation; the entry's value carries the
// token it was filled under (see splitEntry).
func (k sessionKeys) entry(field string) string { return k.base + "e:" + field }

// expiry returns the key of the session's expiry, "<prefix>{<id>}:x": the
// expiry in Unix microseconds, absent when the session has none or the
// cache has not seen it (see expiry.go).
func (k sessionKeys) expiry() string { return k.base + "x" }

func keysFor(prefix, sessionID string) sessionKeys {
	base := prefix + "{" + tagEscaper.Replace(sessionID) + "}:"
	return sessionKeys{gen: base + "g", base: base}
}

// Fields name an entry within a session. Integers come before the agent id,
// which may contain ":", so that every field parses one way only.
func fieldSession() string             { return "s" }
func fieldAgents() string              { return "A" }
func fieldAgent(agentID string) string { return "a:" + agentID }
func fieldCount(agentID string) string { return "n:" + agentID }
func fieldTail(agentID string) string  { return "t:" + agentID }
func fieldMetadata() string            { return "md" }
func fieldFeedback() string            { return "f" }
func fieldGuardrails() string          { return "ge" }

func fieldMessage(agentID string, id int) string {
	return "1:" + strconv.Itoa(id) + ":" + agentID
}

func fieldMessages(agentID string, offset, limit int) string {
	return "m:" + strconv.Itoa(offset) + ":" + strconv.Itoa(limit) + ":" + agentID
}
