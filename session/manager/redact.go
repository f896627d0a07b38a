package manager

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Redaction describes a guardrail intervention for RedactLatest.
type Redaction struct {
	// Action is what the guardrail did; empty means "BLOCKED".
	Action string
	// StopReason is the model's stop reason, e.g. "guardrail_intervened".
	StopReason string
	// Trace is the raw guardrail trace (Bedrock's GuardrailTraceAssessment,
	// or the list shape the Python original's tests use). The policies that
	// acted are extracted from it with GuardrailSummary; the trace itself is
	// kept on the message only.
	Trace map[string]any
}

// RedactLatest replaces what the agent sees of its latest message with
// replacement: the original stays in the stored message and the replacement
// goes to its redact_message (one UpdateMessage); then the guardrail event is
// recorded on the message and on the session's audit trail (one
// RecordGuardrailEvent), through the hooks (OpRedact). Errors:
// session.ErrNotFound when the agent has no message yet;
// session.ErrInvalidArgument for a bad replacement or a trace that cannot be
// stored, with nothing written. A malformed trace shape never fails the
// call: unknown parts are skipped.
//
// The two writes are not one transaction: the redaction comes first, so
// what the agent sees is never the unredacted text once the call has got
// that far. If the audit write then fails, its error is returned with the
// message already redacted; calling RedactLatest again with the same
// arguments completes it (the redaction is idempotent, the event is
// recorded once more on the session's trail).
func (a *AgentSession) RedactLatest(ctx context.Context, replacement session.ChatMessage, r Redaction) error {
	m := a.m
	if err := m.checkOpen(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == 0 {
		return fmt.Errorf("redact latest message: %w", driver.AgentError(m.sessionID, a.id, fmt.Errorf("no message to redact: %w", session.ErrNotFound)))
	}
	latest := a.latest
	if latest == nil {
		var err error
		if latest, err = m.repo.GetMessage(ctx, m.sessionID, a.id, a.next-1); err != nil {
			return fmt.Errorf("redact latest message: %w", err)
		}
	}
	now := m.now()
	ev, err := driver.PrepareGuardrailEvent(&session.GuardrailEvent{
		Action:            r.Action,
		Timestamp:         now,
		StopReason:        r.StopReason,
		PoliciesTriggered: GuardrailSummary(r.Trace),
		Trace:             r.Trace,
	}, now)
	if err != nil {
		return fmt.Errorf("redact latest message: %w", err)
	}
	target := latest.Clone()
	target.RedactMessage = &replacement
	target.EventLoopMetrics, target.GuardrailEvent = nil, nil // keep the stored ones
	target.UpdatedAt = now
	if _, err := driver.PrepareMessage(target, now); err != nil {
		return fmt.Errorf("redact latest message: %w", err)
	}

	hev := m.newEvent(KindMessage, OpRedact)
	hev.AgentID = a.id
	hev.Message = target
	hev.Guardrail = ev
	hev.do = func(ctx context.Context, hev *Event) error {
		if err := m.repo.UpdateMessage(ctx, m.sessionID, a.id, hev.Message); err != nil {
			return err
		}
		// The redaction is written: from here the agent must see it even if
		// recording the audit event fails.
		// The handle's records may be shared with the store: replace them,
		// never change them in place.
		red := hev.Message.RedactMessage.Clone()
		if latest == a.latest {
			updated := *latest
			updated.RedactMessage = &red
			if a.turnAssistant == a.latest {
				a.turnAssistant = &updated
			}
			a.latest = &updated
		}
		if a.latestShown && hev.Message.ID == latest.ID && len(a.messages) > 0 {
			a.messages[len(a.messages)-1] = red
		}
		if hev.Guardrail == nil {
			return nil
		}
		return m.repo.RecordGuardrailEvent(ctx, m.sessionID, a.id, hev.Message.ID, hev.Guardrail)
	}
	if err := m.run(ctx, hev); err != nil {
		return fmt.Errorf("redact latest message: %w", err)
	}
	return nil
}

// guardrailPolicies lists what GuardrailSummary extracts: policy, the key of
// the policy's object in an assessment, the list inside it, and the fields
// joined with "/" to name each item (as the Python original does).
var guardrailPolicies = []struct {
	policy, key, list string
	fields            []string
}{
	{"contentPolicy", "contentPolicy", "filters", []string{"type", "confidence"}},
	{"topicPolicy", "topicPolicy", "topics", []string{"name", "action"}},
	{"wordPolicy", "wordPolicy", "customWords", []string{"match"}},
	{"wordPolicy", "wordPolicy", "managedWordLists", []string{"type", "match"}},
	{"sensitiveInformationPolicy", "sensitiveInformationPolicy", "piiEntities", []string{"type", "action"}},
	{"sensitiveInformationPolicy", "sensitiveInformationPolicy", "regexes", []string{"name", "action"}},
	{"contextualGroundingPolicy", "contextualGroundingPolicy", "filters", []string{"type", "score", "threshold"}},
}

// GuardrailSummary extracts the policies that acted from a guardrail trace:
// {"contentPolicy": ["HATE/HIGH"], "topicPolicy": ["finance/DENY"], ...}.
// It reads the real Bedrock shape — inputAssessment a map guardrailId →
// assessment, outputAssessments a map guardrailId → [assessment] — as well
// as a single inputAssessment and a list of outputAssessments, and a trace
// wrapped as {"guardrail": {...}}. Items that did not act (action "NONE" or
// detected false) are not counted. Unknown shapes are skipped; it never
// fails. Guardrail ids are visited in sorted order, so the result is
// deterministic. A nil or empty trace gives nil.
func GuardrailSummary(trace map[string]any) map[string][]string {
	if len(trace) == 0 {
		return nil
	}
	if g, ok := trace["guardrail"].(map[string]any); ok {
		if _, direct := trace["inputAssessment"]; !direct {
			if _, direct := trace["outputAssessments"]; !direct {
				trace = g
			}
		}
	}
	var assessments []map[string]any
	collectAssessments(trace["inputAssessment"], &assessments, 0)
	collectAssessments(trace["outputAssessments"], &assessments, 0)
	var out map[string][]string
	for _, as := range assessments {
		for _, p := range guardrailPolicies {
			pol, _ := as[p.key].(map[string]any)
			items, _ := pol[p.list].([]any)
			for _, it := range items {
				item, ok := it.(map[string]any)
				if !ok || !acted(item) {
					continue
				}
				parts := make([]string, len(p.fields))
				for i, f := range p.fields {
					parts[i] = pyStr(item[f], "UNKNOWN")
				}
				if out == nil {
					out = map[string][]string{}
				}
				out[p.policy] = append(out[p.policy], strings.Join(parts, "/"))
			}
		}
	}
	return out
}

// collectAssessments appends the assessments found in v: an assessment
// itself, a list of them, or a map guardrailId → either.
func collectAssessments(v any, out *[]map[string]any, depth int) {
	if depth > 2 {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collectAssessments(e, out, depth+1)
		}
	case map[string]any:
		if isAssessment(x) {
			*out = append(*out, x)
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			collectAssessments(x[k], out, depth+1)
		}
	}
}

func isAssessment(m map[string]any) bool {
	for _, p := range guardrailPolicies {
		if _, ok := m[p.key]; ok {
			return true
		}
	}
	_, ok := m["invocationMetrics"]
	return ok
}

// acted reports whether a policy item intervened: Bedrock lists detect-only
// items too, with action "NONE" or detected false.
func acted(item map[string]any) bool {
	if s, ok := item["action"].(string); ok && strings.EqualFold(s, "NONE") {
		return false
	}
	if d, ok := item["detected"].(bool); ok && !d {
		return false
	}
	return true
}

// pyStr formats v as Python's str() would, def for a missing value.
func pyStr(v any, def string) string {
	switch x := v.(type) {
	case nil:
		return def
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return driver.PythonFloat(x)
	}
	return fmt.Sprint(v)
}
