package mongo

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/session"
	sessiondriver "github.com/sessionkit/sessionkit/session/driver"
)

// layout is how sessions map onto documents. The Repository validates,
// bounds and serializes each call and then hands prepared values to its
// layout. embeddedLayout (one document per session, the Python original's)
// is the only one today; a layout keeping messages in their own collection
// can be added behind this interface without touching callers.
type layout interface {
	createSession(ctx context.Context, s *session.Session) error
	getSession(ctx context.Context, sessionID string) (*session.Session, error)
	deleteSession(ctx context.Context, sessionID string) error
	listSessions(ctx context.Context, q session.SessionQuery, cur *sessiondriver.Cursor) (session.SessionPage, error)
	createAgent(ctx context.Context, sessionID string, a *session.Agent) error
	getAgent(ctx context.Context, sessionID, agentID string) (*session.Agent, error)
	updateAgent(ctx context.Context, sessionID string, a *session.Agent) error
	updateAgentConfig(ctx context.Context, sessionID, agentID string, patch session.AgentConfigPatch) error
	listAgents(ctx context.Context, sessionID string) ([]*session.Agent, error)
	createMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error
	getMessage(ctx context.Context, sessionID, agentID string, messageID int) (*session.Message, error)
	updateMessage(ctx context.Context, sessionID, agentID string, m *session.Message, setMetrics, setGuardrail bool) error
	listMessages(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error)
	countMessages(ctx context.Context, sessionID, agentID string) (int, error)
	messageIDs(ctx context.Context, sessionID, agentID string) ([]int, error)
	renumberMessages(ctx context.Context, sessionID, agentID string, ids []int) (int, error)
	updateMetadata(ctx context.Context, sessionID string, md map[string]any) error
	getMetadata(ctx context.Context, sessionID string) (map[string]any, error)
	deleteMetadata(ctx context.Context, sessionID string, keys []string) error
	addFeedback(ctx context.Context, sessionID string, f *session.Feedback) error
	listFeedback(ctx context.Context, sessionID string) ([]*session.Feedback, error)
	recordGuardrailEvent(ctx context.Context, sessionID, agentID string, messageID int, ev *session.GuardrailEvent) error
	listGuardrailEvents(ctx context.Context, sessionID string) ([]*session.SessionGuardrailEvent, error)
}

// embeddedLayout stores one document per session with every agent and
// message inside it (original.md §2). Every write is a single update of that
// document whose filter states the write's preconditions (the agent exists,
// the next message id, the size bound), so it is atomic on MongoDB and
// costs one round trip; only a write whose filter did not match reads the
// document again to report why.
type embeddedLayout struct {
	r *Repository
}

func agentKey(agentID string) string { return fAgents + "." + agentID }

// sizeOf is the encoded size of v as a document field, an upper bound of
// what storing it adds to the session document.
func sizeOf(key string, v any) int64 {
	b, err := bson.Marshal(bson.D{{Key: key, Value: v}})
	if err != nil {
		return 1
	}
	return int64(len(b))
}

// write is one conditional update of a session document.
type write struct {
	cond  bson.D // preconditions besides _id and the size bound
	set   bson.D
	unset bson.D
	push  bson.D
	inc   bson.D
	// grow is how many bytes the write may add to the document: doc_size
	// (an upper bound of the document's size) grows by it, and the filter
	// requires doc_size + grow <= MaxDocumentBytes. Every write grows it by
	// at least 1, which also makes doc_size a version of the document.
	grow int64
	// readIDs makes the read after a failed filter fetch the agent's
	// message ids too (docState.ids), for mismatch.
	readIDs bool
	// createsAgent is set for CreateAgent, whose agent must not exist yet.
	createsAgent bool
	// mismatch explains a filter that did not match although the session,
	// the agent and the size bound are fine.
	mismatch func(st *docState) error
}

// docState is what inspect reads after a write did not match.
type docState struct {
	docSize           int64
	hasDocSize        bool
	hasAgent          bool
	agentEntryPresent bool
	// ids are the agent's message ids in array order (write.readIDs).
	ids []int
}

func (l *embeddedLayout) apply(ctx context.Context, sessionID, agentID string, w write) error {
	r := l.r
	if w.grow < 1 {
		w.grow = 1
	}
	if w.grow > r.opts.MaxDocumentBytes {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("write of %d bytes exceeds the %d-byte document limit: %w",
			w.grow, r.opts.MaxDocumentBytes, session.ErrTooLarge))
	}
	for attempt := 0; ; attempt++ {
		filter := bson.D{{Key: fID, Value: sessionID}, r.notExpired()}
		filter = append(filter, w.cond...)
		filter = append(filter, bson.E{Key: fDocSize, Value: bson.D{{Key: "$lte", Value: r.opts.MaxDocumentBytes - w.grow}}})
		update := bson.D{}
		if len(w.set) > 0 {
			update = append(update, bson.E{Key: "$set", Value: w.set})
		}
		if len(w.unset) > 0 {
			update = append(update, bson.E{Key: "$unset", Value: w.unset})
		}
		if len(w.push) > 0 {
			update = append(update, bson.E{Key: "$push", Value: w.push})
		}
		inc := append(bson.D{{Key: fDocSize, Value: w.grow}}, w.inc...)
		update = append(update, bson.E{Key: "$inc", Value: inc})
		res, err := r.coll.UpdateOne(ctx, filter, update)
		if err != nil {
			return wrapIDs(sessionID, agentID, fmt.Errorf("mongo: update: %w", err))
		}
		if res.MatchedCount == 1 {
			return nil
		}
		st, err := l.inspect(ctx, sessionID, agentID, w.readIDs)
		if err != nil {
			return err
		}
		if st == nil {
			return sessiondriver.SessionError(sessionID, session.ErrNotFound)
		}
		switch {
		case w.createsAgent && st.agentEntryPresent:
			return sessiondriver.AgentError(sessionID, agentID, session.ErrAlreadyExists)
		case !w.createsAgent && agentID != "" && !st.hasAgent:
			return sessiondriver.AgentError(sessionID, agentID, session.ErrNotFound)
		}
		stale := !st.hasDocSize || st.docSize+w.grow > r.opts.MaxDocumentBytes
		if stale {
			if attempt > 0 {
				return sessiondriver.SessionError(sessionID, fmt.Errorf("document of about %d bytes cannot grow by %d within %d: %w",
					st.docSize, w.grow, r.opts.MaxDocumentBytes, session.ErrTooLarge))
			}
			if err := l.repair(ctx, sessionID); err != nil {
				return err
			}
			continue
		}
		if w.mismatch != nil {
			return w.mismatch(st)
		}
		return wrapIDs(sessionID, agentID, fmt.Errorf("concurrent update: %w", session.ErrConflict))
	}
}

