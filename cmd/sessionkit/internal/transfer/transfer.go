// Package transfer moves whole sessions between repositories and files:
// JSON Lines (one session per line with everything under it) and the
// Strands FileSessionManager directory layout, in both directions.
package transfer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/wire"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Record is one exported session: the JSON Lines line.
type Record struct {
	Session         *wire.Session                 `json:"session"`
	Agents          []*AgentRecord                `json:"agents"`
	Feedback        []*wire.Feedback              `json:"feedback"`
	GuardrailEvents []*wire.SessionGuardrailEvent `json:"guardrail_events"`
	// MultiAgents are the Graph and Swarm orchestrator records; absent when
	// there are none, so lines without them read as before.
	MultiAgents []*wire.MultiAgent `json:"multi_agents,omitempty"`
	// Snapshots are the session's snapshot store entries (snapshots.go);
	// absent when there are none.
	Snapshots []*SnapshotRecord `json:"snapshots,omitempty"`
}

// AgentRecord is one agent with its whole message log.
type AgentRecord struct {
	*wire.Agent
	Messages []*wire.Message `json:"messages"`
}

// Progress is told after each session.
type Progress func(done int)

// Summary counts what a transfer did.
type Summary struct {
	Sessions, Agents, Messages, Feedback, Skipped int
	// MultiAgents counts Graph and Swarm orchestrator records.
	MultiAgents int
	// Snapshots counts snapshot store entries.
	Snapshots int
	// Expired names the sessions an import left out because their expiry
	// (expires_at) had passed since the export: imported, they would be
	// gone at once, and CreateSession refuses an expiry in the past.
	Expired []string
}

// String renders the summary for the end of an import: the skipped count
// only when some sessions were already present.
func (s Summary) String() string {
	out := s.Exported()
	if s.Skipped > 0 {
		out += fmt.Sprintf("; %d skipped (already present; --overwrite replaces them)", s.Skipped)
	}
	if n := len(s.Expired); n > 0 {
		const shown = 5
		names := make([]string, 0, shown+1)
		for _, id := range s.Expired[:min(n, shown)] {
			names = append(names, fmt.Sprintf("%q", id))
		}
		if n > shown {
			names = append(names, fmt.Sprintf("and %d more", n-shown))
		}
		out += fmt.Sprintf("; %d not imported (expired since the export: %s)", n, strings.Join(names, ", "))
	}
	return out
}

// Exported renders the counts alone, for the end of an export, where
// nothing is ever skipped.
func (s Summary) Exported() string {
	snaps := ""
	if s.Snapshots > 0 {
		snaps = fmt.Sprintf(", %d snapshots", s.Snapshots)
	}
	return fmt.Sprintf("%d sessions, %d agents, %d multi-agents, %d messages, %d feedback%s",
		s.Sessions, s.Agents, s.MultiAgents, s.Messages, s.Feedback, snaps)
}

// Read loads a whole session from repo.
func Read(ctx context.Context, repo session.Repository, id string) (*Record, error) {
	sess, err := repo.GetSession(ctx, id)
	if err != nil {
		return nil, err
	}
	ws, err := wire.FromSession(sess, true)
	if err != nil {
		return nil, err
	}
	rec := &Record{Session: ws, Agents: []*AgentRecord{}, Feedback: []*wire.Feedback{}, GuardrailEvents: []*wire.SessionGuardrailEvent{}}
	agents, err := repo.ListAgents(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		wa, err := wire.FromAgent(a)
		if err != nil {
			return nil, driver.AgentError(id, a.ID, err)
		}
		ar := &AgentRecord{Agent: wa, Messages: []*wire.Message{}}
		msgs, err := repo.ListMessages(ctx, id, a.ID, 0, 0)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			wm, err := wire.FromMessage(m)
			if err != nil {
				return nil, driver.MessageError(id, a.ID, m.ID, err)
			}
			ar.Messages = append(ar.Messages, wm)
		}
		rec.Agents = append(rec.Agents, ar)
	}
	fbs, err := repo.ListFeedback(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, f := range fbs {
		wf, err := wire.FromFeedback(f)
		if err != nil {
			return nil, err
		}
		rec.Feedback = append(rec.Feedback, wf)
	}
	gs, err := repo.ListGuardrailEvents(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		rec.GuardrailEvents = append(rec.GuardrailEvents, wire.FromSessionGuardrail(g))
	}
	if rec.MultiAgents, err = readMultiAgents(ctx, repo, id); err != nil {
		return nil, err
	}
	if rec.Snapshots, err = readSnapshots(ctx, repo, id); err != nil {
		return nil, err
	}
	return rec, nil
}

