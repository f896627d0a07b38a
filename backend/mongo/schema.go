package mongo

import (
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/session"
)

// Field names of the session document. They are the Python original's
// (original.md §2), plus the denormalized fields this backend adds where the
// original's reader ignores them: at the root and at the agent level, never
// inside agent_data or a message element.
const (
	fID               = "_id"
	fSessionID        = "session_id"
	fApplicationName  = "application_name"
	fSessionType      = "session_type"
	fViewerPassword   = "session_viewer_password"
	fCreatedAt        = "created_at"
	fUpdatedAt        = "updated_at"
	fAgents           = "agents"
	fMetadata         = "metadata"
	fFeedbacks        = "feedbacks"
	fGuardrailEvents  = "guardrail_events"
	fSchemaVersion    = "schema_version" // root, added by this backend
	fDocSize          = "doc_size"       // root, added: upper bound of the document's BSON size
	fAgentIDs         = "agent_ids"      // root, added: ids of the agents this backend created, in order
	fAgentData        = "agent_data"
	fMessages         = "messages"
	fMessageCount     = "message_count" // agent level, added: len(messages), the next message id
	fMessageID        = "message_id"
	fMessage          = "message"
	fRedactMessage    = "redact_message"
	fEventLoopMetrics = "event_loop_metrics"
	fGuardrailEvent   = "guardrail_event"
	fFeedbackID       = "feedback_id"    // feedback element, added
	fExpiresAt        = "expires_at"     // root, added: the session's expiry (a BSON date), absent for never
	fSnapshotEpoch    = "snapshot_epoch" // root, added by the first PutSnapshot: which holder of the id snapshots belong to
)

// schemaVersion is the layout version written on new documents. Documents
// without the field were written by the Python original (layout 1 as well).
const schemaVersion = 1

// encodeSession builds the root document of a new session. Metadata fields
// configured in Options.MetadataFields are pre-filled with "" first, as the
// original does, and then overlaid with s.Metadata.
func encodeSession(s *session.Session, metadataFields []string) bson.D {
	md := map[string]any{}
	for _, f := range metadataFields {
		md[f] = ""
	}
	for k, v := range s.Metadata {
		md[k] = v
	}
	var app any
	if s.ApplicationName != "" {
		app = s.ApplicationName
	}
	d := bson.D{
		{Key: fID, Value: s.ID},
		{Key: fSessionID, Value: s.ID},
		{Key: fApplicationName, Value: app},
		{Key: fSessionType, Value: string(s.Type)},
		{Key: fViewerPassword, Value: s.ViewerPasswordHash},
		{Key: fCreatedAt, Value: bsonTime(s.CreatedAt)},
		{Key: fUpdatedAt, Value: bsonTime(s.UpdatedAt)},
		{Key: fAgents, Value: bson.D{}},
		{Key: fAgentIDs, Value: bson.A{}},
		{Key: fMetadata, Value: mapToD(md)},
		{Key: fFeedbacks, Value: bson.A{}},
		{Key: fGuardrailEvents, Value: bson.A{}},
		{Key: fSchemaVersion, Value: int32(schemaVersion)},
	}
	if !s.ExpiresAt.IsZero() {
		d = append(d, bson.E{Key: fExpiresAt, Value: bsonTime(s.ExpiresAt)})
	}
	return append(d, bson.E{Key: fDocSize, Value: int64(0)}) // last: createSession fills it in
}

// decodeSession reads the root fields of a session document.
func decodeSession(d bson.D) *session.Session {
	s := &session.Session{
		ID:                 str(d, fSessionID),
		Type:               session.Type(str(d, fSessionType)),
		ApplicationName:    str(d, fApplicationName),
		ViewerPasswordHash: str(d, fViewerPassword),
	}
	if s.ID == "" {
		s.ID = str(d, fID)
	}
	if s.Type == "" {
		s.Type = session.TypeAgent
	}
	v, _ := field(d, fCreatedAt)
	s.CreatedAt = timeOf(v)
	v, _ = field(d, fUpdatedAt)
	s.UpdatedAt = timeOf(v)
	if v, ok := field(d, fExpiresAt); ok && v != nil {
		s.ExpiresAt = timeOf(v)
	}
	md, _ := field(d, fMetadata)
	s.Metadata = fromBSONMap(md)
	if s.Metadata == nil {
		s.Metadata = map[string]any{}
	}
	s.ForkedFrom = decodeForkOrigin(d)
	return s
}