func wrapIDs(sessionID, agentID string, err error) error {
	if agentID != "" {
		return sessiondriver.AgentError(sessionID, agentID, err)
	}
	return sessiondriver.SessionError(sessionID, err)
}

// inspect reads the fields that explain a failed write; nil means the
// session does not exist.
func (l *embeddedLayout) inspect(ctx context.Context, sessionID, agentID string, readIDs bool) (*docState, error) {
	proj := bson.D{{Key: fDocSize, Value: 1}}
	if agentID != "" {
		proj = append(proj, bson.E{Key: agentKey(agentID) + "." + fAgentData + ".agent_id", Value: 1})
		if readIDs {
			proj = append(proj, bson.E{Key: agentKey(agentID) + "." + fMessages + "." + fMessageID, Value: 1})
		}
	}
	d, err := l.r.findOne(ctx, sessionID, proj)
	if err != nil || d == nil {
		return nil, err
	}
	st := &docState{}
	if v, ok := field(d, fDocSize); ok {
		st.docSize, st.hasDocSize = integer(v)
		l.r.observeSize(sessionID, st.docSize)
	}
	if agentID != "" {
		entry, ok := path(d, fAgents, agentID)
		st.agentEntryPresent = ok
		if e := docOf(entry); e != nil {
			_, st.hasAgent = path(e, fAgentData, "agent_id")
			if readIDs {
				st.ids = idsOf(mustField(e, fMessages))
			}
		}
	}
	return st, nil
}

// repair brings a document's denormalized fields up to date: doc_size is set
// to the document's exact BSON size, and every agent's message_count hint to
// the length of its messages array (documents written by the Python
// original have neither, and its $push leaves message_count stale). It runs
// only after a write's filter failed on doc_size, so it costs nothing in the
// normal case. The update is guarded by
// the doc_size it read, so it never overwrites a concurrent write's growth.
func (l *embeddedLayout) repair(ctx context.Context, sessionID string) error {
	r := l.r
	raw, err := r.coll.FindOne(ctx, bson.D{{Key: fID, Value: sessionID}}).Raw()
	if errors.Is(err, driver.ErrNoDocuments) {
		return sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	if err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: find: %w", err))
	}
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: decode: %w", err))
	}
	agents := docOf(mustField(d, fAgents))
	size := int64(len(raw)) + 32 + int64(len(agents))*32 // the fields repair may add
	set := bson.D{{Key: fDocSize, Value: size}}
	for _, e := range agents {
		entry := docOf(e.Value)
		msgs, isArray := mustField(entry, fMessages).(bson.A)
		if !isArray {
			continue
		}
		set = append(set, bson.E{Key: agentKey(e.Key) + "." + fMessageCount, Value: int64(len(msgs))})
	}
	filter := bson.D{{Key: fID, Value: sessionID}}
	if v, ok := field(d, fDocSize); ok {
		filter = append(filter, bson.E{Key: fDocSize, Value: v})
	} else {
		filter = append(filter, bson.E{Key: fDocSize, Value: bson.D{{Key: "$exists", Value: false}}})
	}
	if _, err := r.coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: set}}); err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: repair: %w", err))
	}
	r.counters.repairs.Add(1)
	r.observeSize(sessionID, size)
	return nil
}

// exactSets works around FerretDB's $set skipping a document that differs
// from the stored one only in field names (see
// Capabilities.ExactDocumentSet): it reads the stored values of the
// document-valued paths in set and, where the server would wrongly skip
// one, sets and unsets its fields one by one instead. On other servers it
// returns set unchanged and costs nothing.
func (l *embeddedLayout) exactSets(ctx context.Context, sessionID string, set bson.D) (bson.D, bson.D, error) {
	if l.r.caps.ExactDocumentSet {
		return set, nil, nil
	}
	proj := bson.D{}
	for _, e := range set {
		if len(docOf(e.Value)) > 0 {
			proj = append(proj, bson.E{Key: e.Key, Value: 1})
		}
	}
	if len(proj) == 0 {
		return set, nil, nil
	}
	d, err := l.r.findOne(ctx, sessionID, proj)
	if err != nil || d == nil {
		return set, nil, err
	}
	var out, unset bson.D
	for _, e := range set {
		old, has := path(d, strings.Split(e.Key, ".")...)
		diffSet(e.Key, old, has, e.Value, &out, &unset)
	}
	return out, unset, nil
}

