package rediscache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The cached value format: one version byte, one status byte, then the
// record. A reader that meets another version treats the entry as a miss, so
// a rolling upgrade that changes the format never decodes garbage.
const (
	formatVersion byte = 1

	statusFound    byte = 1
	statusNotFound byte = 2 // followed by the backend's error text
)

// Value tags of the compact binary encoding of canonical values (see
// session.Normalize). Integers are zig-zag varints, lengths uvarints.
const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagInt
	tagFloat
	tagString
	tagBytes
	tagList
	tagMap
)

// errCorrupt reports a cached entry that does not decode; the decorator
// counts it as an error and reads the backend instead.
var errCorrupt = errors.New("rediscache: corrupt cache entry")

// encoder appends the compact encoding to buf.
type encoder struct{ buf []byte }

func newEncoder(status byte) *encoder {
	return &encoder{buf: append(make([]byte, 0, 256), formatVersion, status)}
}

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) varint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) byte(b byte)      { e.buf = append(e.buf, b) }

func (e *encoder) bool(b bool) {
	if b {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

func (e *encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) float(f float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
}

// time keeps the zero time distinct and every other instant exact to the
// nanosecond, in UTC.
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.byte(0)
		return
	}
	e.byte(1)
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

// value encodes a canonical value. Anything else cannot come out of a
// backend that follows the contract; it is reported so that the entry is not
// cached rather than cached wrong.
func (e *encoder) value(v any) error {
	switch x := v.(type) {
	case nil:
		e.byte(tagNil)
	case bool:
		if x {
			e.byte(tagTrue)
		} else {
			e.byte(tagFalse)
		}
	case int64:
		e.byte(tagInt)
		e.varint(x)
	case float64:
		e.byte(tagFloat)
		e.float(x)
	case string:
		e.byte(tagString)
		e.string(x)
	case []byte:
		e.byte(tagBytes)
		e.string(string(x))
	case []any:
		e.byte(tagList)
		e.uvarint(uint64(len(x)))
		for _, el := range x {
			if err := e.value(el); err != nil {
				return err
			}
		}
	case map[string]any:
		return e.mapValue(x)
	case session.ContentBlock:
		return e.mapValue(x)
	default:
		return fmt.Errorf("rediscache: cannot encode %T", v)
	}
	return nil
}

// mapValue encodes a map, keeping nil distinct from empty.
func (e *encoder) mapValue(m map[string]any) error {
	if m == nil {
		e.byte(tagNil)
		return nil
	}
	e.byte(tagMap)
	e.uvarint(uint64(len(m)))
	for k, v := range m {
		e.string(k)
		if err := e.value(v); err != nil {
			return err
		}
	}
	return nil
}

// decoder reads the compact encoding. Every read is bounds-checked: a
// corrupt or truncated entry yields errCorrupt, never a panic.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.buf) == 0 {
		d.fail()
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// length reads a count of items each at least min bytes long, rejecting
// counts the remaining input cannot hold (so a corrupt length cannot make
// the decoder allocate gigabytes).
func (d *decoder) length(min int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.buf)) || (min > 0 && n > uint64(len(d.buf)/min)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) int() int { return int(d.varint()) }

func (d *decoder) bool() bool { return d.byte() == 1 }

func (d *decoder) string() string {
	n := d.length(0)
	if d.err != nil {
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) bytes() []byte {
	n := d.length(0)
	if d.err != nil {
		return nil
	}
	b := make([]byte, n)
	copy(b, d.buf[:n])
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) float() float64 {
	if d.err != nil || len(d.buf) < 8 {
		d.fail()
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.buf))
	d.buf = d.buf[8:]
	return f
}

func (d *decoder) time() time.Time {
	if d.byte() == 0 {
		return time.Time{}
	}
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) value(depth int) any {
	if depth > 256 {
		d.fail()
		return nil
	}
	switch d.byte() {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		return d.varint()
	case tagFloat:
		return d.float()
	case tagString:
		return d.string()
	case tagBytes:
		return d.bytes()
	case tagList:
		n := d.length(1)
		out := make([]any, n)
		for i := range out {
			out[i] = d.value(depth + 1)
		}
		return out
	case tagMap:
		return d.mapBody(depth)
	}
	d.fail()
	return nil
}

func (d *decoder) mapBody(depth int) map[string]any {
	n := d.length(2)
	out := make(map[string]any, n)
	for range n {
		k := d.string()
		out[k] = d.value(depth + 1)
	}
	return out
}

// mapValue decodes a map written by encoder.mapValue (nil stays nil).
func (d *decoder) mapValue() map[string]any {
	switch d.byte() {
	case tagNil:
		return nil
	case tagMap:
		return d.mapBody(0)
	}
	d.fail()
	return nil
}

// --- records ---

func (e *encoder) session(s *session.Session) error {
	e.string(s.ID)
	e.string(string(s.Type))
	e.string(s.ApplicationName)
	e.string(s.ViewerPasswordHash)
	e.time(s.CreatedAt)
	e.time(s.UpdatedAt)
	return e.mapValue(s.Metadata)
}

