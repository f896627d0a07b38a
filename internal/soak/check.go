package soak

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/sessionkit/sessionkit/session"
)

// Report is what Verify found. A run is correct when Violations() is zero.
type Report struct {
	// Messages, Metadata and Feedback count the acknowledged writes
	// checked; Unknown counts writes whose outcome was unknown.
	Messages, Metadata, Feedback, Unknown int
	// Stored counts the messages read back.
	Stored int
	// UnknownApplied counts unknown writes found stored (once).
	UnknownApplied int

	// Lost counts acknowledged messages or feedback missing from the store.
	Lost int
	// Duplicates counts payloads stored more than once.
	Duplicates int
	// OutOfOrder counts a worker's messages stored after one it wrote later.
	OutOfOrder int
	// IDGaps counts agent logs whose ids are not exactly 0..n-1 or whose
	// CountMessages disagrees with the list.
	IDGaps int
	// Foreign counts stored payloads of this run that no write recorded.
	Foreign int
	// MetadataMissing counts keys whose acknowledged value is absent;
	// MetadataStale counts keys holding a value older than the last
	// acknowledged one.
	MetadataMissing, MetadataStale int

	// Problems describes the first violations found.
	Problems []string
}

// Violations returns the number of broken guarantees.
func (r *Report) Violations() int {
	return r.Lost + r.Duplicates + r.OutOfOrder + r.IDGaps + r.Foreign + r.MetadataMissing + r.MetadataStale
}

// Err returns nil for a clean report, else an error listing the problems.
func (r *Report) Err() error {
	if r.Violations() == 0 {
		return nil
	}
	return fmt.Errorf("soak: %d violations (lost %d, duplicates %d, out of order %d, id gaps %d, foreign %d, metadata missing %d, metadata stale %d):\n  %s",
		r.Violations(), r.Lost, r.Duplicates, r.OutOfOrder, r.IDGaps, r.Foreign, r.MetadataMissing, r.MetadataStale,
		strings.Join(r.Problems, "\n  "))
}

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < 20 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// logKey names one agent log.
type logKey struct{ sessionID, agentID string }

// Verify reads back everything the ledger recorded from repo and checks it
// (see the package documentation). It returns an error only when a read
// fails; broken guarantees are in the Report.
func Verify(ctx context.Context, repo session.Repository, l *Ledger) (*Report, error) {
	rep := &Report{}
	writes := l.Writes()
	logs := map[logKey][]Write{}
	metadata := map[string][]Write{}
	feedback := map[string][]Write{}
	for _, w := range writes {
		if !w.Acked {
			rep.Unknown++
		}
		switch w.Kind {
		case KindMessage:
			if w.Acked {
				rep.Messages++
			}
			k := logKey{w.SessionID, w.AgentID}
			logs[k] = append(logs[k], w)
		case KindMetadata:
			if w.Acked {
				rep.Metadata++
			}
			metadata[w.SessionID] = append(metadata[w.SessionID], w)
		case KindFeedback:
			if w.Acked {
				rep.Feedback++
			}
			feedback[w.SessionID] = append(feedback[w.SessionID], w)
		}
	}
	for _, k := range sortedKeys(logs) {
		if err := verifyLog(ctx, repo, l.runID, k, logs[k], rep); err != nil {
			return nil, err
		}
	}
	for _, sid := range sortedKeys(metadata) {
		md, err := repo.GetMetadata(ctx, sid)
		if err != nil {
			return nil, fmt.Errorf("soak verify: %w", err)
		}
		verifyMetadata(l.runID, sid, md, metadata[sid], rep)
	}
	for _, sid := range sortedKeys(feedback) {
		fbs, err := repo.ListFeedback(ctx, sid)
		if err != nil {
			return nil, fmt.Errorf("soak verify: %w", err)
		}
		comments := make([]string, len(fbs))
		for i, f := range fbs {
			comments[i] = f.Comment
		}
		verifyPayloads(l.runID, "session "+sid+" feedback", comments, feedback[sid], rep)
	}
	return rep, nil
}