// diffSet appends to set/unset what turns old into nw at p on a server that
// skips $set of "identical" values as FerretDB v1 judges them.
func diffSet(p string, old any, has bool, nw any, set, unset *bson.D) {
	if !has || !ferretIdentical(old, nw) {
		*set = append(*set, bson.E{Key: p, Value: nw})
		return
	}
	switch n := nw.(type) {
	case bson.D:
		o := docOf(old)
		seen := map[string]bool{}
		for _, e := range n {
			seen[e.Key] = true
			ov, ok := field(o, e.Key)
			diffSet(p+"."+e.Key, ov, ok, e.Value, set, unset)
		}
		for _, e := range o {
			if !seen[e.Key] {
				*unset = append(*unset, bson.E{Key: p + "." + e.Key, Value: ""})
			}
		}
	case bson.A:
		o, _ := old.(bson.A)
		for i, e := range n {
			diffSet(fmt.Sprintf("%s.%d", p, i), o[i], true, e, set, unset)
		}
	}
}

// ferretIdentical over-approximates FerretDB v1's types.Identical, which
// compares documents by length and values in order, ignoring field names.
func ferretIdentical(a, b any) bool {
	switch x := a.(type) {
	case bson.D:
		y, ok := b.(bson.D)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !ferretIdentical(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case bson.A:
		y, ok := b.(bson.A)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !ferretIdentical(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	if _, isDoc := b.(bson.D); isDoc {
		return false
	}
	if _, isArr := b.(bson.A); isArr {
		return false
	}
	return number(a) == number(b) && fmt.Sprint(a) == fmt.Sprint(b) || fmt.Sprint(a) == fmt.Sprint(b)
}

func (l *embeddedLayout) createSession(ctx context.Context, s *session.Session) error {
	doc := encodeSession(s, l.r.opts.MetadataFields)
	raw, err := bson.Marshal(doc)
	if err != nil {
		return sessiondriver.SessionError(s.ID, fmt.Errorf("mongo: encode: %w", err))
	}
	size := int64(len(raw))
	if size > l.r.opts.MaxDocumentBytes {
		return sessiondriver.SessionError(s.ID, fmt.Errorf("new document of %d bytes over %d: %w", size, l.r.opts.MaxDocumentBytes, session.ErrTooLarge))
	}
	doc[len(doc)-1].Value = size
	_, err = l.r.coll.InsertOne(ctx, doc)
	if driver.IsDuplicateKeyError(err) {
		// The id is free again when the session holding it has expired.
		var removed bool
		if removed, err = l.r.removeExpired(ctx, s.ID); err != nil {
			return err
		}
		if !removed {
			return sessiondriver.SessionError(s.ID, session.ErrAlreadyExists)
		}
		_, err = l.r.coll.InsertOne(ctx, doc)
	}
	if err != nil {
		if driver.IsDuplicateKeyError(err) {
			return sessiondriver.SessionError(s.ID, session.ErrAlreadyExists)
		}
		return sessiondriver.SessionError(s.ID, fmt.Errorf("mongo: insert: %w", err))
	}
	return nil
}

// rootProjection leaves out what session-level reads never need.
var rootProjection = bson.D{{Key: fAgents, Value: 0}, {Key: fFeedbacks, Value: 0}, {Key: fGuardrailEvents, Value: 0}}

func (l *embeddedLayout) getSession(ctx context.Context, sessionID string) (*session.Session, error) {
	d, err := l.r.findOne(ctx, sessionID, rootProjection)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	l.observe(sessionID, d)
	return decodeSession(d), nil
}

func (l *embeddedLayout) observe(sessionID string, d bson.D) {
	if n, ok := integer(mustField(d, fDocSize)); ok {
		l.r.observeSize(sessionID, n)
	}
}

func (l *embeddedLayout) deleteSession(ctx context.Context, sessionID string) error {
	res, err := l.r.coll.DeleteOne(ctx, bson.D{{Key: fID, Value: sessionID}, l.r.notExpired()})
	if err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: delete: %w", err))
	}
	if res.DeletedCount == 0 {
		return sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	return nil
}

// listSessions filters on the server (application, type, id prefix, dates,
// scalar metadata values) and sorts newest first by (created_at, _id).
// Metadata filters on documents or arrays are checked here, because BSON
// document equality depends on key order, which other writers may not share.
func (l *embeddedLayout) listSessions(ctx context.Context, q session.SessionQuery, cur *sessiondriver.Cursor) (session.SessionPage, error) {
	filter := bson.D{l.r.notExpired()}
	if q.ApplicationName != "" {
		filter = append(filter, bson.E{Key: fApplicationName, Value: q.ApplicationName})
	}
	if q.Type != "" {
		filter = append(filter, bson.E{Key: fSessionType, Value: string(q.Type)})
	}
	if q.IDPrefix != "" {
		filter = append(filter, bson.E{Key: fID, Value: bson.Regex{Pattern: "^" + regexp.QuoteMeta(q.IDPrefix)}})
	}
	if !q.CreatedFrom.IsZero() || !q.CreatedTo.IsZero() {
		rng := bson.D{}
		if !q.CreatedFrom.IsZero() {
			rng = append(rng, bson.E{Key: "$gte", Value: bsonTime(q.CreatedFrom)})
		}
		if !q.CreatedTo.IsZero() {
			rng = append(rng, bson.E{Key: "$lt", Value: bsonTime(q.CreatedTo)})
		}
		filter = append(filter, bson.E{Key: fCreatedAt, Value: rng})
	}
	filter = forkFilter(q, filter)
	clientSide := false
	for k, v := range q.Metadata {
		switch v.(type) {
		case string, bool, int64, float64:
			filter = append(filter, bson.E{Key: fMetadata + "." + k, Value: v})
		default:
			clientSide = true
		}
	}
	if cur != nil {
		t := bsonTime(cur.CreatedAt)
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: fCreatedAt, Value: bson.D{{Key: "$lt", Value: t}}}},
			bson.D{{Key: fCreatedAt, Value: t}, {Key: fID, Value: bson.D{{Key: "$lt", Value: cur.ID}}}},
		}})
	}
	o := options.Find().SetSort(bson.D{{Key: fCreatedAt, Value: -1}, {Key: fID, Value: -1}}).SetProjection(rootProjection)
	if !clientSide {
		o.SetLimit(int64(q.Limit) + 1)
	} else {
		o.SetBatchSize(int32(q.Limit) + 1)
	}
	c, err := l.r.coll.Find(ctx, filter, o)
	if err != nil {
		return session.SessionPage{}, fmt.Errorf("mongo: list sessions: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	var page session.SessionPage
	for c.Next(ctx) {
		var d bson.D
		if err := c.Decode(&d); err != nil {
			return session.SessionPage{}, fmt.Errorf("mongo: list sessions: decode: %w", err)
		}
		s := decodeSession(d)
		if clientSide && !q.Matches(s) {
			continue
		}
		if len(page.Sessions) == q.Limit {
			last := page.Sessions[len(page.Sessions)-1]
			page.NextCursor = sessiondriver.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.Encode()
			break
		}
		page.Sessions = append(page.Sessions, s)
	}
	if err := c.Err(); err != nil {
		return session.SessionPage{}, fmt.Errorf("mongo: list sessions: %w", err)
	}
	return page, nil
}

// createAgent sets the agent entry and appends its id to the root
// agent_ids list (which ListAgents uses to leave messages out) in one
// update whose filter requires the entry to be absent.
func (l *embeddedLayout) createAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	now := bsonTime(l.r.opts.Now())
	entry := encodeAgentEntry(a)
	err := l.apply(ctx, sessionID, a.ID, write{
		cond:         bson.D{{Key: agentKey(a.ID), Value: bson.D{{Key: "$exists", Value: false}}}},
		set:          bson.D{{Key: agentKey(a.ID), Value: entry}, {Key: fUpdatedAt, Value: now}},
		push:         bson.D{{Key: fAgentIDs, Value: a.ID}},
		grow:         sizeOf(a.ID, entry) + sizeOf("0000000", a.ID),
		createsAgent: true,
	})
	if err == nil {
		l.r.setNextHint(sessionID, a.ID, 0)
	}
	return err
}