func (d *decoder) session() *session.Session {
	s := &session.Session{
		ID: d.string(), Type: session.Type(d.string()), ApplicationName: d.string(),
		ViewerPasswordHash: d.string(),
	}
	s.CreatedAt = d.time()
	s.UpdatedAt = d.time()
	s.Metadata = d.mapValue()
	return s
}

func (e *encoder) agent(a *session.Agent) error {
	e.string(a.ID)
	for _, m := range []map[string]any{a.State, a.ConversationManagerState, a.InternalState} {
		if err := e.mapValue(m); err != nil {
			return err
		}
	}
	e.string(a.Config.Model)
	e.string(a.Config.SystemPrompt)
	p := a.Config.PromptMetadata
	e.bool(p != nil)
	if p != nil {
		e.string(p.PromptID)
		e.string(p.PromptName)
		e.string(p.PromptVersion)
		e.string(p.DeploymentID)
		e.string(p.DeploymentName)
		e.bool(p.Temperature != nil)
		if p.Temperature != nil {
			e.float(*p.Temperature)
		}
	}
	e.time(a.CreatedAt)
	e.time(a.UpdatedAt)
	return nil
}

func (d *decoder) agent() *session.Agent {
	a := &session.Agent{ID: d.string()}
	a.State = d.mapValue()
	a.ConversationManagerState = d.mapValue()
	a.InternalState = d.mapValue()
	a.Config.Model = d.string()
	a.Config.SystemPrompt = d.string()
	if d.bool() {
		p := &session.PromptMetadata{
			PromptID: d.string(), PromptName: d.string(), PromptVersion: d.string(),
			DeploymentID: d.string(), DeploymentName: d.string(),
		}
		if d.bool() {
			t := d.float()
			p.Temperature = &t
		}
		a.Config.PromptMetadata = p
	}
	a.CreatedAt = d.time()
	a.UpdatedAt = d.time()
	return a
}

func (e *encoder) chat(c *session.ChatMessage) error {
	e.string(string(c.Role))
	e.bool(c.Content != nil)
	if c.Content != nil {
		e.uvarint(uint64(len(c.Content)))
		for _, b := range c.Content {
			if err := e.mapValue(b); err != nil {
				return err
			}
		}
	}
	if err := e.mapValue(c.Metadata); err != nil {
		return err
	}
	return e.mapValue(c.Extra)
}

func (d *decoder) chat() session.ChatMessage {
	c := session.ChatMessage{Role: session.Role(d.string())}
	if d.bool() {
		n := d.length(1)
		c.Content = make([]session.ContentBlock, n)
		for i := range c.Content {
			c.Content[i] = d.mapValue()
		}
	}
	c.Metadata = d.mapValue()
	c.Extra = d.mapValue()
	return c
}

func (e *encoder) usage(u *session.Usage) {
	e.varint(u.InputTokens)
	e.varint(u.OutputTokens)
	e.varint(u.TotalTokens)
	e.varint(u.CacheReadInputTokens)
	e.varint(u.CacheWriteInputTokens)
}

func (d *decoder) usage() session.Usage {
	return session.Usage{
		InputTokens: d.varint(), OutputTokens: d.varint(), TotalTokens: d.varint(),
		CacheReadInputTokens: d.varint(), CacheWriteInputTokens: d.varint(),
	}
}

func (e *encoder) metrics(m *session.EventLoopMetrics) {
	e.usage(&m.AccumulatedUsage)
	e.varint(m.AccumulatedMetrics.LatencyMs)
	e.varint(m.AccumulatedMetrics.TimeToFirstByteMs)
	e.varint(m.CycleMetrics.CycleCount)
	e.float(m.CycleMetrics.TotalDuration)
	e.float(m.CycleMetrics.AverageCycleTime)
	e.bool(m.ToolUsage != nil)
	if m.ToolUsage != nil {
		e.uvarint(uint64(len(m.ToolUsage)))
		for name, t := range m.ToolUsage {
			e.string(name)
			e.varint(t.CallCount)
			e.varint(t.SuccessCount)
			e.varint(t.ErrorCount)
			e.float(t.TotalTime)
			e.float(t.AverageTime)
			e.float(t.SuccessRate)
		}
	}
	e.bool(m.InvocationUsage != nil)
	if m.InvocationUsage != nil {
		e.usage(m.InvocationUsage)
	}
}

func (d *decoder) metrics() *session.EventLoopMetrics {
	m := &session.EventLoopMetrics{AccumulatedUsage: d.usage()}
	m.AccumulatedMetrics.LatencyMs = d.varint()
	m.AccumulatedMetrics.TimeToFirstByteMs = d.varint()
	m.CycleMetrics.CycleCount = d.varint()
	m.CycleMetrics.TotalDuration = d.float()
	m.CycleMetrics.AverageCycleTime = d.float()
	if d.bool() {
		n := d.length(2)
		m.ToolUsage = make(map[string]session.ToolUsage, n)
		for range n {
			name := d.string()
			m.ToolUsage[name] = session.ToolUsage{
				CallCount: d.varint(), SuccessCount: d.varint(), ErrorCount: d.varint(),
				TotalTime: d.float(), AverageTime: d.float(), SuccessRate: d.float(),
			}
		}
	}
	if d.bool() {
		u := d.usage()
		m.InvocationUsage = &u
	}
	return m
}

