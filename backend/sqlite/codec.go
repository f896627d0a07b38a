package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Times are stored as INTEGER Unix microseconds (UTC): they sort and compare
// in SQL, and microseconds are the precision driver.UTCMicro keeps.

func micros(t time.Time) int64 {
	return t.Unix()*1_000_000 + int64(t.Nanosecond()/1000)
}

// ceilMicros is the smallest stored time not before t.
func ceilMicros(t time.Time) int64 {
	m := micros(t)
	if t.Nanosecond()%1000 != 0 {
		m++
	}
	return m
}

func fromMicros(m int64) time.Time { return time.UnixMicro(m).UTC() }

// encodeMap encodes a canonical map with driver.MarshalValueJSON; a nil map
// is stored as NULL so that nil and empty round-trip distinctly.
func encodeMap(m map[string]any) (sql.NullString, error) {
	if m == nil {
		return sql.NullString{}, nil
	}
	b, err := driver.MarshalValueJSON(m)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeMap(col string, s sql.NullString) (map[string]any, error) {
	if !s.Valid {
		return nil, nil
	}
	v, err := driver.UnmarshalValueJSON([]byte(s.String))
	if err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", col, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decode stored %s: %T is not an object", col, v)
	}
	return m, nil
}

func decodeValue(col string, s string) (any, error) {
	v, err := driver.UnmarshalValueJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", col, err)
	}
	return v, nil
}

