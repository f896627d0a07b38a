package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/session"
	sessiondriver "github.com/sessionkit/sessionkit/session/driver"
)

// Fork (session.Forker).
//
// The lineage is the root field forked_from of the fork's document:
//
//	forked_from: {session_id: <source>, agent_id: <agent or "">,
//	              message_id: <last message copied, or null>, at: <date>}
//
// The Python original reads the root of a session document key by key
// (original.md §1.2 read_session, §2.1) and never splats it into a
// constructor, so an extra root field is invisible to it, like this
// backend's schema_version and doc_size. The forks of a session are found
// by the index on forked_from.session_id.
//
// Cost: two round trips for the session document — one find of the source
// (without its feedback and guardrail events; for an agent fork, only that
// agent), one insert of the new document built here — whatever the number
// of messages. A single server-side round trip ($merge of an aggregation
// into the same collection) was ruled out: FerretDB v1 implements neither
// $merge nor $out (probed: NotImplemented), nor the $slice expression an
// agent fork needs to cut a message array; mongo-java-server does run
// $merge into the same collection with $addFields and $slice (probed), but
// a $merge of a missing source writes nothing and reports nothing, so
// telling ErrNotFound from success, and returning the new session, would
// take a second round trip anyway.
// Snapshots live in their own collections (snapshots.go) and are copied
// after the document, one read and one write per key; if that fails the
// fork is deleted again, so an error leaves nothing behind, but a reader
// may see the fork for a moment before its snapshots are all there.
const (
	fForkedFrom     = "forked_from" // root, added by this backend
	fForkSessionID  = "session_id"
	fForkAgentID    = "agent_id"
	fForkMessageID  = "message_id"
	fForkAt         = "at"
	forkSourceIndex = fForkedFrom + "." + fForkSessionID
)

var _ session.Forker = (*Repository)(nil)

// ForkSession implements session.Forker. The write is serialized on the new
// session's id (on servers without atomic updates), which is the only
// document it writes.
func (r *Repository) ForkSession(ctx context.Context, req session.ForkRequest) (*session.Session, error) {
	req, err := sessiondriver.PrepareFork(req)
	if err != nil {
		return nil, sessiondriver.ForkError(req, err)
	}
	now := msTime(r.opts.Now())
	var out *session.Session
	err = r.write(ctx, req.ID, func(ctx context.Context) error {
		doc, err := r.forkDocument(ctx, req, now)
		if err != nil {
			return err
		}
		_, err = r.coll.InsertOne(ctx, doc)
		if driver.IsDuplicateKeyError(err) {
			// The id is free again when the session holding it has
			// expired, as for CreateSession.
			var removed bool
			if removed, err = r.removeExpired(ctx, req.ID); err != nil {
				return err
			}
			if !removed {
				return sessiondriver.SessionError(req.ID, session.ErrAlreadyExists)
			}
			_, err = r.coll.InsertOne(ctx, doc)
		}
		if err != nil {
			if driver.IsDuplicateKeyError(err) {
				return sessiondriver.SessionError(req.ID, session.ErrAlreadyExists)
			}
			return sessiondriver.SessionError(req.ID, fmt.Errorf("mongo: insert fork: %w", err))
		}
		if req.AgentID == "" {
			if err := r.copySnapshots(ctx, req, now); err != nil {
				_ = r.cleanup(ctx, func(ctx context.Context) error {
					if _, err := r.coll.DeleteOne(ctx, bson.D{{Key: fID, Value: req.ID}}); err != nil {
						return err
					}
					return r.deleteSessionSnapshots(ctx, req.ID)
				})
				return err
			}
		}
		out = decodeSession(doc)
		return nil
	})
	if err != nil {
		return nil, sessiondriver.ForkError(req, err)
	}
	return out, nil
}