// encodeAgentData builds agent_data: the Strands SessionAgent fields and the
// configuration the original's manager adds (model, system_prompt,
// prompt_metadata), written only when set.
func encodeAgentData(a *session.Agent) bson.D {
	d := bson.D{
		{Key: "agent_id", Value: a.ID},
		{Key: "state", Value: mapToD(a.State)},
		{Key: "conversation_manager_state", Value: mapToD(a.ConversationManagerState)},
		{Key: "_internal_state", Value: mapToD(a.InternalState)},
		{Key: fCreatedAt, Value: bsonTime(a.CreatedAt)},
		{Key: fUpdatedAt, Value: bsonTime(a.UpdatedAt)},
	}
	return append(d, encodeConfig(a.Config)...)
}

// encodeConfig returns the agent_data configuration fields that are set.
func encodeConfig(c session.AgentConfig) bson.D {
	var d bson.D
	if c.Model != "" {
		d = append(d, bson.E{Key: "model", Value: c.Model})
	}
	if c.SystemPrompt != "" {
		d = append(d, bson.E{Key: "system_prompt", Value: c.SystemPrompt})
	}
	if c.PromptMetadata != nil {
		d = append(d, bson.E{Key: "prompt_metadata", Value: encodePromptMetadata(c.PromptMetadata)})
	}
	return d
}

func encodePromptMetadata(p *session.PromptMetadata) bson.D {
	d := bson.D{
		{Key: "prompt_id", Value: p.PromptID},
		{Key: "prompt_name", Value: p.PromptName},
		{Key: "prompt_version", Value: p.PromptVersion},
		{Key: "deployment_id", Value: p.DeploymentID},
		{Key: "deployment_name", Value: p.DeploymentName},
	}
	if p.Temperature != nil {
		d = append(d, bson.E{Key: "temperature", Value: *p.Temperature})
	}
	return d
}

// encodeAgentEntry builds agents.<id> for a new agent.
func encodeAgentEntry(a *session.Agent) bson.D {
	return bson.D{
		{Key: fAgentData, Value: encodeAgentData(a)},
		{Key: fMessages, Value: bson.A{}},
		{Key: fCreatedAt, Value: bsonTime(a.CreatedAt)},
		{Key: fUpdatedAt, Value: bsonTime(a.UpdatedAt)},
		{Key: fMessageCount, Value: int64(0)},
	}
}

// decodeAgent reads an agent entry (agents.<id>). It reports false when the
// entry has no agent_data, which the original may leave behind (its bug B8):
// such an entry is not an agent.
func decodeAgent(id string, entry bson.D) (*session.Agent, bool) {
	data := docOf(mustField(entry, fAgentData))
	if data == nil {
		return nil, false
	}
	a := &session.Agent{ID: id}
	a.State = nonNilMap(fromBSONMap(mustField(data, "state")))
	a.ConversationManagerState = nonNilMap(fromBSONMap(mustField(data, "conversation_manager_state")))
	a.InternalState = nonNilMap(fromBSONMap(mustField(data, "_internal_state")))
	a.Config.Model = str(data, "model")
	a.Config.SystemPrompt = systemPrompt(mustField(data, "system_prompt"))
	if p := docOf(mustField(data, "prompt_metadata")); p != nil {
		pm := &session.PromptMetadata{
			PromptID: str(p, "prompt_id"), PromptName: str(p, "prompt_name"), PromptVersion: str(p, "prompt_version"),
			DeploymentID: str(p, "deployment_id"), DeploymentName: str(p, "deployment_name"),
		}
		if t, ok := field(p, "temperature"); ok && t != nil {
			f := number(t)
			pm.Temperature = &f
		}
		a.Config.PromptMetadata = pm
	}
	a.CreatedAt = timeOf(mustField(entry, fCreatedAt))
	a.UpdatedAt = timeOf(mustField(entry, fUpdatedAt))
	if a.CreatedAt.IsZero() {
		a.CreatedAt = timeOf(mustField(data, fCreatedAt))
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = timeOf(mustField(data, fUpdatedAt))
	}
	return a, true
}

// systemPrompt reads system_prompt, which newer Strands SDKs may store as a
// list of content blocks: their text parts are joined.
func systemPrompt(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bson.A:
		var out string
		for _, e := range x {
			if d := docOf(e); d != nil {
				out += str(d, "text")
			}
		}
		return out
	}
	return ""
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func mustField(d bson.D, key string) any {
	v, _ := field(d, key)
	return v
}

