package rediscache

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// gen builds random records made of canonical values (see
// driver.Normalize), covering every optional part of every cached kind.
type gen struct{ r *rand.Rand }

func (g gen) str() string {
	b := make([]byte, g.r.IntN(12))
	for i := range b {
		b[i] = byte(g.r.UintN(256)) // any bytes, not only UTF-8
	}
	return string(b)
}

func (g gen) maybe() bool { return g.r.IntN(2) == 0 }

func (g gen) time() time.Time {
	if g.r.IntN(4) == 0 {
		return time.Time{}
	}
	return time.Unix(g.r.Int64N(1<<40)-(1<<39), g.r.Int64N(1e9)).UTC()
}

func (g gen) float() float64 {
	switch g.r.IntN(4) {
	case 0:
		return math.Inf(1 - 2*g.r.IntN(2))
	case 1:
		return math.Copysign(0, -1)
	}
	return g.r.NormFloat64() * 1e6
}

func (g gen) int() int64 {
	if g.maybe() {
		return g.r.Int64N(512) - 256
	}
	return int64(g.r.Uint64())
}

// value returns a canonical value. Containers inside values are never nil:
// canonical values have no nil slices or maps below the top level.
func (g gen) value(depth int) any {
	n := 7
	if depth < 3 {
		n = 9
	}
	switch g.r.IntN(n) {
	case 0:
		return nil
	case 1:
		return g.maybe()
	case 2:
		return g.int()
	case 3:
		return g.float()
	case 4, 5:
		return g.str()
	case 6:
		return []byte(g.str())
	case 7:
		l := make([]any, g.r.IntN(4))
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return l
	}
	return g.nonNilMap(depth + 1)
}

func (g gen) nonNilMap(depth int) map[string]any {
	m := map[string]any{}
	for range g.r.IntN(4) {
		m[g.str()] = g.value(depth)
	}
	return m
}

// topMap returns a record's map field, which may be nil.
func (g gen) topMap() map[string]any {
	if g.r.IntN(3) == 0 {
		return nil
	}
	return g.nonNilMap(0)
}

func (g gen) chat() session.ChatMessage {
	c := session.ChatMessage{Role: session.Role(g.str()), Metadata: g.topMap(), Extra: g.topMap()}
	if g.r.IntN(4) > 0 {
		c.Content = make([]session.ContentBlock, g.r.IntN(4))
		for i := range c.Content {
			if g.r.IntN(5) > 0 {
				c.Content[i] = g.nonNilMap(0)
			}
		}
	}
	return c
}

func (g gen) policies() map[string][]string {
	if g.maybe() {
		return nil
	}
	p := map[string][]string{}
	for range g.r.IntN(3) {
		var items []string
		if g.maybe() {
			items = make([]string, g.r.IntN(3))
			for i := range items {
				items[i] = g.str()
			}
		}
		p[g.str()] = items
	}
	return p
}

func (g gen) usage() session.Usage {
	return session.Usage{InputTokens: g.int(), OutputTokens: g.int(), TotalTokens: g.int(),
		CacheReadInputTokens: g.int(), CacheWriteInputTokens: g.int()}
}

func (g gen) message() *session.Message {
	m := &session.Message{ID: int(g.int()), Message: g.chat(), CreatedAt: g.time(), UpdatedAt: g.time()}
	if g.maybe() {
		r := g.chat()
		m.RedactMessage = &r
	}
	if g.maybe() {
		em := &session.EventLoopMetrics{AccumulatedUsage: g.usage(),
			AccumulatedMetrics: session.LatencyMetrics{LatencyMs: g.int(), TimeToFirstByteMs: g.int()},
			CycleMetrics:       session.CycleMetrics{CycleCount: g.int(), TotalDuration: g.float(), AverageCycleTime: g.float()}}
		if g.maybe() {
			em.ToolUsage = map[string]session.ToolUsage{}
			for range g.r.IntN(3) {
				em.ToolUsage[g.str()] = session.ToolUsage{CallCount: g.int(), SuccessCount: g.int(), ErrorCount: g.int(),
					TotalTime: g.float(), AverageTime: g.float(), SuccessRate: g.float()}
			}
		}
		if g.maybe() {
			u := g.usage()
			em.InvocationUsage = &u
		}
		m.EventLoopMetrics = em
	}
	if g.maybe() {
		m.GuardrailEvent = &session.GuardrailEvent{Action: g.str(), Timestamp: g.time(), StopReason: g.str(),
			PoliciesTriggered: g.policies(), Trace: g.topMap()}
	}
	return m
}