func encodeChat(c session.ChatMessage) (string, error) {
	b, err := driver.MarshalValueJSON(c.Map())
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func decodeChat(col, s string) (session.ChatMessage, error) {
	m, err := decodeMap(col, sql.NullString{String: s, Valid: true})
	if err != nil {
		return session.ChatMessage{}, err
	}
	c, err := session.ChatMessageFromMap(m)
	if err != nil {
		return session.ChatMessage{}, fmt.Errorf("decode stored %s: %w", col, err)
	}
	return c, nil
}

func nullLen(s sql.NullString) int64 {
	if !s.Valid {
		return 0
	}
	return int64(len(s.String))
}

// storedConfig is the JSON form of session.AgentConfig.
type storedConfig struct {
	Model          string         `json:"model,omitempty"`
	SystemPrompt   string         `json:"system_prompt,omitempty"`
	PromptMetadata *storedPrompts `json:"prompt_metadata,omitempty"`
}

type storedPrompts struct {
	PromptID       string   `json:"prompt_id,omitempty"`
	PromptName     string   `json:"prompt_name,omitempty"`
	PromptVersion  string   `json:"prompt_version,omitempty"`
	DeploymentID   string   `json:"deployment_id,omitempty"`
	DeploymentName string   `json:"deployment_name,omitempty"`
	Temperature    *float64 `json:"temperature,omitempty"`
}

func encodeConfig(c session.AgentConfig) (string, error) {
	sc := storedConfig{Model: c.Model, SystemPrompt: c.SystemPrompt}
	if p := c.PromptMetadata; p != nil {
		sc.PromptMetadata = &storedPrompts{p.PromptID, p.PromptName, p.PromptVersion, p.DeploymentID, p.DeploymentName, p.Temperature}
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return "", driver.InvalidArgument("config", "cannot encode: %v", err)
	}
	return string(b), nil
}

func decodeConfig(s string) (session.AgentConfig, error) {
	var sc storedConfig
	if err := json.Unmarshal([]byte(s), &sc); err != nil {
		return session.AgentConfig{}, fmt.Errorf("decode stored config: %w", err)
	}
	c := session.AgentConfig{Model: sc.Model, SystemPrompt: sc.SystemPrompt}
	if p := sc.PromptMetadata; p != nil {
		c.PromptMetadata = &session.PromptMetadata{
			PromptID: p.PromptID, PromptName: p.PromptName, PromptVersion: p.PromptVersion,
			DeploymentID: p.DeploymentID, DeploymentName: p.DeploymentName, Temperature: p.Temperature,
		}
	}
	return c, nil
}

// storedMetrics is the JSON form of session.EventLoopMetrics, with the
// Python original's field names.
type storedMetrics struct {
	AccumulatedUsage   storedUsage                `json:"accumulated_usage"`
	AccumulatedMetrics storedLatency              `json:"accumulated_metrics"`
	CycleMetrics       storedCycles               `json:"cycle_metrics"`
	ToolUsage          map[string]storedToolUsage `json:"tool_usage,omitempty"`
	InvocationUsage    *storedUsage               `json:"invocation_usage,omitempty"`
}

type storedUsage struct {
	InputTokens           int64 `json:"inputTokens"`
	OutputTokens          int64 `json:"outputTokens"`
	TotalTokens           int64 `json:"totalTokens"`
	CacheReadInputTokens  int64 `json:"cacheReadInputTokens,omitempty"`
	CacheWriteInputTokens int64 `json:"cacheWriteInputTokens,omitempty"`
}

type storedLatency struct {
	LatencyMs         int64 `json:"latencyMs"`
	TimeToFirstByteMs int64 `json:"timeToFirstByteMs,omitempty"`
}

type storedCycles struct {
	CycleCount       int64   `json:"cycle_count"`
	TotalDuration    float64 `json:"total_duration"`
	AverageCycleTime float64 `json:"average_cycle_time"`
}

type storedToolUsage struct {
	CallCount    int64   `json:"call_count"`
	SuccessCount int64   `json:"success_count"`
	ErrorCount   int64   `json:"error_count"`
	TotalTime    float64 `json:"total_time"`
	AverageTime  float64 `json:"average_time"`
	SuccessRate  float64 `json:"success_rate"`
}

func encodeMetrics(m *session.EventLoopMetrics) (sql.NullString, error) {
	if m == nil {
		return sql.NullString{}, nil
	}
	sm := storedMetrics{
		AccumulatedUsage:   storedUsage(m.AccumulatedUsage),
		AccumulatedMetrics: storedLatency(m.AccumulatedMetrics),
		CycleMetrics:       storedCycles(m.CycleMetrics),
	}
	if m.ToolUsage != nil {
		sm.ToolUsage = make(map[string]storedToolUsage, len(m.ToolUsage))
		for k, v := range m.ToolUsage {
			sm.ToolUsage[k] = storedToolUsage(v)
		}
	}
	if m.InvocationUsage != nil {
		u := storedUsage(*m.InvocationUsage)
		sm.InvocationUsage = &u
	}
	b, err := json.Marshal(sm)
	if err != nil {
		return sql.NullString{}, driver.InvalidArgument("event_loop_metrics", "cannot encode: %v", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeMetrics(s sql.NullString) (*session.EventLoopMetrics, error) {
	if !s.Valid {
		return nil, nil
	}
	var sm storedMetrics
	if err := json.Unmarshal([]byte(s.String), &sm); err != nil {
		return nil, fmt.Errorf("decode stored event_loop_metrics: %w", err)
	}
	m := &session.EventLoopMetrics{
		AccumulatedUsage:   session.Usage(sm.AccumulatedUsage),
		AccumulatedMetrics: session.LatencyMetrics(sm.AccumulatedMetrics),
		CycleMetrics:       session.CycleMetrics(sm.CycleMetrics),
	}
	if sm.ToolUsage != nil {
		m.ToolUsage = make(map[string]session.ToolUsage, len(sm.ToolUsage))
		for k, v := range sm.ToolUsage {
			m.ToolUsage[k] = session.ToolUsage(v)
		}
	}
	if sm.InvocationUsage != nil {
		u := session.Usage(*sm.InvocationUsage)
		m.InvocationUsage = &u
	}
	return m, nil
}

// storedGuardrail is the JSON form of session.GuardrailEvent on a message.
type storedGuardrail struct {
	Action            string              `json:"action"`
	Timestamp         int64               `json:"timestamp_us"`
	StopReason        string              `json:"stop_reason,omitempty"`
	PoliciesTriggered map[string][]string `json:"policies_triggered,omitempty"`
	Trace             json.RawMessage     `json:"trace,omitempty"`
}

func encodeGuardrail(ev *session.GuardrailEvent) (sql.NullString, error) {
	if ev == nil {
		return sql.NullString{}, nil
	}
	sg := storedGuardrail{Action: ev.Action, Timestamp: micros(ev.Timestamp), StopReason: ev.StopReason,
		PoliciesTriggered: ev.PoliciesTriggered}
	if ev.Trace != nil {
		tr, err := driver.MarshalValueJSON(ev.Trace)
		if err != nil {
			return sql.NullString{}, err
		}
		sg.Trace = tr
	}
	b, err := json.Marshal(sg)
	if err != nil {
		return sql.NullString{}, driver.InvalidArgument("guardrail_event", "cannot encode: %v", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeGuardrail(s sql.NullString) (*session.GuardrailEvent, error) {
	if !s.Valid {
		return nil, nil
	}
	var sg storedGuardrail
	if err := json.Unmarshal([]byte(s.String), &sg); err != nil {
		return nil, fmt.Errorf("decode stored guardrail_event: %w", err)
	}
	ev := &session.GuardrailEvent{Action: sg.Action, Timestamp: fromMicros(sg.Timestamp), StopReason: sg.StopReason,
		PoliciesTriggered: sg.PoliciesTriggered}
	if len(sg.Trace) > 0 {
		tr, err := decodeMap("guardrail_event.trace", sql.NullString{String: string(sg.Trace), Valid: true})
		if err != nil {
			return nil, err
		}
		ev.Trace = tr
	}
	return ev, nil
}

func encodePolicies(p map[string][]string) (sql.NullString, error) {
	if p == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return sql.NullString{}, driver.InvalidArgument("policies_triggered", "cannot encode: %v", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodePolicies(s sql.NullString) (map[string][]string, error) {
	if !s.Valid {
		return nil, nil
	}
	var p map[string][]string
	if err := json.Unmarshal([]byte(s.String), &p); err != nil {
		return nil, fmt.Errorf("decode stored policies_triggered: %w", err)
	}
	return p, nil
}