// encodeChat builds a Strands message document {role, content, metadata?,
// extra keys...}.
func encodeChat(c session.ChatMessage) bson.D {
	content := make(bson.A, len(c.Content))
	for i, b := range c.Content {
		content[i] = mapToD(b)
	}
	d := bson.D{{Key: "role", Value: string(c.Role)}, {Key: "content", Value: content}}
	if c.Metadata != nil {
		d = append(d, bson.E{Key: "metadata", Value: mapToD(c.Metadata)})
	}
	if len(c.Extra) > 0 {
		d = append(d, mapToD(c.Extra)...)
	}
	return d
}

func decodeChat(v any) (session.ChatMessage, error) {
	m := fromBSONMap(v)
	if m == nil {
		return session.ChatMessage{}, fmt.Errorf("message is %T, not a document", v)
	}
	return session.ChatMessageFromMap(m)
}

// encodeMessage builds a message element exactly as the original's
// SessionMessage.__dict__: message, message_id, redact_message (explicit
// null), created_at, updated_at, and the optional event_loop_metrics and
// guardrail_event. No other key is ever added: the original's reader breaks
// on unknown keys.
func encodeMessage(m *session.Message) bson.D {
	var redact any
	if m.RedactMessage != nil {
		redact = encodeChat(*m.RedactMessage)
	}
	d := bson.D{
		{Key: fMessage, Value: encodeChat(m.Message)},
		{Key: fMessageID, Value: int64(m.ID)},
		{Key: fRedactMessage, Value: redact},
		{Key: fCreatedAt, Value: bsonTime(m.CreatedAt)},
		{Key: fUpdatedAt, Value: bsonTime(m.UpdatedAt)},
	}
	if m.EventLoopMetrics != nil {
		d = append(d, bson.E{Key: fEventLoopMetrics, Value: encodeMetrics(m.EventLoopMetrics)})
	}
	if m.GuardrailEvent != nil {
		d = append(d, bson.E{Key: fGuardrailEvent, Value: encodeGuardrail(m.GuardrailEvent)})
	}
	return d
}

// decodeMessage reads a message element. Legacy keys (latency_ms,
// input_tokens, output_tokens) are ignored as the original ignores them.
func decodeMessage(d bson.D) (*session.Message, error) {
	id, ok := integer(mustField(d, fMessageID))
	if !ok {
		return nil, fmt.Errorf("message element without an integer message_id")
	}
	chat, err := decodeChat(mustField(d, fMessage))
	if err != nil {
		return nil, fmt.Errorf("message %d: %w", id, err)
	}
	m := &session.Message{ID: int(id), Message: chat}
	if r, ok := field(d, fRedactMessage); ok && r != nil {
		rc, err := decodeChat(r)
		if err != nil {
			return nil, fmt.Errorf("message %d: redact_message: %w", id, err)
		}
		m.RedactMessage = &rc
	}
	m.CreatedAt = timeOf(mustField(d, fCreatedAt))
	m.UpdatedAt = timeOf(mustField(d, fUpdatedAt))
	if em := docOf(mustField(d, fEventLoopMetrics)); em != nil {
		m.EventLoopMetrics = decodeMetrics(em)
	}
	if ev := docOf(mustField(d, fGuardrailEvent)); ev != nil {
		m.GuardrailEvent = decodeGuardrail(ev)
	}
	return m, nil
}

// encodeMetrics writes event_loop_metrics with the original's mixed key
// casing (original.md §9.6). invocation_usage is this backend's addition; the
// original drops the whole event_loop_metrics key on read, so it is safe.
func encodeMetrics(m *session.EventLoopMetrics) bson.D {
	tools := make([]string, 0, len(m.ToolUsage))
	for k := range m.ToolUsage {
		tools = append(tools, k)
	}
	sort.Strings(tools)
	tu := make(bson.D, 0, len(tools))
	for _, k := range tools {
		u := m.ToolUsage[k]
		tu = append(tu, bson.E{Key: escapeKey(k), Value: bson.D{
			{Key: "call_count", Value: u.CallCount}, {Key: "success_count", Value: u.SuccessCount},
			{Key: "error_count", Value: u.ErrorCount}, {Key: "total_time", Value: u.TotalTime},
			{Key: "average_time", Value: u.AverageTime}, {Key: "success_rate", Value: u.SuccessRate},
		}})
	}
	d := bson.D{
		{Key: "accumulated_metrics", Value: bson.D{
			{Key: "latencyMs", Value: m.AccumulatedMetrics.LatencyMs},
			{Key: "timeToFirstByteMs", Value: m.AccumulatedMetrics.TimeToFirstByteMs},
		}},
		{Key: "accumulated_usage", Value: encodeUsage(m.AccumulatedUsage)},
		{Key: "cycle_metrics", Value: bson.D{
			{Key: "cycle_count", Value: m.CycleMetrics.CycleCount},
			{Key: "total_duration", Value: m.CycleMetrics.TotalDuration},
			{Key: "average_cycle_time", Value: m.CycleMetrics.AverageCycleTime},
		}},
		{Key: "tool_usage", Value: tu},
	}
	if m.InvocationUsage != nil {
		d = append(d, bson.E{Key: "invocation_usage", Value: encodeUsage(*m.InvocationUsage)})
	}
	return d
}