func (g gen) agent() *session.Agent {
	a := &session.Agent{ID: g.str(), State: g.topMap(), ConversationManagerState: g.topMap(), InternalState: g.topMap(),
		Config: session.AgentConfig{Model: g.str(), SystemPrompt: g.str()}, CreatedAt: g.time(), UpdatedAt: g.time()}
	if g.maybe() {
		p := &session.PromptMetadata{PromptID: g.str(), PromptName: g.str(), PromptVersion: g.str(),
			DeploymentID: g.str(), DeploymentName: g.str()}
		if g.maybe() {
			t := g.float()
			p.Temperature = &t
		}
		a.Config.PromptMetadata = p
	}
	return a
}

func (g gen) feedback() *session.Feedback {
	f := &session.Feedback{ID: g.str(), Rating: session.Rating(g.str()), Comment: g.str(), AgentID: g.str(),
		Extra: g.topMap(), CreatedAt: g.time()}
	if g.maybe() {
		id := int(g.int())
		f.MessageID = &id
	}
	return f
}

func (g gen) sessionGuardrail() *session.SessionGuardrailEvent {
	return &session.SessionGuardrailEvent{AgentID: g.str(), MessageID: int(g.int()), Action: g.str(),
		Timestamp: g.time(), StopReason: g.str(), PoliciesTriggered: g.policies()}
}

func list[T any](g gen, one func() T) []T {
	if g.r.IntN(5) == 0 {
		return nil
	}
	out := make([]T, g.r.IntN(5))
	for i := range out {
		out[i] = one()
	}
	return out
}

// roundTrip encodes v under a token, checks the header, decodes the entry
// and returns the result.
func roundTrip[T any](t *testing.T, cd codec[T], v T) T {
	t.Helper()
	token := newToken()
	b, err := encodeEntry(cd, token, v, nil)
	require.NoError(t, err)
	gotToken, _, ok := splitEntry(string(b))
	require.True(t, ok)
	require.Equal(t, token, gotToken)
	got, derr, ok := decodeEntry(cd, string(b))
	require.True(t, ok, "entry does not decode")
	require.NoError(t, derr)
	return got
}

// checkRoundTrips encodes and decodes one random record of every cached
// kind and requires the decoded value to equal the original.
func checkRoundTrips(t *testing.T, g gen) {
	t.Helper()
	s := &session.Session{ID: g.str(), Type: session.Type(g.str()), ApplicationName: g.str(),
		ViewerPasswordHash: g.str(), Metadata: g.topMap(), CreatedAt: g.time(), UpdatedAt: g.time()}
	if g.int()%2 == 0 {
		s.ForkedFrom = &session.ForkOrigin{SessionID: g.str(), AgentID: g.str(), At: g.time()}
		if g.int()%2 == 0 {
			id := int(g.int() & 0xffff)
			s.ForkedFrom.MessageID = &id
		}
	}
	require.Equal(t, s, roundTrip(t, sessionCodec, s))
	a := g.agent()
	require.Equal(t, a, roundTrip(t, agentCodec, a))
	as := list(g, g.agent)
	require.Equal(t, as, roundTrip(t, agentsCodec, as))
	m := g.message()
	require.Equal(t, m, roundTrip(t, messageCodec, m))
	ms := list(g, g.message)
	require.Equal(t, ms, roundTrip(t, messagesCodec, ms))
	n := int(g.int())
	require.Equal(t, n, roundTrip(t, countCodec, n))
	md := g.topMap()
	require.Equal(t, md, roundTrip(t, metadataCodec, md))
	fs := list(g, g.feedback)
	require.Equal(t, fs, roundTrip(t, feedbackCodec, fs))
	evs := list(g, g.sessionGuardrail)
	require.Equal(t, evs, roundTrip(t, guardrailsCodec, evs))
}

func TestCodec_RandomRecordsRoundTrip(t *testing.T) {
	t.Parallel()
	for seed := range uint64(200) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkRoundTrips(t, gen{rand.New(rand.NewPCG(seed, 7))})
		})
	}
}

func TestCodec_NotFoundRoundTrips(t *testing.T) {
	t.Parallel()
	b, err := encodeEntry(messagesCodec, newToken(), nil, fmt.Errorf("session %q: %w", "s1", session.ErrNotFound))
	require.NoError(t, err)
	v, derr, ok := decodeEntry(messagesCodec, string(b))
	require.True(t, ok)
	assert.Nil(t, v)
	require.ErrorIs(t, derr, session.ErrNotFound)
	assert.Equal(t, `session "s1": not found`, derr.Error()[:len(`session "s1": not found`)])

	b, err = encodeEntry(messagesCodec, newToken(), nil, session.ErrConflict)
	require.NoError(t, err)
	assert.Nil(t, b, "errors other than not-found are not cached")
}