// agentProjection is GetAgent's: the agent without its messages.
func agentProjection(agentID string) bson.D {
	k := agentKey(agentID)
	return bson.D{
		{Key: k + "." + fAgentData, Value: 1}, {Key: k + "." + fCreatedAt, Value: 1},
		{Key: k + "." + fUpdatedAt, Value: 1}, {Key: k + "." + fMessageCount, Value: 1}, {Key: fDocSize, Value: 1},
	}
}

func (l *embeddedLayout) getAgent(ctx context.Context, sessionID, agentID string) (*session.Agent, error) {
	d, err := l.r.findOne(ctx, sessionID, agentProjection(agentID))
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	l.observe(sessionID, d)
	entry, _ := path(d, fAgents, agentID)
	a, ok := decodeAgent(agentID, docOf(entry))
	if !ok {
		return nil, sessiondriver.AgentError(sessionID, agentID, session.ErrNotFound)
	}
	return a, nil
}

// agentExists is the filter condition "the agent exists" (agent_data with an
// agent_id: a phantom entry left by the original's bug B8 is not an agent).
func agentExists(agentID string) bson.E {
	return bson.E{Key: agentKey(agentID) + "." + fAgentData + ".agent_id", Value: bson.D{{Key: "$exists", Value: true}}}
}

// updateAgent sets the three state paths of agent_data one by one and never
// replaces agent_data, so the configuration (model, system_prompt,
// prompt_metadata) survives: the fix for the original's bug B1.
func (l *embeddedLayout) updateAgent(ctx context.Context, sessionID string, a *session.Agent) error {
	now := bsonTime(l.r.opts.Now())
	k := agentKey(a.ID) + "."
	set := bson.D{
		{Key: k + fAgentData + ".state", Value: mapToD(a.State)},
		{Key: k + fAgentData + ".conversation_manager_state", Value: mapToD(a.ConversationManagerState)},
		{Key: k + fAgentData + "._internal_state", Value: mapToD(a.InternalState)},
		{Key: k + fAgentData + "." + fUpdatedAt, Value: now},
		{Key: k + fUpdatedAt, Value: now},
		{Key: fUpdatedAt, Value: now},
	}
	grow := sizeOf("set", set)
	set, unset, err := l.exactSets(ctx, sessionID, set)
	if err != nil {
		return err
	}
	return l.apply(ctx, sessionID, a.ID, write{cond: bson.D{agentExists(a.ID)}, set: set, unset: unset, grow: grow})
}