func encodeUsage(u session.Usage) bson.D {
	return bson.D{
		{Key: "inputTokens", Value: u.InputTokens}, {Key: "outputTokens", Value: u.OutputTokens},
		{Key: "totalTokens", Value: u.TotalTokens}, {Key: "cacheReadInputTokens", Value: u.CacheReadInputTokens},
		{Key: "cacheWriteInputTokens", Value: u.CacheWriteInputTokens},
	}
}

func decodeUsage(d bson.D) session.Usage {
	i := func(k string) int64 { n, _ := integer(mustField(d, k)); return n }
	return session.Usage{
		InputTokens: i("inputTokens"), OutputTokens: i("outputTokens"), TotalTokens: i("totalTokens"),
		CacheReadInputTokens: i("cacheReadInputTokens"), CacheWriteInputTokens: i("cacheWriteInputTokens"),
	}
}

func decodeMetrics(d bson.D) *session.EventLoopMetrics {
	i := func(doc bson.D, k string) int64 { n, _ := integer(mustField(doc, k)); return n }
	f := func(doc bson.D, k string) float64 { return number(mustField(doc, k)) }
	m := &session.EventLoopMetrics{}
	am := docOf(mustField(d, "accumulated_metrics"))
	m.AccumulatedMetrics = session.LatencyMetrics{LatencyMs: i(am, "latencyMs"), TimeToFirstByteMs: i(am, "timeToFirstByteMs")}
	m.AccumulatedUsage = decodeUsage(docOf(mustField(d, "accumulated_usage")))
	cm := docOf(mustField(d, "cycle_metrics"))
	m.CycleMetrics = session.CycleMetrics{CycleCount: i(cm, "cycle_count"), TotalDuration: f(cm, "total_duration"), AverageCycleTime: f(cm, "average_cycle_time")}
	if tu := docOf(mustField(d, "tool_usage")); len(tu) > 0 {
		m.ToolUsage = make(map[string]session.ToolUsage, len(tu))
		for _, e := range tu {
			u := docOf(e.Value)
			m.ToolUsage[unescapeKey(e.Key)] = session.ToolUsage{
				CallCount: i(u, "call_count"), SuccessCount: i(u, "success_count"), ErrorCount: i(u, "error_count"),
				TotalTime: f(u, "total_time"), AverageTime: f(u, "average_time"), SuccessRate: f(u, "success_rate"),
			}
		}
	} else {
		m.ToolUsage = map[string]session.ToolUsage{}
	}
	if iu := docOf(mustField(d, "invocation_usage")); iu != nil {
		u := decodeUsage(iu)
		m.InvocationUsage = &u
	}
	return m
}

func encodePolicies(p map[string][]string) bson.D {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d := make(bson.D, 0, len(keys))
	for _, k := range keys {
		items := make(bson.A, len(p[k]))
		for i, s := range p[k] {
			items[i] = s
		}
		d = append(d, bson.E{Key: escapeKey(k), Value: items})
	}
	return d
}

func decodePolicies(v any) map[string][]string {
	d := docOf(v)
	if d == nil {
		return nil
	}
	out := make(map[string][]string, len(d))
	for _, e := range d {
		items, _ := e.Value.(bson.A)
		list := make([]string, 0, len(items))
		for _, it := range items {
			if s, ok := it.(string); ok {
				list = append(list, s)
			}
		}
		out[unescapeKey(e.Key)] = list
	}
	return out
}