// forkDocument reads the source and returns the fork's document: the
// source's root fields with the new id, times, viewer password and
// lineage, no feedback or guardrail events, and for an agent fork only that
// agent, cut after req.MessageID. Message elements are copied as stored.
func (r *Repository) forkDocument(ctx context.Context, req session.ForkRequest, now time.Time) (bson.D, error) {
	proj := bson.D{{Key: fFeedbacks, Value: 0}, {Key: fGuardrailEvents, Value: 0}}
	if req.AgentID != "" {
		proj = bson.D{{Key: fID, Value: 1}}
		for _, f := range []string{fSessionID, fApplicationName, fSessionType, fMetadata, fAgentIDs, fSchemaVersion} {
			proj = append(proj, bson.E{Key: f, Value: 1})
		}
		proj = append(proj, bson.E{Key: agentKey(req.AgentID), Value: 1})
	}
	src, err := r.findOne(ctx, req.SourceID, proj)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, sessiondriver.SessionError(req.SourceID, session.ErrNotFound)
	}
	n := 0
	var agents bson.D
	if req.AgentID != "" {
		entry, count, err := forkAgentEntry(req, docOf(mustField(docOf(mustField(src, fAgents)), req.AgentID)))
		if err != nil {
			return nil, err
		}
		n = count
		agents = bson.D{{Key: req.AgentID, Value: entry}}
	}
	origin := sessiondriver.NewForkOrigin(req, n, now)
	// The fork's snapshots are its own: a fresh epoch (snapshots.go) where
	// the source has one, none (set by the first copied snapshot) where it
	// has none yet or for an agent fork, which copies no snapshots.
	epoch := any(nil)
	if _, has := field(src, fSnapshotEpoch); has && req.AgentID == "" {
		fresh, err := newSnapshotEpoch()
		if err != nil {
			return nil, err
		}
		epoch = fresh
	}
	replace := map[string]any{
		fID:              req.ID,
		fSessionID:       req.ID,
		fViewerPassword:  req.ViewerPasswordHash,
		fCreatedAt:       bsonTime(now),
		fUpdatedAt:       bsonTime(now),
		fFeedbacks:       bson.A{},
		fGuardrailEvents: bson.A{},
		fForkedFrom:      encodeForkOrigin(origin),
		fDocSize:         int64(0),
	}
	if req.AgentID != "" {
		replace[fAgents] = agents
		ids := bson.A{}
		for _, id := range asArray(mustField(src, fAgentIDs)) {
			if id == req.AgentID {
				ids = append(ids, id)
			}
		}
		replace[fAgentIDs] = ids
	}
	doc := make(bson.D, 0, len(src)+len(replace))
	for _, e := range src {
		if e.Key == fSnapshotEpoch {
			if epoch != nil {
				doc = append(doc, bson.E{Key: fSnapshotEpoch, Value: epoch})
			}
			continue
		}
		if v, ok := replace[e.Key]; ok {
			e.Value = v
			delete(replace, e.Key)
		}
		doc = append(doc, e)
	}
	// Fields the source lacks (a document the Python original wrote has no
	// doc_size or forked_from), in a fixed order.
	for _, k := range []string{fID, fSessionID, fViewerPassword, fCreatedAt, fUpdatedAt, fAgents, fAgentIDs,
		fFeedbacks, fGuardrailEvents, fForkedFrom, fDocSize} {
		if v, ok := replace[k]; ok {
			doc = append(doc, bson.E{Key: k, Value: v})
		}
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, sessiondriver.SessionError(req.ID, fmt.Errorf("mongo: encode fork: %w", err))
	}
	size := int64(len(raw))
	if size > r.opts.MaxDocumentBytes {
		return nil, sessiondriver.SessionError(req.ID, fmt.Errorf("fork document of %d bytes over %d: %w", size, r.opts.MaxDocumentBytes, session.ErrTooLarge))
	}
	for i := range doc {
		if doc[i].Key == fDocSize {
			doc[i].Value = size
		}
	}
	return doc, nil
}