func sortedKeys[K interface{ comparable }, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func verifyLog(ctx context.Context, repo session.Repository, runID string, k logKey, writes []Write, rep *Report) error {
	where := fmt.Sprintf("session %s agent %s", k.sessionID, k.agentID)
	msgs, err := repo.ListMessages(ctx, k.sessionID, k.agentID, 0, 0)
	if err != nil {
		if errors.Is(err, session.ErrNotFound) && !anyAcked(writes) {
			return nil // the agent was never created and nothing was acknowledged
		}
		return fmt.Errorf("soak verify: %w", err)
	}
	n, err := repo.CountMessages(ctx, k.sessionID, k.agentID)
	if err != nil {
		return fmt.Errorf("soak verify: %w", err)
	}
	rep.Stored += len(msgs)
	if n != len(msgs) {
		rep.IDGaps++
		rep.problem("%s: CountMessages %d but ListMessages returned %d", where, n, len(msgs))
	}
	texts := make([]string, len(msgs))
	for i, m := range msgs {
		if m.ID != i {
			rep.IDGaps++
			rep.problem("%s: message at position %d has id %d", where, i, m.ID)
		}
		if len(m.Message.Content) > 0 {
			texts[i], _ = m.Message.Content[0].Text()
		}
	}
	verifyPayloads(runID, where, texts, writes, rep)
	// Each worker's stored messages must appear in the order it wrote them.
	last := map[int]int{}
	for i, t := range texts {
		_, w, seq, ok := parsePayload(runID, t)
		if !ok {
			continue
		}
		if prev, seen := last[w]; seen && seq < prev {
			rep.OutOfOrder++
			rep.problem("%s: position %d holds worker %d op %d after op %d", where, i, w, seq, prev)
		}
		last[w] = seq
	}
	return nil
}

func anyAcked(ws []Write) bool {
	for _, w := range ws {
		if w.Acked {
			return true
		}
	}
	return false
}

// verifyPayloads checks stored against the writes that could have produced
// them: acknowledged ones exactly once, unknown ones at most once, nothing
// else of this run.
func verifyPayloads(runID, where string, stored []string, writes []Write, rep *Report) {
	count := map[string]int{}
	for _, s := range stored {
		count[s]++
	}
	known := map[string]bool{}
	for _, w := range writes {
		known[w.Payload] = true
		c := count[w.Payload]
		switch {
		case c > 1:
			rep.Duplicates++
			rep.problem("%s: %q stored %d times (acknowledged: %v)", where, w.Payload, c, w.Acked)
		case c == 0 && w.Acked:
			rep.Lost++
			rep.problem("%s: acknowledged %q is missing", where, w.Payload)
		case c == 1 && !w.Acked:
			rep.UnknownApplied++
		}
	}
	for s := range count {
		if _, _, _, ok := parsePayload(runID, s); ok && !known[s] {
			rep.Foreign++
			rep.problem("%s: %q stored but never written", where, s)
		}
	}
}

// verifyMetadata checks that each key holds the value of its worker's last
// acknowledged write or of a later (unknown) one.
func verifyMetadata(runID, sid string, md map[string]any, writes []Write, rep *Report) {
	type keyState struct {
		lastAck  int // seq of the last acknowledged write, -1 if none
		payloads map[string]bool
	}
	keys := map[string]*keyState{}
	for _, w := range writes {
		ks := keys[w.Key]
		if ks == nil {
			ks = &keyState{lastAck: -1, payloads: map[string]bool{}}
			keys[w.Key] = ks
		}
		ks.payloads[w.Payload] = true
		if w.Acked && w.Seq > ks.lastAck {
			ks.lastAck = w.Seq
		}
	}
	for key, ks := range keys {
		v, ok := md[key]
		if !ok {
			if ks.lastAck >= 0 {
				rep.MetadataMissing++
				rep.problem("session %s: metadata %q missing (acknowledged op %d)", sid, key, ks.lastAck)
			}
			continue
		}
		s, _ := v.(string)
		_, _, seq, parsed := parsePayload(runID, s)
		switch {
		case !parsed || !ks.payloads[s]:
			rep.Foreign++
			rep.problem("session %s: metadata %q = %v was never written", sid, key, v)
		case seq < ks.lastAck:
			rep.MetadataStale++
			rep.problem("session %s: metadata %q holds op %d, older than acknowledged op %d", sid, key, seq, ks.lastAck)
		}
	}
}

// ErrCacheNotChecked is returned by CompareReads when cached reports cache
// counters and none of the comparison's reads went through the cache (Redis
// unreachable, breaker open, every session bypassed): equal answers then
// prove nothing about the cache.
var ErrCacheNotChecked = errors.New("soak: cache not checked: no read of the comparison went through the cache")

// cacheLookups is the number of reads that looked in the cache (hits plus
// misses) according to r's counters; ok is false when r reports none.
func cacheLookups(r session.Repository) (n float64, ok bool) {
	sr, isSR := r.(session.StatsReporter)
	if !isSR {
		return 0, false
	}
	st := sr.Stats()
	hits, okH := st["cache_hits_total"]
	misses, okM := st["cache_misses_total"]
	return hits + misses, okH && okM
}

// CompareReads checks that cached answers every read of the given sessions
// exactly as direct (the backend it caches) does: session, metadata,
// agents, every agent's messages and count, feedback and guardrail events.
// It returns an error describing the first differences, nil when they agree.
// When cached reports cache counters (cache_hits_total, cache_misses_total)
// and they did not move, no read went through the cache and it returns
// ErrCacheNotChecked instead of nil.
func CompareReads(ctx context.Context, cached, direct session.Repository, sessionIDs []string) error {
	lookupsBefore, counted := cacheLookups(cached)
	var diffs []string
	diff := func(what string, a, b any, errA, errB error) {
		if (errA == nil) != (errB == nil) || (errA == nil && !reflect.DeepEqual(a, b)) {
			if len(diffs) < 10 {
				diffs = append(diffs, fmt.Sprintf("%s: cached %s (err %v) != backend %s (err %v)", what, render(a), errA, render(b), errB))
			}
		}
	}
	for _, sid := range sessionIDs {
		cs, errA := cached.GetSession(ctx, sid)
		ds, errB := direct.GetSession(ctx, sid)
		diff("GetSession "+sid, cs, ds, errA, errB)
		cm, errA := cached.GetMetadata(ctx, sid)
		dm, errB := direct.GetMetadata(ctx, sid)
		diff("GetMetadata "+sid, cm, dm, errA, errB)
		cf, errA := cached.ListFeedback(ctx, sid)
		df, errB := direct.ListFeedback(ctx, sid)
		diff("ListFeedback "+sid, cf, df, errA, errB)
		cg, errA := cached.ListGuardrailEvents(ctx, sid)
		dg, errB := direct.ListGuardrailEvents(ctx, sid)
		diff("ListGuardrailEvents "+sid, cg, dg, errA, errB)
		ca, errA := cached.ListAgents(ctx, sid)
		da, errB := direct.ListAgents(ctx, sid)
		diff("ListAgents "+sid, ca, da, errA, errB)
		if errB != nil {
			continue
		}
		for _, a := range da {
			cl, errA := cached.ListMessages(ctx, sid, a.ID, 0, 0)
			dl, errB := direct.ListMessages(ctx, sid, a.ID, 0, 0)
			diff("ListMessages "+sid+"/"+a.ID, cl, dl, errA, errB)
			cn, errA := cached.CountMessages(ctx, sid, a.ID)
			dn, errB := direct.CountMessages(ctx, sid, a.ID)
			diff("CountMessages "+sid+"/"+a.ID, cn, dn, errA, errB)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("soak compare: %w", ctx.Err())
	}
	if len(diffs) > 0 {
		return fmt.Errorf("soak: cached reads differ from the backend:\n  %s", strings.Join(diffs, "\n  "))
	}
	if lookupsAfter, _ := cacheLookups(cached); counted && lookupsAfter == lookupsBefore && len(sessionIDs) > 0 {
		return fmt.Errorf("%w (%d sessions compared; is Redis reachable?)", ErrCacheNotChecked, len(sessionIDs))
	}
	return nil
}

// CompareMetadataKey is the metadata key CompareFresh writes to start a
// new cache generation of each session it compares.
const CompareMetadataKey = "soak_compare"

// CompareFresh is the final comparison of a cached repository: it compares
// every read of the given sessions (CompareReads, which also fills the
// cache), then writes each session through cached — CompareMetadataKey set
// to a fresh random value, which retires the cache's generation of the
// session and changes its metadata and its UpdatedAt — and compares every
// read again. A cache that serves an entry of an older generation passes
// the first comparison (nothing has changed since the fill) and fails the
// second, whatever writes the run happened to make after its reads. It
// writes to the sessions, so it runs after Verify.
func CompareFresh(ctx context.Context, cached, direct session.Repository, sessionIDs []string) error {
	if err := CompareReads(ctx, cached, direct, sessionIDs); err != nil {
		return fmt.Errorf("before a new generation: %w", err)
	}
	for _, sid := range sessionIDs {
		if err := cached.UpdateMetadata(ctx, sid, map[string]any{CompareMetadataKey: rand.Text()}); err != nil {
			return fmt.Errorf("soak compare: new generation of %s: %w", sid, err)
		}
	}
	if err := CompareReads(ctx, cached, direct, sessionIDs); err != nil {
		return fmt.Errorf("after a new generation: %w", err)
	}
	return nil
}

// render shows a value in a difference: JSON, which follows pointers.
func render(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