func (l *embeddedLayout) updateAgentConfig(ctx context.Context, sessionID, agentID string, patch session.AgentConfigPatch) error {
	now := bsonTime(l.r.opts.Now())
	k := agentKey(agentID) + "." + fAgentData + "."
	var set bson.D
	if patch.Model != nil {
		set = append(set, bson.E{Key: k + "model", Value: *patch.Model})
	}
	if patch.SystemPrompt != nil {
		set = append(set, bson.E{Key: k + "system_prompt", Value: *patch.SystemPrompt})
	}
	if patch.PromptMetadata != nil {
		set = append(set, bson.E{Key: k + "prompt_metadata", Value: encodePromptMetadata(patch.PromptMetadata)})
	}
	set = append(set, bson.E{Key: agentKey(agentID) + "." + fUpdatedAt, Value: now}, bson.E{Key: fUpdatedAt, Value: now})
	grow := sizeOf("set", set)
	set, unset, err := l.exactSets(ctx, sessionID, set)
	if err != nil {
		return err
	}
	return l.apply(ctx, sessionID, agentID, write{cond: bson.D{agentExists(agentID)}, set: set, unset: unset, grow: grow})
}

// listAgents returns the session's agents without transferring their
// messages. With Capabilities.Aggregation it is one aggregate that maps
// each agent entry to its agent_data and timestamps. Without it (FerretDB)
// it reads the root agent_ids list, then the session with an exclusion
// projection of agents.<id>.messages for each of them: two round trips, but
// bytes in proportion to the agents rather than to their history. An agent
// missing from agent_ids (one the Python original added, or a document it
// wrote) still comes back, with its messages, which are then ignored: the
// answer never depends on the list being complete.
func (l *embeddedLayout) listAgents(ctx context.Context, sessionID string) ([]*session.Agent, error) {
	var agents bson.D
	if l.r.caps.Aggregation {
		var err error
		if agents, err = l.aggregateAgents(ctx, sessionID); err != nil {
			return nil, err
		}
	} else {
		d, err := l.r.findOne(ctx, sessionID, bson.D{{Key: fAgentIDs, Value: 1}})
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
		}
		ids, _ := mustField(d, fAgentIDs).(bson.A)
		proj := bson.D{{Key: fMetadata, Value: 0}, {Key: fFeedbacks, Value: 0}, {Key: fGuardrailEvents, Value: 0}, {Key: fAgentIDs, Value: 0}}
		for _, id := range ids {
			if s, ok := id.(string); ok && sessiondriver.ValidateAgentID(s) == nil {
				proj = append(proj, bson.E{Key: agentKey(s) + "." + fMessages, Value: 0})
			}
		}
		if d, err = l.r.findOne(ctx, sessionID, proj); err != nil {
			return nil, err
		}
		if d == nil {
			return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
		}
		agents = docOf(mustField(d, fAgents))
	}
	out := []*session.Agent{}
	for _, e := range agents {
		if a, ok := decodeAgent(e.Key, docOf(e.Value)); ok {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// aggregateAgents reads agents.<id>.{agent_data, created_at, updated_at}
// of every agent in one aggregate ($objectToArray + $map), without the
// messages.
func (l *embeddedLayout) aggregateAgents(ctx context.Context, sessionID string) (bson.D, error) {
	summary := bson.D{{Key: "k", Value: "$$this.k"}, {Key: "v", Value: bson.D{
		{Key: fAgentData, Value: "$$this.v." + fAgentData},
		{Key: fCreatedAt, Value: "$$this.v." + fCreatedAt},
		{Key: fUpdatedAt, Value: "$$this.v." + fUpdatedAt},
	}}}
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: fID, Value: sessionID}, l.r.notExpired()}}},
		bson.D{{Key: "$project", Value: bson.D{{Key: fAgents, Value: bson.D{{Key: "$map", Value: bson.D{
			{Key: "input", Value: bson.D{{Key: "$objectToArray", Value: "$" + fAgents}}},
			{Key: "in", Value: summary},
		}}}}}}},
	}
	cur, err := l.r.coll.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: list agents: %w", err))
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: list agents: %w", err))
	}
	if len(docs) == 0 {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	items, _ := mustField(docs[0], fAgents).(bson.A)
	out := make(bson.D, 0, len(items))
	for _, it := range items {
		kv := docOf(it)
		if k, ok := mustField(kv, "k").(string); ok {
			out = append(out, bson.E{Key: k, Value: mustField(kv, "v")})
		}
	}
	return out, nil
}