func (e *encoder) policies(p map[string][]string) {
	e.bool(p != nil)
	if p == nil {
		return
	}
	e.uvarint(uint64(len(p)))
	for k, items := range p {
		e.string(k)
		e.bool(items != nil)
		e.uvarint(uint64(len(items)))
		for _, it := range items {
			e.string(it)
		}
	}
}

func (d *decoder) policies() map[string][]string {
	if !d.bool() {
		return nil
	}
	n := d.length(3)
	out := make(map[string][]string, n)
	for range n {
		k := d.string()
		notNil := d.bool()
		m := d.length(1)
		var items []string
		if notNil {
			items = make([]string, m)
		}
		for i := range m {
			s := d.string()
			if notNil {
				items[i] = s
			}
		}
		out[k] = items
	}
	return out
}

func (e *encoder) guardrail(ev *session.GuardrailEvent) error {
	e.string(ev.Action)
	e.time(ev.Timestamp)
	e.string(ev.StopReason)
	e.policies(ev.PoliciesTriggered)
	return e.mapValue(ev.Trace)
}

func (d *decoder) guardrail() *session.GuardrailEvent {
	ev := &session.GuardrailEvent{Action: d.string(), Timestamp: d.time(), StopReason: d.string()}
	ev.PoliciesTriggered = d.policies()
	ev.Trace = d.mapValue()
	return ev
}

func (e *encoder) message(m *session.Message) error {
	e.varint(int64(m.ID))
	if err := e.chat(&m.Message); err != nil {
		return err
	}
	e.bool(m.RedactMessage != nil)
	if m.RedactMessage != nil {
		if err := e.chat(m.RedactMessage); err != nil {
			return err
		}
	}
	e.bool(m.EventLoopMetrics != nil)
	if m.EventLoopMetrics != nil {
		e.metrics(m.EventLoopMetrics)
	}
	e.bool(m.GuardrailEvent != nil)
	if m.GuardrailEvent != nil {
		if err := e.guardrail(m.GuardrailEvent); err != nil {
			return err
		}
	}
	e.time(m.CreatedAt)
	e.time(m.UpdatedAt)
	return nil
}

func (d *decoder) message() *session.Message {
	m := &session.Message{ID: d.int(), Message: d.chat()}
	if d.bool() {
		r := d.chat()
		m.RedactMessage = &r
	}
	if d.bool() {
		m.EventLoopMetrics = d.metrics()
	}
	if d.bool() {
		m.GuardrailEvent = d.guardrail()
	}
	m.CreatedAt = d.time()
	m.UpdatedAt = d.time()
	return m
}

func (e *encoder) feedback(f *session.Feedback) error {
	e.string(f.ID)
	e.string(string(f.Rating))
	e.string(f.Comment)
	e.string(f.AgentID)
	e.bool(f.MessageID != nil)
	if f.MessageID != nil {
		e.varint(int64(*f.MessageID))
	}
	e.time(f.CreatedAt)
	return e.mapValue(f.Extra)
}

func (d *decoder) feedback() *session.Feedback {
	f := &session.Feedback{ID: d.string(), Rating: session.Rating(d.string()), Comment: d.string(), AgentID: d.string()}
	if d.bool() {
		id := d.int()
		f.MessageID = &id
	}
	f.CreatedAt = d.time()
	f.Extra = d.mapValue()
	return f
}

func (e *encoder) sessionGuardrail(ev *session.SessionGuardrailEvent) {
	e.string(ev.AgentID)
	e.varint(int64(ev.MessageID))
	e.string(ev.Action)
	e.time(ev.Timestamp)
	e.string(ev.StopReason)
	e.policies(ev.PoliciesTriggered)
}

func (d *decoder) sessionGuardrail() *session.SessionGuardrailEvent {
	ev := &session.SessionGuardrailEvent{AgentID: d.string(), MessageID: d.int(), Action: d.string(), Timestamp: d.time(), StopReason: d.string()}
	ev.PoliciesTriggered = d.policies()
	return ev
}

// list encodes a slice of records, keeping nil distinct from empty.
func encodeList[T any](e *encoder, items []T, one func(*encoder, T) error) error {
	e.bool(items != nil)
	e.uvarint(uint64(len(items)))
	for _, it := range items {
		if err := one(e, it); err != nil {
			return err
		}
	}
	return nil
}

func decodeList[T any](d *decoder, one func(*decoder) T) []T {
	notNil := d.bool()
	n := d.length(1)
	if !notNil {
		if n != 0 {
			d.fail()
		}
		return nil
	}
	out := make([]T, n)
	for i := range out {
		out[i] = one(d)
	}
	return out
}
