package driver

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/session"
)

// ValidateSessionID reports whether id may name a session: 1 to 256 bytes of
// valid UTF-8 without "/", NUL or any other control character, and neither
// "." nor "..", which no URL path can address (clients and servers resolve
// them as dot segments). Other ids with "." and "@" are allowed, so e-mail
// addresses and dotted names work.
func ValidateSessionID(id string) error {
	if id == "." || id == ".." {
		return InvalidArgument("session_id", "%q is a dot segment, which no URL path can address", id)
	}
	return validateID("session_id", id, false)
}

// ValidateAgentID reports whether id may name an agent: the session-id rules,
// and additionally no "." anywhere and no leading "$", because an agent id
// becomes a document field name in the Mongo layout.
func ValidateAgentID(id string) error {
	return validateID("agent_id", id, true)
}

// ValidateMetadataKey reports whether key may be a top-level metadata key:
// the agent-id rules (non-empty, at most 256 bytes, no control characters,
// no "/", no ".", no leading "$").
func ValidateMetadataKey(key string) error {
	return validateID("metadata key", key, true)
}

// ValidateMessageID reports whether id is a valid message id (0 or more).
func ValidateMessageID(id int) error {
	if id < 0 {
		return InvalidArgument("message_id", "%d is negative", id)
	}
	return nil
}

func validateID(field, id string, fieldName bool) error {
	switch {
	case id == "":
		return InvalidArgument(field, "must not be empty")
	case len(id) > session.MaxIDBytes:
		return InvalidArgument(field, "%d bytes, longer than %d", len(id), session.MaxIDBytes)
	case !utf8.ValidString(id):
		return InvalidArgument(field, "%q is not valid UTF-8", id)
	case strings.ContainsRune(id, '/'):
		return InvalidArgument(field, "%q must not contain \"/\"", id)
	}
	for _, r := range id {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return InvalidArgument(field, "%q must not contain control character %U", id, r)
		}
	}
	if fieldName {
		if strings.ContainsRune(id, '.') {
			return InvalidArgument(field, "%q must not contain \".\"", id)
		}
		if strings.HasPrefix(id, "$") {
			return InvalidArgument(field, "%q must not start with \"$\"", id)
		}
	}
	return nil
}

// ValidateRating reports whether r is up, down or none.
func ValidateRating(r session.Rating) error {
	switch r {
	case session.RatingUp, session.RatingDown, session.RatingNone:
		return nil
	}
	return InvalidArgument("rating", "%q must be \"up\", \"down\" or empty", r)
}

// ValidatePromptMetadata checks the temperature range.
func ValidatePromptMetadata(p *session.PromptMetadata) error {
	if p == nil || p.Temperature == nil {
		return nil
	}
	t := *p.Temperature
	if math.IsNaN(t) || t < 0 || t > 2 {
		return InvalidArgument("prompt_metadata.temperature", "%v must be within [0, 2]", t)
	}
	return nil
}

// PrepareMetadata validates a metadata update and returns its normalized
// copy: at least one key, every key valid (ValidateMetadataKey), every value
// encodable.
func PrepareMetadata(m map[string]any) (map[string]any, error) {
	if len(m) == 0 {
		return nil, InvalidArgument("metadata", "empty update")
	}
	for k := range m {
		if err := ValidateMetadataKey(k); err != nil {
			return nil, err
		}
	}
	return NormalizeMap("metadata", m)
}

// PrepareMetadataKeys validates the keys of a metadata delete.
func PrepareMetadataKeys(keys []string) ([]string, error) {
	if len(keys) == 0 {
		return nil, InvalidArgument("metadata keys", "empty delete")
	}
	for _, k := range keys {
		if err := ValidateMetadataKey(k); err != nil {
			return nil, err
		}
	}
	return append([]string(nil), keys...), nil
}

// PrepareSession validates s for CreateSession and returns a normalized deep
// copy: the type defaults to TypeAgent, zero times become now (UTC,
// truncated to microseconds as Python writes them), metadata keys and values
// are checked.
func PrepareSession(s *session.Session, now time.Time) (*session.Session, error) {
	if s == nil {
		return nil, InvalidArgument("session", "is nil")
	}
	if err := ValidateSessionID(s.ID); err != nil {
		return nil, err
	}
	out := *s
	out.ForkedFrom = nil // lineage is ForkSession's to record
	if out.Type == "" {
		out.Type = session.TypeAgent
	}
	if !utf8.ValidString(string(out.Type)) || !utf8.ValidString(out.ApplicationName) {
		return nil, InvalidArgument("session", "type and application name must be valid UTF-8")
	}
	if len(out.ApplicationName) > session.MaxIDBytes {
		return nil, InvalidArgument("application_name", "longer than %d bytes", session.MaxIDBytes)
	}
	for k := range out.Metadata {
		if err := ValidateMetadataKey(k); err != nil {
			return nil, err
		}
	}
	md, err := NormalizeMap("metadata", out.Metadata)
	if err != nil {
		return nil, err
	}
	out.Metadata = md
	out.CreatedAt = orNow(out.CreatedAt, now)
	out.UpdatedAt = orNow(out.UpdatedAt, out.CreatedAt)
	if out.ExpiresAt, err = PrepareExpiry(out.ExpiresAt, now); err != nil {
		return nil, err
	}
	return &out, nil
}