// Each calls fn with every session q selects, page by page, newest first.
func Each(ctx context.Context, repo session.Repository, q session.SessionQuery, fn func(id string) error) error {
	for {
		page, err := repo.ListSessions(ctx, q)
		if err != nil {
			return err
		}
		for _, s := range page.Sessions {
			if err := fn(s.ID); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}

// ExportJSONL writes every session q selects to w, one JSON object per line.
func ExportJSONL(ctx context.Context, repo session.Repository, q session.SessionQuery, w io.Writer, progress Progress) (Summary, error) {
	var sum Summary
	bw := bufio.NewWriter(w)
	err := Each(ctx, repo, q, func(id string) error {
		rec, err := Read(ctx, repo, id)
		if errors.Is(err, session.ErrNotFound) {
			return nil // deleted while we listed
		}
		if err != nil {
			return err
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return driver.SessionError(id, err)
		}
		if _, err := bw.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		sum.add(rec)
		if progress != nil {
			progress(sum.Sessions)
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("write: %w", err)
	}
	return sum, nil
}

func (s *Summary) add(rec *Record) {
	s.Sessions++
	s.Agents += len(rec.Agents)
	for _, a := range rec.Agents {
		s.Messages += len(a.Messages)
	}
	s.Feedback += len(rec.Feedback)
	s.MultiAgents += len(rec.MultiAgents)
	s.Snapshots += len(rec.Snapshots)
}

// MaxLineBytes bounds one JSON Lines record on import.
const MaxLineBytes = 256 << 20

// ImportOptions configures imports.
type ImportOptions struct {
	// Overwrite deletes and recreates a session that already exists;
	// otherwise it is skipped and counted.
	Overwrite bool
	// Progress is told after each session.
	Progress Progress
	// Now is the clock an expiry is checked against (time.Now when nil).
	Now func() time.Time
}

// ImportJSONL reads sessions from r, one per line, into repo. A session
// whose expires_at is not after Now is left out and named in
// Summary.Expired (it expired since the export); every other session keeps
// its expiry and its lineage (forked_from, set back with
// session.TimeRestorer).
func ImportJSONL(ctx context.Context, repo session.Repository, r io.Reader, opts ImportOptions) (Summary, error) {
	var sum Summary
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		dec := json.NewDecoder(bytesReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var rec Record
		if err := dec.Decode(&rec); err != nil {
			return sum, fmt.Errorf("line %d: %w", line, driver.InvalidArgument("json", "%v", err))
		}
		if rec.Session == nil {
			return sum, fmt.Errorf("line %d: %w", line, driver.InvalidArgument("session", "missing"))
		}
		if at := rec.Session.ExpiresAt; at != nil && !at.After(now()) {
			sum.Expired = append(sum.Expired, rec.Session.SessionID)
			if opts.Progress != nil {
				opts.Progress(sum.Sessions + sum.Skipped + len(sum.Expired))
			}
			continue
		}
		wrote, err := Write(ctx, repo, &rec, opts.Overwrite)
		if err != nil {
			return sum, fmt.Errorf("line %d: %w", line, err)
		}
		if wrote {
			sum.add(&rec)
		} else {
			sum.Skipped++
		}
		if opts.Progress != nil {
			opts.Progress(sum.Sessions + sum.Skipped + len(sum.Expired))
		}
	}
	if err := sc.Err(); err != nil {
		return sum, fmt.Errorf("read line %d: %w", line+1, err)
	}
	return sum, nil
}

// Write stores rec in repo. An existing session is left alone (false) unless
// overwrite, which deletes it first. The record is fully decoded and
// validated before anything is written; a failure while writing removes the
// partly written session.
func Write(ctx context.Context, repo session.Repository, rec *Record, overwrite bool) (bool, error) {
	p, err := decode(rec)
	if err != nil {
		return false, err
	}
	return p.store(ctx, repo, overwrite)
}

// store writes p into repo; see Write.
func (plan *plan) store(ctx context.Context, repo session.Repository, overwrite bool) (bool, error) {
	id := plan.session.ID
	if _, err := repo.GetSession(ctx, id); err == nil {
		if !overwrite {
			return false, nil
		}
		if err := repo.DeleteSession(ctx, id); err != nil && !errors.Is(err, session.ErrNotFound) {
			return false, err
		}
	} else if !errors.Is(err, session.ErrNotFound) {
		return false, err
	}
	if err := repo.CreateSession(ctx, plan.session); err != nil {
		if errors.Is(err, session.ErrAlreadyExists) && !overwrite {
			return false, nil
		}
		return false, err
	}
	if err := plan.write(ctx, repo); err != nil {
		if derr := repo.DeleteSession(context.WithoutCancel(ctx), id); derr != nil && !errors.Is(derr, session.ErrNotFound) {
			err = errors.Join(err, fmt.Errorf("remove partial import: %w", derr))
		}
		return false, err
	}
	return true, nil
}

// plan is a decoded record, ready to write.
type plan struct {
	session  *session.Session
	agents   []*session.Agent
	messages map[string][]*session.Message
	feedback []*session.Feedback
	// guards are the session-level guardrail audit entries, replayed with
	// RecordGuardrailEvent.
	guards []*session.SessionGuardrailEvent
	// multiAgents are the session's orchestrator records (multiagent.go).
	multiAgents []*session.MultiAgent
	// snapshots are the session's snapshots, keys normalized (snapshots.go).
	snapshots []*SnapshotRecord
}

func decode(rec *Record) (*plan, error) {
	s, err := rec.Session.ToSession()
	if err != nil {
		return nil, err
	}
	if _, err := driver.PrepareSession(s, s.CreatedAt); err != nil {
		return nil, err
	}
	if o := rec.Session.ForkedFrom; o != nil {
		s.ForkedFrom = &session.ForkOrigin{SessionID: o.SessionID, AgentID: o.AgentID, MessageID: o.MessageID, At: o.At}
	}
	p := &plan{session: s, messages: map[string][]*session.Message{}}
	for _, ar := range rec.Agents {
		if ar == nil || ar.Agent == nil {
			return nil, driver.SessionError(s.ID, driver.InvalidArgument("agents", "null entry"))
		}
		a, err := ar.ToAgent()
		if err != nil {
			return nil, driver.AgentError(s.ID, ar.AgentID, err)
		}
		if _, err := driver.PrepareAgent(a, a.CreatedAt); err != nil {
			return nil, driver.AgentError(s.ID, ar.AgentID, err)
		}
		p.agents = append(p.agents, a)
		for i, wm := range ar.Messages {
			m, err := wm.ToMessage()
			if err != nil {
				return nil, driver.MessageError(s.ID, a.ID, i, err)
			}
			if m.ID != i {
				return nil, driver.MessageError(s.ID, a.ID, m.ID, driver.InvalidArgument("message_id", "want %d: ids are dense", i))
			}
			if _, err := driver.PrepareMessage(m, m.CreatedAt); err != nil {
				return nil, driver.MessageError(s.ID, a.ID, m.ID, err)
			}
			p.messages[a.ID] = append(p.messages[a.ID], m)
		}
	}
	for _, wf := range rec.Feedback {
		f, err := wf.ToFeedback()
		if err != nil {
			return nil, driver.SessionError(s.ID, err)
		}
		p.feedback = append(p.feedback, f)
	}
	for _, g := range rec.GuardrailEvents {
		p.guards = append(p.guards, &session.SessionGuardrailEvent{AgentID: g.AgentID, MessageID: g.MessageID, Action: g.Action,
			Timestamp: g.Timestamp, StopReason: g.StopReason, PoliciesTriggered: g.PoliciesTriggered})
	}
	if p.multiAgents, err = decodeMultiAgents(s.ID, rec.MultiAgents); err != nil {
		return nil, err
	}
	if p.snapshots, err = decodeSnapshots(s.ID, rec.Snapshots); err != nil {
		return nil, err
	}
	return p, nil
}

// write stores the agents, messages, guardrail events, feedback,
// orchestrators and snapshots of p, then sets their stored times back
// (restore.go).
// Guardrail audit entries are replayed with RecordGuardrailEvent, which also
// sets the message's event — so the message's own event is written last,
// with UpdateMessage, to restore its trace exactly.
func (p *plan) write(ctx context.Context, repo session.Repository) error {
	id := p.session.ID
	for _, a := range p.agents {
		if err := repo.CreateAgent(ctx, id, a); err != nil {
			return err
		}
		for _, m := range p.messages[a.ID] {
			if err := repo.CreateMessage(ctx, id, a.ID, m); err != nil {
				return err
			}
		}
	}
	touched := map[[2]any]bool{}
	for _, g := range p.guards {
		ev := &session.GuardrailEvent{Action: g.Action, Timestamp: g.Timestamp, StopReason: g.StopReason, PoliciesTriggered: g.PoliciesTriggered}
		if err := repo.RecordGuardrailEvent(ctx, id, g.AgentID, g.MessageID, ev); err != nil {
			return err
		}
		touched[[2]any{g.AgentID, g.MessageID}] = true
	}
	for _, a := range p.agents {
		for _, m := range p.messages[a.ID] {
			if m.GuardrailEvent != nil && touched[[2]any{a.ID, m.ID}] {
				if err := repo.UpdateMessage(ctx, id, a.ID, m); err != nil {
					return err
				}
			}
		}
	}
	for _, f := range p.feedback {
		if _, err := repo.AddFeedback(ctx, id, f); err != nil {
			return err
		}
	}
	if err := p.writeMultiAgents(ctx, repo); err != nil {
		return err
	}
	if err := p.writeSnapshots(ctx, repo); err != nil {
		return err
	}
	return p.restoreTimes(ctx, repo)
}