// forkAgentEntry returns the agent entry of an agent fork and how many
// messages it holds: the first n elements of the source's array (messages
// are addressed by position, as ListMessages reads them), message_count n,
// and, when the log is cut, the state of a fresh agent in agent_data (see
// driver.ForkCutAgent).
func forkAgentEntry(req session.ForkRequest, entry bson.D) (bson.D, int, error) {
	a, ok := decodeAgent(req.AgentID, entry)
	if !ok {
		return nil, 0, sessiondriver.AgentError(req.SourceID, req.AgentID, session.ErrNotFound)
	}
	msgs := asArray(mustField(entry, fMessages))
	n, truncated, err := sessiondriver.ForkCut(req, len(msgs))
	if err != nil {
		return nil, 0, err
	}
	out := make(bson.D, 0, len(entry)+1)
	hasCount := false
	for _, e := range entry {
		switch e.Key {
		case fMessages:
			e.Value = append(bson.A{}, msgs[:n]...)
		case fMessageCount:
			e.Value, hasCount = int64(n), true
		case fAgentData:
			if truncated {
				cut := sessiondriver.ForkCutAgent(a)
				data := append(bson.D{}, docOf(e.Value)...)
				for i := range data {
					switch data[i].Key {
					case "conversation_manager_state":
						data[i].Value = mapToD(cut.ConversationManagerState)
					case "_internal_state":
						data[i].Value = mapToD(cut.InternalState)
					}
				}
				e.Value = data
			}
		}
		out = append(out, e)
	}
	if !hasCount {
		out = append(out, bson.E{Key: fMessageCount, Value: int64(n)})
	}
	return out, n, nil
}

// copySnapshots copies every snapshot of the source to the fork, keeping
// each one's UpdatedAt. A key deleted from the source meanwhile is skipped:
// the copy is then of a later state of the source.
func (r *Repository) copySnapshots(ctx context.Context, req session.ForkRequest, now time.Time) error {
	cur, err := r.snapshotManifests().Find(ctx, idPrefix(req.SourceID+"/"), options.Find().SetProjection(bson.D{{Key: "key", Value: 1}}))
	if err != nil {
		return fmt.Errorf("mongo: list snapshots to fork: %w", err)
	}
	var manifests []snapshotManifest
	if err := cur.All(ctx, &manifests); err != nil {
		return fmt.Errorf("mongo: list snapshots to fork: %w", err)
	}
	for _, m := range manifests {
		snap, err := r.getSnapshot(ctx, req.SourceID, m.Key)
		if errors.Is(err, session.ErrNotFound) {
			continue
		}
		if err != nil {
			return sessiondriver.SnapshotError(req.SourceID, m.Key, err)
		}
		at := snap.UpdatedAt
		if at.IsZero() {
			at = now
		}
		if _, err := r.putSnapshot(ctx, req.ID, m.Key, snap.Data, at); err != nil {
			return sessiondriver.SnapshotError(req.ID, m.Key, err)
		}
	}
	return nil
}

func encodeForkOrigin(o *session.ForkOrigin) bson.D {
	var messageID any
	if o.MessageID != nil {
		messageID = int64(*o.MessageID)
	}
	return bson.D{
		{Key: fForkSessionID, Value: o.SessionID},
		{Key: fForkAgentID, Value: o.AgentID},
		{Key: fForkMessageID, Value: messageID},
		{Key: fForkAt, Value: bsonTime(o.At)},
	}
}

// decodeForkOrigin reads forked_from from a root document; nil when the
// session is not a fork (or the field is not a lineage document).
func decodeForkOrigin(d bson.D) *session.ForkOrigin {
	f := docOf(mustField(d, fForkedFrom))
	if f == nil {
		return nil
	}
	o := &session.ForkOrigin{SessionID: str(f, fForkSessionID), AgentID: str(f, fForkAgentID)}
	if o.SessionID == "" {
		return nil
	}
	if n, ok := integer(mustField(f, fForkMessageID)); ok {
		id := int(n)
		o.MessageID = &id
	}
	o.At = timeOf(mustField(f, fForkAt))
	return o
}

// forkFilter adds SessionQuery.ForkedFrom to a listSessions filter.
func forkFilter(q session.SessionQuery, filter bson.D) bson.D {
	if q.ForkedFrom == "" {
		return filter
	}
	return append(filter, bson.E{Key: forkSourceIndex, Value: q.ForkedFrom})
}

func asArray(v any) bson.A {
	a, _ := v.(bson.A)
	return a
}
