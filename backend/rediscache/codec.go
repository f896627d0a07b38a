package rediscache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The cached value format (see splitEntry): one version byte, the
// generation token the entry was filled under, one status byte, then the
// record. A reader that meets another version treats the entry as a miss, so
// a rolling upgrade that changes the format never decodes garbage. Version 1
// kept the token in the key instead; its keys are never read by this
// version. Version 3 added the session's expiry and its fork lineage
// (fork.go).
const (
	formatVersion byte = 3

	statusFound    byte = 1
	statusNotFound byte = 2 // followed by the backend's error text
)

// Value tags of the compact binary encoding of canonical values (see
// driver.Normalize). Integers are zig-zag varints, lengths uvarints.
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

// newEncoder starts an entry filled under generation token gen (at most
// 255 bytes).
func newEncoder(gen string, status byte) *encoder {
	buf := append(make([]byte, 0, 256), formatVersion, byte(len(gen)))
	buf = append(buf, gen...)
	return &encoder{buf: append(buf, status)}
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

// decoder reads the compact encoding from the entry as one string. Every
// string it returns is a substring of that entry, so decoding allocates no
// string data: strings are immutable, and sharing them between the values
// handed to different callers is safe (the whole entry stays in memory while
// any of its strings is referenced). []byte values are mutable and are
// always copied. Every read is bounds-checked: a corrupt or truncated entry
// yields errCorrupt, never a panic.
type decoder struct {
	buf string
	err error

	// blocks is spare capacity from which message content slices are cut,
	// so that a page of messages allocates its content slices in a few
	// chunks rather than one each; blockHint sizes the next chunk.
	blocks    []session.ContentBlock
	blockHint int
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.buf = ""
}

func (d *decoder) byte() byte {
	if len(d.buf) == 0 {
		d.fail()
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

// uvarint reads what binary.AppendUvarint wrote, accepting exactly the
// inputs binary.Uvarint accepts.
func (d *decoder) uvarint() uint64 {
	var x uint64
	var s uint
	for i := 0; i < len(d.buf); i++ {
		if i == binary.MaxVarintLen64 {
			break // overflow
		}
		b := d.buf[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				break // overflow
			}
			d.buf = d.buf[i+1:]
			return x | uint64(b)<<s
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
	d.fail()
	return 0
}

// varint reads what binary.AppendVarint wrote (zig-zag).
func (d *decoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
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

// string returns the next string as a substring of the entry (no copy).
func (d *decoder) string() string {
	n := d.length(0)
	s := d.buf[:n]
	d.buf = d.buf[n:]
	return s
}

// bytes returns a fresh copy of the next byte string: unlike strings,
// byte slices can be modified by whoever receives them.
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
	if len(d.buf) < 8 {
		d.fail()
		return 0
	}
	b := d.buf[:8]
	u := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	d.buf = d.buf[8:]
	return math.Float64frombits(u)
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

// contentBlocks returns a slice of n blocks cut from the decoder's spare
// capacity, capped at n so that appending to it never reaches a
// neighbour's blocks.
func (d *decoder) contentBlocks(n int) []session.ContentBlock {
	if n == 0 {
		return []session.ContentBlock{} // empty, not nil (no allocation)
	}
	if n > cap(d.blocks)-len(d.blocks) {
		d.blocks = make([]session.ContentBlock, 0, max(n, d.blockHint))
	}
	l := len(d.blocks)
	d.blocks = d.blocks[:l+n]
	return d.blocks[l : l+n : l+n]
}

// --- records ---

func (e *encoder) session(s *session.Session) error {
	e.string(s.ID)
	e.string(string(s.Type))
	e.string(s.ApplicationName)
	e.string(s.ViewerPasswordHash)
	e.time(s.CreatedAt)
	e.time(s.UpdatedAt)
	e.time(s.ExpiresAt)
	if err := e.mapValue(s.Metadata); err != nil {
		return err
	}
	e.forkOrigin(s.ForkedFrom)
	return nil
}

func (d *decoder) session() *session.Session {
	s := &session.Session{
		ID: d.string(), Type: session.Type(d.string()), ApplicationName: d.string(),
		ViewerPasswordHash: d.string(),
	}
	s.CreatedAt = d.time()
	s.UpdatedAt = d.time()
	s.ExpiresAt = d.time()
	s.Metadata = d.mapValue()
	s.ForkedFrom = d.forkOrigin()
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
	a := new(session.Agent)
	d.agentInto(a)
	return a
}

func (d *decoder) agentInto(a *session.Agent) {
	a.ID = d.string()
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
		c.Content = d.contentBlocks(d.length(1))
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
	m := new(session.Message)
	d.messageInto(m)
	return m
}

func (d *decoder) messageInto(m *session.Message) {
	m.ID = d.int()
	m.Message = d.chat()
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

func (d *decoder) feedbackInto(f *session.Feedback) {
	*f = session.Feedback{ID: d.string(), Rating: session.Rating(d.string()), Comment: d.string(), AgentID: d.string()}
	if d.bool() {
		id := d.int()
		f.MessageID = &id
	}
	f.CreatedAt = d.time()
	f.Extra = d.mapValue()
}

func (e *encoder) sessionGuardrail(ev *session.SessionGuardrailEvent) {
	e.string(ev.AgentID)
	e.varint(int64(ev.MessageID))
	e.string(ev.Action)
	e.time(ev.Timestamp)
	e.string(ev.StopReason)
	e.policies(ev.PoliciesTriggered)
}

func (d *decoder) sessionGuardrailInto(ev *session.SessionGuardrailEvent) {
	*ev = session.SessionGuardrailEvent{AgentID: d.string(), MessageID: d.int(), Action: d.string(), Timestamp: d.time(), StopReason: d.string()}
	ev.PoliciesTriggered = d.policies()
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

// decodeList decodes a list written by encodeList into records cut from
// one backing array (one allocation for the whole list instead of one per
// record). Every record still belongs to this decode alone. min is the
// fewest bytes one record encodes to, so that a corrupt count cannot make
// the decoder allocate far more than the entry's size.
func decodeList[T any](d *decoder, min int, into func(*decoder, *T)) []*T {
	notNil := d.bool()
	n := d.length(min)
	if !notNil {
		if n != 0 {
			d.fail()
		}
		return nil
	}
	d.blockHint = n // about one content block per record, where there are any
	slab := make([]T, n)
	out := make([]*T, n)
	for i := range out {
		out[i] = &slab[i]
		into(d, out[i])
	}
	return out
}

// The fewest bytes one record of each listed kind encodes to (every
// string, map, flag and time takes at least one byte).
const (
	minAgentBytes            = 9  // id, 3 maps, model, prompt, flag, 2 times
	minMessageBytes          = 10 // id, role, flag, 2 maps, 3 flags, 2 times
	minFeedbackBytes         = 7  // 4 strings, flag, time, map
	minSessionGuardrailBytes = 6  // agent, message, action, time, reason, flag
)