// PrepareAgent validates a for CreateAgent or UpdateAgent and returns a
// normalized deep copy with zero times set to now.
func PrepareAgent(a *session.Agent, now time.Time) (*session.Agent, error) {
	if a == nil {
		return nil, InvalidArgument("agent", "is nil")
	}
	if err := ValidateAgentID(a.ID); err != nil {
		return nil, err
	}
	out := *a
	var err error
	if out.State, err = NormalizeMap("state", out.State); err != nil {
		return nil, err
	}
	if out.ConversationManagerState, err = NormalizeMap("conversation_manager_state", out.ConversationManagerState); err != nil {
		return nil, err
	}
	if out.InternalState, err = NormalizeMap("_internal_state", out.InternalState); err != nil {
		return nil, err
	}
	if err := ValidatePromptMetadata(out.Config.PromptMetadata); err != nil {
		return nil, err
	}
	if !utf8.ValidString(out.Config.Model) || !utf8.ValidString(out.Config.SystemPrompt) {
		return nil, InvalidArgument("config", "model and system prompt must be valid UTF-8")
	}
	out.Config = cloneConfig(out.Config)
	out.CreatedAt = orNow(out.CreatedAt, now)
	out.UpdatedAt = orNow(out.UpdatedAt, out.CreatedAt)
	return &out, nil
}

// PrepareMessage validates m for CreateMessage or UpdateMessage and returns a
// normalized deep copy with zero times set to now.
func PrepareMessage(m *session.Message, now time.Time) (*session.Message, error) {
	out := new(session.Message)
	if err := prepareMessageInto(out, m, now); err != nil {
		return nil, err
	}
	return out, nil
}

// prepareMessageInto is PrepareMessage writing into *dst, so that
// NewPreparedMessage holds the result without a second allocation.
func prepareMessageInto(dst, m *session.Message, now time.Time) error {
	if m == nil {
		return InvalidArgument("message", "is nil")
	}
	if err := ValidateMessageID(m.ID); err != nil {
		return err
	}
	out := *m
	body, err := prepareChat("message", m.Message)
	if err != nil {
		return err
	}
	out.Message = body
	if m.RedactMessage != nil {
		r, err := prepareChat("redact_message", *m.RedactMessage)
		if err != nil {
			return err
		}
		out.RedactMessage = &r
	}
	if m.EventLoopMetrics != nil {
		if err := checkMetrics(m.EventLoopMetrics); err != nil {
			return err
		}
		em := cloneMetrics(*m.EventLoopMetrics)
		out.EventLoopMetrics = &em
	}
	if m.GuardrailEvent != nil {
		ev, err := PrepareGuardrailEvent(m.GuardrailEvent, now)
		if err != nil {
			return err
		}
		out.GuardrailEvent = ev
	}
	out.CreatedAt = orNow(out.CreatedAt, now)
	out.UpdatedAt = orNow(out.UpdatedAt, out.CreatedAt)
	*dst = out
	return nil
}

// PrepareGuardrailEvent validates ev and returns a normalized deep copy; the
// action defaults to "BLOCKED" and a zero timestamp to now.
func PrepareGuardrailEvent(ev *session.GuardrailEvent, now time.Time) (*session.GuardrailEvent, error) {
	if ev == nil {
		return nil, InvalidArgument("guardrail_event", "is nil")
	}
	out := *ev
	if out.Action == "" {
		out.Action = "BLOCKED"
	}
	tr, err := NormalizeMap("guardrail_event.trace", out.Trace)
	if err != nil {
		return nil, err
	}
	out.Trace = tr
	out.PoliciesTriggered = clonePolicies(out.PoliciesTriggered)
	out.Timestamp = orNow(out.Timestamp, now)
	return &out, nil
}