// createMessage is one update whose filter states the dense-id rule on the
// array itself, never on a field only sessionkit maintains: the agent
// exists, its messages array holds exactly m.ID elements ($size), and no
// element already holds m.ID (which only a foreign writer could have
// caused). The update pushes the element and sets the message_count hint to
// m.ID+1, healing a hint another writer left stale. Of concurrent writers of
// one id exactly one matches.
func (l *embeddedLayout) createMessage(ctx context.Context, sessionID, agentID string, m *session.Message) error {
	k := agentKey(agentID) + "."
	elem := encodeMessage(m)
	now := bsonTime(l.r.opts.Now())
	err := l.apply(ctx, sessionID, agentID, write{
		cond: bson.D{
			agentExists(agentID),
			{Key: k + fMessages, Value: bson.D{{Key: "$size", Value: int64(m.ID)}}},
			// $nor rather than $ne: FerretDB v1 matches $ne (and $nin,
			// $not) on an array of documents even when an element holds it.
			{Key: "$nor", Value: bson.A{bson.D{{Key: k + fMessages + "." + fMessageID, Value: int64(m.ID)}}}},
		},
		push:    bson.D{{Key: k + fMessages, Value: elem}},
		set:     bson.D{{Key: k + fMessageCount, Value: int64(m.ID + 1)}, {Key: k + fUpdatedAt, Value: now}, {Key: fUpdatedAt, Value: now}},
		grow:    sizeOf("0000000", elem) + 64,
		readIDs: true,
		mismatch: func(st *docState) error {
			l.r.setNextHint(sessionID, agentID, len(st.ids))
			if len(st.ids) != m.ID || !slices.Contains(st.ids, m.ID) {
				return sessiondriver.MessageError(sessionID, agentID, m.ID, fmt.Errorf("agent holds %d messages: %w", len(st.ids), session.ErrConflict))
			}
			// The next id is already taken: only a writer that does not
			// keep ids dense (the original racing itself) leaves that.
			return sessiondriver.CheckMessageIDs(sessionID, agentID, st.ids)
		},
	})
	if err == nil {
		l.r.setNextHint(sessionID, agentID, m.ID+1)
	}
	return err
}

// idsOf returns the message_id of each element of a messages array, in
// array order; -1 stands for an element without an integer id.
func idsOf(v any) []int {
	arr, _ := v.(bson.A)
	ids := make([]int, len(arr))
	for i, e := range arr {
		ids[i] = -1
		if n, ok := integer(mustField(docOf(e), fMessageID)); ok {
			ids[i] = int(n)
		}
	}
	return ids
}

// messageIDs reads the agent's message ids in array order: a projection of
// messages.message_id, so bytes in proportion to the count, never to the
// content.
func (l *embeddedLayout) messageIDs(ctx context.Context, sessionID, agentID string) ([]int, error) {
	k := agentKey(agentID)
	d, err := l.r.findOne(ctx, sessionID, bson.D{
		{Key: k + "." + fAgentData + ".agent_id", Value: 1}, {Key: k + "." + fMessages + "." + fMessageID, Value: 1},
	})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	entry := docOf(mustField(docOf(mustField(d, fAgents)), agentID))
	if _, ok := path(entry, fAgentData, "agent_id"); !ok {
		return nil, sessiondriver.AgentError(sessionID, agentID, session.ErrNotFound)
	}
	ids := idsOf(mustField(entry, fMessages))
	l.r.setNextHint(sessionID, agentID, len(ids))
	return ids, nil
}

// messages reads an agent's messages: with a $slice projection of
// [skip, limit] when the server has one, else the whole array. It reports
// whether the agent exists, and whether the result was sliced on the server.
func (l *embeddedLayout) messages(ctx context.Context, sessionID, agentID string, skip, limit int) (bson.A, bool, error) {
	sliced := l.r.caps.SliceProjection && limit > 0
	msgs, err := l.fetchMessages(ctx, sessionID, agentID, skip, limit, sliced)
	var se driver.ServerError
	if sliced && errors.As(err, &se) {
		// mongo-java-server implements $slice but fails when skip is past the
		// end of the array ("fromIndex > toIndex"); fetch the whole array.
		msgs, err = l.fetchMessages(ctx, sessionID, agentID, 0, 0, false)
		sliced = false
	}
	return msgs, sliced, err
}

func (l *embeddedLayout) fetchMessages(ctx context.Context, sessionID, agentID string, skip, limit int, sliced bool) (bson.A, error) {
	k := agentKey(agentID)
	proj := bson.D{{Key: k + "." + fAgentData + ".agent_id", Value: 1}}
	if sliced {
		proj = append(proj, bson.E{Key: k + "." + fMessages, Value: bson.D{{Key: "$slice", Value: bson.A{skip, limit}}}})
	} else {
		proj = append(proj, bson.E{Key: k + "." + fMessages, Value: 1})
	}
	d, err := l.r.findOne(ctx, sessionID, proj)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	entry := docOf(mustField(docOf(mustField(d, fAgents)), agentID))
	if _, ok := path(entry, fAgentData, "agent_id"); !ok {
		return nil, sessiondriver.AgentError(sessionID, agentID, session.ErrNotFound)
	}
	msgs, _ := mustField(entry, fMessages).(bson.A)
	return msgs, nil
}

func (l *embeddedLayout) getMessage(ctx context.Context, sessionID, agentID string, messageID int) (*session.Message, error) {
	msgs, sliced, err := l.messages(ctx, sessionID, agentID, messageID, 1)
	if err != nil {
		return nil, err
	}
	find := func(msgs bson.A, guess int) (*session.Message, error) {
		if guess >= 0 && guess < len(msgs) {
			if id, ok := integer(mustField(docOf(msgs[guess]), fMessageID)); ok && id == int64(messageID) {
				return l.decode(sessionID, agentID, msgs[guess])
			}
		}
		for _, e := range msgs { // documents with non-dense ids (the original's race)
			if id, ok := integer(mustField(docOf(e), fMessageID)); ok && id == int64(messageID) {
				return l.decode(sessionID, agentID, e)
			}
		}
		return nil, nil
	}
	guess := messageID
	if sliced {
		guess = 0
	}
	m, err := find(msgs, guess)
	if m != nil || err != nil {
		return m, err
	}
	if sliced {
		if msgs, _, err = l.messages(ctx, sessionID, agentID, 0, 0); err != nil {
			return nil, err
		}
		if m, err = find(msgs, messageID); m != nil || err != nil {
			return m, err
		}
	}
	return nil, sessiondriver.MessageError(sessionID, agentID, messageID, session.ErrNotFound)
}