// encodeGuardrail builds a message-level guardrail_event.
func encodeGuardrail(ev *session.GuardrailEvent) bson.D {
	d := bson.D{{Key: "action", Value: ev.Action}, {Key: "timestamp", Value: bsonTime(ev.Timestamp)}}
	if ev.StopReason != "" {
		d = append(d, bson.E{Key: "stop_reason", Value: ev.StopReason})
	}
	if ev.PoliciesTriggered != nil {
		d = append(d, bson.E{Key: "policies_triggered", Value: encodePolicies(ev.PoliciesTriggered)})
	}
	if ev.Trace != nil {
		d = append(d, bson.E{Key: "trace", Value: mapToD(ev.Trace)})
	}
	return d
}

func decodeGuardrail(d bson.D) *session.GuardrailEvent {
	return &session.GuardrailEvent{
		Action:            str(d, "action"),
		Timestamp:         timeOf(mustField(d, "timestamp")),
		StopReason:        str(d, "stop_reason"),
		PoliciesTriggered: decodePolicies(mustField(d, "policies_triggered")),
		Trace:             fromBSONMap(mustField(d, "trace")),
	}
}

// encodeSessionGuardrail builds a guardrail_events[] entry.
func encodeSessionGuardrail(agentID string, messageID int, ev *session.GuardrailEvent) bson.D {
	d := bson.D{
		{Key: fMessageID, Value: int64(messageID)}, {Key: "agent_id", Value: agentID},
		{Key: "action", Value: ev.Action}, {Key: "timestamp", Value: bsonTime(ev.Timestamp)},
	}
	if ev.StopReason != "" {
		d = append(d, bson.E{Key: "stop_reason", Value: ev.StopReason})
	}
	if ev.PoliciesTriggered != nil {
		d = append(d, bson.E{Key: "policies_triggered", Value: encodePolicies(ev.PoliciesTriggered)})
	}
	return d
}

func decodeSessionGuardrail(d bson.D) *session.SessionGuardrailEvent {
	id, _ := integer(mustField(d, fMessageID))
	return &session.SessionGuardrailEvent{
		AgentID: str(d, "agent_id"), MessageID: int(id), Action: str(d, "action"),
		Timestamp: timeOf(mustField(d, "timestamp")), StopReason: str(d, "stop_reason"),
		PoliciesTriggered: decodePolicies(mustField(d, "policies_triggered")),
	}
}

// encodeFeedback builds a feedbacks[] entry: the caller's extra fields, then
// rating (null for none, as the original), comment, this backend's
// feedback_id / agent_id / message_id (the original returns feedback dicts
// verbatim, so extra keys are safe), and created_at.
func encodeFeedback(f *session.Feedback) bson.D {
	d := mapToD(f.Extra)
	var rating any
	if f.Rating != session.RatingNone {
		rating = string(f.Rating)
	}
	d = append(d, bson.E{Key: "rating", Value: rating}, bson.E{Key: "comment", Value: f.Comment},
		bson.E{Key: fFeedbackID, Value: f.ID})
	if f.AgentID != "" {
		d = append(d, bson.E{Key: "agent_id", Value: f.AgentID})
	}
	if f.MessageID != nil {
		d = append(d, bson.E{Key: fMessageID, Value: int64(*f.MessageID)})
	}
	return append(d, bson.E{Key: fCreatedAt, Value: bsonTime(f.CreatedAt)})
}

// decodeFeedback reads a feedbacks[] entry; index gives feedback written by
// the original (which has no id) the stable id "legacy-<index>".
func decodeFeedback(d bson.D, index int) *session.Feedback {
	f := &session.Feedback{ID: str(d, fFeedbackID)}
	if f.ID == "" {
		f.ID = fmt.Sprintf("legacy-%d", index)
	}
	for _, e := range d {
		switch e.Key {
		case "rating":
			s, _ := e.Value.(string)
			f.Rating = session.Rating(s)
		case "comment":
			f.Comment, _ = e.Value.(string)
		case "agent_id":
			f.AgentID, _ = e.Value.(string)
		case fMessageID:
			if id, ok := integer(e.Value); ok {
				n := int(id)
				f.MessageID = &n
			}
		case fCreatedAt:
			f.CreatedAt = timeOf(e.Value)
		case fFeedbackID, fID:
		default:
			if f.Extra == nil {
				f.Extra = map[string]any{}
			}
			f.Extra[unescapeKey(e.Key)] = fromBSON(e.Value)
		}
	}
	return f
}