// PrepareFeedback validates f for AddFeedback and returns a normalized deep
// copy: the rating is up, down or none; a message id needs an agent id;
// Extra keys follow the metadata-key rules and must not shadow the named
// fields; a zero CreatedAt becomes now; an empty ID gets newID().
func PrepareFeedback(f *session.Feedback, now time.Time, newID func() string) (*session.Feedback, error) {
	if f == nil {
		return nil, InvalidArgument("feedback", "is nil")
	}
	if err := ValidateRating(f.Rating); err != nil {
		return nil, err
	}
	out := *f
	if out.AgentID != "" {
		if err := ValidateAgentID(out.AgentID); err != nil {
			return nil, err
		}
	}
	if out.MessageID != nil {
		if out.AgentID == "" {
			return nil, InvalidArgument("feedback.message_id", "needs an agent_id")
		}
		if err := ValidateMessageID(*out.MessageID); err != nil {
			return nil, err
		}
		id := *out.MessageID
		out.MessageID = &id
	}
	if !utf8.ValidString(out.Comment) {
		return nil, InvalidArgument("feedback.comment", "is not valid UTF-8")
	}
	for k := range out.Extra {
		if err := ValidateMetadataKey(k); err != nil {
			return nil, fmt.Errorf("feedback extra field: %w", err)
		}
		if reservedFeedbackKeys[k] {
			return nil, InvalidArgument("feedback extra field", "%q is reserved", k)
		}
	}
	extra, err := NormalizeMap("feedback", out.Extra)
	if err != nil {
		return nil, err
	}
	out.Extra = extra
	if out.ID == "" {
		out.ID = newID()
	} else if err := validateID("feedback id", out.ID, true); err != nil {
		return nil, err
	}
	out.CreatedAt = orNow(out.CreatedAt, now)
	return &out, nil
}

// reservedFeedbackKeys are the stored feedback fields Extra must not shadow.
var reservedFeedbackKeys = map[string]bool{
	"feedback_id": true, "rating": true, "comment": true, "agent_id": true,
	"message_id": true, "created_at": true, "_id": true,
}

func prepareChat(field string, c session.ChatMessage) (session.ChatMessage, error) {
	if c.Role != session.RoleUser && c.Role != session.RoleAssistant {
		return session.ChatMessage{}, InvalidArgument(field+".role", "%q must be \"user\" or \"assistant\"", c.Role)
	}
	out := session.ChatMessage{Role: c.Role, Content: make([]session.ContentBlock, len(c.Content))}
	for i, b := range c.Content {
		n, err := normalizeBlock(field, i, b)
		if err != nil {
			return session.ChatMessage{}, err
		}
		if err := checkNamed(checkBlock, func() *valuePath { return blockPath(field, i) }, n); err != nil {
			return session.ChatMessage{}, err
		}
		out.Content[i] = n
	}
	if c.Metadata != nil {
		var err error
		if out.Metadata, err = NormalizeMap(field+".metadata", c.Metadata); err != nil {
			return session.ChatMessage{}, err
		}
		metadata := func() *valuePath { return &valuePath{parent: &valuePath{key: field}, key: "metadata"} }
		if err := checkNamed(checkMessageMetadata, metadata, out.Metadata); err != nil {
			return session.ChatMessage{}, err
		}
	}
	for k := range c.Extra {
		if k == "role" || k == "content" || k == "metadata" {
			return session.ChatMessage{}, InvalidArgument(field, "extra key %q shadows a field", k)
		}
	}
	if c.Extra != nil {
		var err error
		if out.Extra, err = NormalizeMap(field, c.Extra); err != nil {
			return session.ChatMessage{}, err
		}
	}
	return out, nil
}

// UTCMicro converts t to UTC at microsecond precision, the precision Python's
// isoformat() writes.
func UTCMicro(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return UTCMicro(now)
	}
	return UTCMicro(t)
}

// blockPath is the path of content block i of field, for error messages.
func blockPath(field string, i int) *valuePath {
	return &valuePath{parent: &valuePath{key: field + ".content"}, index: i, isIndex: true}
}

// normalizeBlock normalizes content block i of field; it builds the
// block's path only when normalizeFast cannot do the work, for normalize
// to name what it rejects.
func normalizeBlock(field string, i int, b session.ContentBlock) (map[string]any, error) {
	if b == nil {
		return nil, nil
	}
	if n, ok := normalizeFast(map[string]any(b), 0); ok {
		return n.(map[string]any), nil
	}
	n, err := normalize(blockPath(field, i), map[string]any(b), 0)
	if err != nil {
		return nil, err
	}
	return n.(map[string]any), nil
}

// cloneConfig, cloneMetrics and clonePolicies deep-copy the parts of a
// record that are not free-form maps, as the types' Clone methods do.
func cloneConfig(c session.AgentConfig) session.AgentConfig {
	return (&session.Agent{Config: c}).Clone().Config
}

func cloneMetrics(m session.EventLoopMetrics) session.EventLoopMetrics {
	return *(&session.Message{EventLoopMetrics: &m}).Clone().EventLoopMetrics
}

func clonePolicies(p map[string][]string) map[string][]string {
	return (&session.GuardrailEvent{PoliciesTriggered: p}).Clone().PoliciesTriggered
}