func (l *embeddedLayout) decode(sessionID, agentID string, v any) (*session.Message, error) {
	d := docOf(v)
	m, err := decodeMessage(d)
	if err != nil {
		return nil, sessiondriver.AgentError(sessionID, agentID, fmt.Errorf("mongo: stored message: %w", err))
	}
	return m, nil
}

// errNotAtIndex is what a write addressed by index returns when the element
// at the index does not hold the message id it was meant for.
var errNotAtIndex = errors.New("message is not at its index")

// byMessageID runs the write mk builds for the message with id messageID,
// addressed by array index and guarded by the element's message_id in the
// filter (matching nothing if the index is off). It first tries index
// messageID: ids are dense wherever only sessionkit wrote, so this is the
// one round trip of the common path, on every server. When that element
// holds another id (an agent a foreign writer left with duplicate or missing
// ids) it reads the ids and addresses the first element holding messageID,
// the element GetMessage returns and the original's own rule.
func (l *embeddedLayout) byMessageID(ctx context.Context, sessionID, agentID string, messageID int, mk func(prefix string, guard bson.E) (write, error)) error {
	try := func(index int) error {
		k := agentKey(agentID) + "." + fMessages
		w, err := mk(fmt.Sprintf("%s.%d.", k, index), bson.E{Key: fmt.Sprintf("%s.%d.%s", k, index, fMessageID), Value: int64(messageID)})
		if err != nil {
			return err
		}
		w.mismatch = func(*docState) error { return errNotAtIndex }
		return l.apply(ctx, sessionID, agentID, w)
	}
	err := try(messageID)
	if !errors.Is(err, errNotAtIndex) {
		return err
	}
	ids, err := l.messageIDs(ctx, sessionID, agentID)
	if err != nil {
		return err
	}
	if i := slices.Index(ids, messageID); i >= 0 && i != messageID {
		if err = try(i); !errors.Is(err, errNotAtIndex) {
			return err
		}
	}
	return sessiondriver.MessageError(sessionID, agentID, messageID, session.ErrNotFound)
}

// updateMessage sets the message's fields one by one (never the whole
// element, so stored metrics and guardrail events survive: the original's
// bug B5) and keeps created_at.
func (l *embeddedLayout) updateMessage(ctx context.Context, sessionID, agentID string, m *session.Message, setMetrics, setGuardrail bool) error {
	now := bsonTime(l.r.opts.Now())
	var redact any
	if m.RedactMessage != nil {
		redact = encodeChat(*m.RedactMessage)
	}
	return l.byMessageID(ctx, sessionID, agentID, m.ID, func(prefix string, guard bson.E) (write, error) {
		set := bson.D{
			{Key: prefix + fMessage, Value: encodeChat(m.Message)},
			{Key: prefix + fRedactMessage, Value: redact},
			{Key: prefix + fUpdatedAt, Value: now},
		}
		if setMetrics {
			set = append(set, bson.E{Key: prefix + fEventLoopMetrics, Value: encodeMetrics(m.EventLoopMetrics)})
		}
		if setGuardrail {
			set = append(set, bson.E{Key: prefix + fGuardrailEvent, Value: encodeGuardrail(m.GuardrailEvent)})
		}
		set = append(set, bson.E{Key: agentKey(agentID) + "." + fUpdatedAt, Value: now}, bson.E{Key: fUpdatedAt, Value: now})
		grow := sizeOf("set", set)
		set, unset, err := l.exactSets(ctx, sessionID, set)
		return write{cond: bson.D{agentExists(agentID), guard}, set: set, unset: unset, grow: grow}, err
	})
}

func (l *embeddedLayout) listMessages(ctx context.Context, sessionID, agentID string, offset, limit int) ([]*session.Message, error) {
	msgs, sliced, err := l.messages(ctx, sessionID, agentID, offset, limit)
	if err != nil {
		return nil, err
	}
	switch {
	case !sliced:
		l.r.setNextHint(sessionID, agentID, len(msgs))
	case len(msgs) > 0 && len(msgs) < limit:
		l.r.setNextHint(sessionID, agentID, offset+len(msgs))
	}
	if !sliced {
		if offset >= len(msgs) {
			msgs = nil
		} else {
			msgs = msgs[offset:]
		}
		if limit > 0 && len(msgs) > limit {
			msgs = msgs[:limit]
		}
	}
	out := make([]*session.Message, 0, len(msgs))
	for _, e := range msgs {
		m, err := l.decode(sessionID, agentID, e)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// countMessages counts the elements of the messages array itself (the
// message_count hint may be stale after a foreign $push): with aggregation
// ($size, MongoDB and mongo-java-server) one aggregate that returns a
// number; without it (FerretDB) a projection of the message ids. Both are
// one round trip.
func (l *embeddedLayout) countMessages(ctx context.Context, sessionID, agentID string) (int, error) {
	if !l.r.caps.Aggregation {
		ids, err := l.messageIDs(ctx, sessionID, agentID)
		return len(ids), err
	}
	k := "$" + agentKey(agentID)
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: fID, Value: sessionID}, l.r.notExpired()}}},
		bson.D{{Key: "$project", Value: bson.D{
			{Key: "agent", Value: k + "." + fAgentData + ".agent_id"},
			{Key: "n", Value: bson.D{{Key: "$size", Value: bson.D{{Key: "$ifNull", Value: bson.A{k + "." + fMessages, bson.A{}}}}}}},
		}}},
	}
	cur, err := l.r.coll.Aggregate(ctx, pipeline)
	if err != nil {
		return 0, sessiondriver.AgentError(sessionID, agentID, fmt.Errorf("mongo: count messages: %w", err))
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		return 0, sessiondriver.AgentError(sessionID, agentID, fmt.Errorf("mongo: count messages: %w", err))
	}
	if len(docs) == 0 {
		return 0, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	if _, ok := field(docs[0], "agent"); !ok {
		return 0, sessiondriver.AgentError(sessionID, agentID, session.ErrNotFound)
	}
	n, _ := integer(mustField(docs[0], "n"))
	l.r.setNextHint(sessionID, agentID, int(n))
	return int(n), nil
}