// TestCodec_DecodedValuesAreTheCallersToKeep checks that nothing mutable is
// shared between two decodes of one entry, nor between neighbouring
// records of one decode (content slices are cut from one backing array).
func TestCodec_DecodedValuesAreTheCallersToKeep(t *testing.T) {
	t.Parallel()
	in := []*session.Message{
		{ID: 1, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("a")},
			Metadata: map[string]any{"b": []byte("xyz"), "l": []any{int64(1)}, "m": map[string]any{"k": "v"}}}},
		{ID: 2, Message: session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{session.TextBlock("b")}}},
	}
	b, err := encodeEntry(messagesCodec, newToken(), in, nil)
	require.NoError(t, err)
	one, _, ok := decodeEntry(messagesCodec, string(b))
	require.True(t, ok)
	two, _, ok := decodeEntry(messagesCodec, string(b))
	require.True(t, ok)

	one[0].Message.Metadata["b"].([]byte)[0] = 'X'
	one[0].Message.Metadata["l"].([]any)[0] = "changed"
	one[0].Message.Metadata["m"].(map[string]any)["k"] = "changed"
	one[0].Message.Content[0]["text"] = "changed"
	one[0].Message.Content = append(one[0].Message.Content, session.TextBlock("appended"))
	one[1].ID = 99

	assert.Equal(t, in, two, "another decode of the same entry is untouched")
	assert.Equal(t, session.TextBlock("b"), one[1].Message.Content[0], "appending to one message's content leaves its neighbour alone")
	require.Len(t, one[1].Message.Content, 1)
}

func TestCodec_CorruptEntriesAreRejected(t *testing.T) {
	t.Parallel()
	good, err := encodeEntry(messagesCodec, newToken(), []*session.Message{{ID: 1, Message: session.ChatMessage{Role: "user"}}}, nil)
	require.NoError(t, err)
	cases := map[string]string{
		"empty":             "",
		"version only":      string([]byte{formatVersion}),
		"other version":     string(append([]byte{formatVersion + 1}, good[1:]...)),
		"token overruns":    string([]byte{formatVersion, 200, 'x'}),
		"no status":         string(good[:2+int(good[1])]),
		"unknown status":    string(append(append([]byte{}, good[:2+int(good[1])]...), 9)),
		"truncated":         string(good[:len(good)-1]),
		"trailing garbage":  string(good) + "\x00",
		"huge list count":   string(append(append([]byte{}, good[:3+int(good[1])]...), 1, 0xff, 0xff, 0xff, 0xff, 0x0f)),
		"overlong varint":   string(append(append([]byte{}, good[:3+int(good[1])]...), 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)),
		"nil list with one": string(append(append([]byte{}, good[:3+int(good[1])]...), 0, 1)),
	}
	for name, b := range cases {
		_, _, ok := decodeEntry(messagesCodec, b)
		assert.False(t, ok, name)
	}
}

// FuzzDecodeEntry checks that arbitrary bytes never make any codec panic,
// that the string varint reader agrees with encoding/binary, and that
// random records (seeded by the input) encode and decode to themselves.
func FuzzDecodeEntry(f *testing.F) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	for range 8 {
		b, err := encodeEntry(messagesCodec, newToken(), list(g, g.message), nil)
		require.NoError(f, err)
		f.Add(b, g.r.Uint64())
	}
	f.Add([]byte{formatVersion, 0, statusFound, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		s := string(data)
		decodeEntry(sessionCodec, s)
		decodeEntry(agentCodec, s)
		decodeEntry(agentsCodec, s)
		decodeEntry(messageCodec, s)
		decodeEntry(messagesCodec, s)
		decodeEntry(countCodec, s)
		decodeEntry(metadataCodec, s)
		decodeEntry(feedbackCodec, s)
		decodeEntry(guardrailsCodec, s)

		want, wn := binary.Uvarint(data)
		d := &decoder{buf: s}
		got := d.uvarint()
		if wn <= 0 {
			require.Error(t, d.err, "binary.Uvarint rejects %x", data)
		} else {
			require.NoError(t, d.err)
			require.Equal(t, want, got)
			require.Len(t, d.buf, len(data)-wn)
		}

		checkRoundTrips(t, gen{rand.New(rand.NewPCG(seed, uint64(len(data))))})
	})
}