func (l *embeddedLayout) updateMetadata(ctx context.Context, sessionID string, md map[string]any) error {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	set := bson.D{}
	for _, k := range keys {
		set = append(set, bson.E{Key: fMetadata + "." + k, Value: toBSON(md[k])})
	}
	set = append(set, bson.E{Key: fUpdatedAt, Value: bsonTime(l.r.opts.Now())})
	grow := sizeOf("set", set)
	set, unset, err := l.exactSets(ctx, sessionID, set)
	if err != nil {
		return err
	}
	return l.apply(ctx, sessionID, "", write{set: set, unset: unset, grow: grow})
}

func (l *embeddedLayout) getMetadata(ctx context.Context, sessionID string) (map[string]any, error) {
	d, err := l.r.findOne(ctx, sessionID, bson.D{{Key: fMetadata, Value: 1}})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	return nonNilMap(fromBSONMap(mustField(d, fMetadata))), nil
}

func (l *embeddedLayout) deleteMetadata(ctx context.Context, sessionID string, keys []string) error {
	unset := bson.D{}
	for _, k := range keys {
		unset = append(unset, bson.E{Key: fMetadata + "." + k, Value: ""})
	}
	return l.apply(ctx, sessionID, "", write{
		unset: unset,
		set:   bson.D{{Key: fUpdatedAt, Value: bsonTime(l.r.opts.Now())}},
		grow:  1,
	})
}

func (l *embeddedLayout) addFeedback(ctx context.Context, sessionID string, f *session.Feedback) error {
	var cond bson.D
	if f.AgentID != "" {
		cond = append(cond, agentExists(f.AgentID))
	}
	if f.MessageID != nil {
		cond = append(cond, bson.E{Key: agentKey(f.AgentID) + "." + fMessages + "." + fMessageID, Value: int64(*f.MessageID)})
	}
	elem := encodeFeedback(f)
	return l.apply(ctx, sessionID, f.AgentID, write{
		cond: cond,
		push: bson.D{{Key: fFeedbacks, Value: elem}},
		set:  bson.D{{Key: fUpdatedAt, Value: bsonTime(l.r.opts.Now())}},
		grow: sizeOf("0000000", elem) + 16,
		mismatch: func(*docState) error {
			return sessiondriver.MessageError(sessionID, f.AgentID, *f.MessageID, session.ErrNotFound)
		},
	})
}

func (l *embeddedLayout) listFeedback(ctx context.Context, sessionID string) ([]*session.Feedback, error) {
	d, err := l.r.findOne(ctx, sessionID, bson.D{{Key: fFeedbacks, Value: 1}})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	items, _ := mustField(d, fFeedbacks).(bson.A)
	out := make([]*session.Feedback, 0, len(items))
	for i, e := range items {
		if fd := docOf(e); fd != nil {
			out = append(out, decodeFeedback(fd, i))
		}
	}
	return out, nil
}

// recordGuardrailEvent sets the message's guardrail_event and appends the
// session-level entry in one update, as the original's combined $set+$push.
func (l *embeddedLayout) recordGuardrailEvent(ctx context.Context, sessionID, agentID string, messageID int, ev *session.GuardrailEvent) error {
	now := bsonTime(l.r.opts.Now())
	evDoc := encodeGuardrail(ev)
	entry := encodeSessionGuardrail(agentID, messageID, ev)
	return l.byMessageID(ctx, sessionID, agentID, messageID, func(prefix string, guard bson.E) (write, error) {
		return write{
			cond: bson.D{agentExists(agentID), guard},
			set:  bson.D{{Key: prefix + fGuardrailEvent, Value: evDoc}, {Key: fUpdatedAt, Value: now}},
			push: bson.D{{Key: fGuardrailEvents, Value: entry}},
			grow: sizeOf("guardrail_event", evDoc) + sizeOf("0000000", entry),
		}, nil
	})
}

func (l *embeddedLayout) listGuardrailEvents(ctx context.Context, sessionID string) ([]*session.SessionGuardrailEvent, error) {
	d, err := l.r.findOne(ctx, sessionID, bson.D{{Key: fGuardrailEvents, Value: 1}})
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	items, _ := mustField(d, fGuardrailEvents).(bson.A)
	out := make([]*session.SessionGuardrailEvent, 0, len(items))
	for _, e := range items {
		if ed := docOf(e); ed != nil {
			out = append(out, decodeSessionGuardrail(ed))
		}
	}
	return out, nil
}
