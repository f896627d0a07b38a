package mongo

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.TimeRestorer = (*Repository)(nil)

// RestoreTimes implements session.TimeRestorer. The session's updated_at
// and each agent's (agents.<id>.updated_at, and agent_data.updated_at,
// which the Python original reads) are set by one conditional update of the
// session document that requires every agent to exist; then each snapshot
// manifest's updated_at by one update each, in key order. Times are kept
// at BSON's millisecond precision, as everywhere in this backend.
func (r *Repository) RestoreTimes(ctx context.Context, sessionID string, t session.StoredTimes) error {
	if err := driver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	p, err := driver.PrepareStoredTimes(t)
	if err != nil {
		return driver.SessionError(sessionID, err)
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		if err := r.restoreDocumentTimes(ctx, sessionID, p); err != nil {
			return err
		}
		for _, key := range slices.Sorted(maps.Keys(p.Snapshots)) {
			res, err := r.snapshotManifests().UpdateOne(ctx, bson.D{{Key: fID, Value: manifestID(sessionID, key)}},
				bson.D{{Key: "$set", Value: bson.D{{Key: fUpdatedAt, Value: bsonTime(p.Snapshots[key])}}}})
			if err != nil {
				return driver.SnapshotError(sessionID, key, fmt.Errorf("mongo: update snapshot manifest: %w", err))
			}
			if res.MatchedCount == 0 {
				return driver.SnapshotError(sessionID, key, session.ErrNotFound)
			}
		}
		return nil
	})
}

// restoreDocumentTimes sets the session's and its agents' times in one
// update; when the session or an agent is missing it reads the document
// once to say which.
func (r *Repository) restoreDocumentTimes(ctx context.Context, sessionID string, p session.StoredTimes) error {
	l, ok := r.layout.(*embeddedLayout)
	if !ok {
		return fmt.Errorf("mongo: layout %T cannot restore times", r.layout)
	}
	ids := slices.Sorted(maps.Keys(p.Agents))
	var cond, set bson.D
	for _, id := range ids {
		at := bsonTime(p.Agents[id])
		k := agentKey(id) + "."
		cond = append(cond, agentExists(id))
		set = append(set, bson.E{Key: k + fUpdatedAt, Value: at}, bson.E{Key: k + fAgentData + "." + fUpdatedAt, Value: at})
	}
	if !p.UpdatedAt.IsZero() {
		set = append(set, bson.E{Key: fUpdatedAt, Value: bsonTime(p.UpdatedAt)})
	}
	grow := int64(1)
	if p.ForkedFrom != nil {
		origin := encodeForkOrigin(p.ForkedFrom)
		raw, err := bson.Marshal(origin)
		if err != nil {
			return driver.SessionError(sessionID, fmt.Errorf("mongo: encode lineage: %w", err))
		}
		set = append(set, bson.E{Key: fForkedFrom, Value: origin})
		grow = int64(len(raw) + len(fForkedFrom) + 2)
	}
	if len(set) == 0 {
		return r.sessionExists(ctx, sessionID)
	}
	return l.apply(ctx, sessionID, "", write{cond: cond, set: set, grow: grow, mismatch: func(*docState) error {
		proj := bson.D{{Key: fID, Value: 1}}
		for _, id := range ids {
			proj = append(proj, bson.E{Key: agentKey(id) + "." + fAgentData + ".agent_id", Value: 1})
		}
		d, err := r.findOne(ctx, sessionID, proj)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, ok := path(d, fAgents, id, fAgentData, "agent_id"); !ok {
				return driver.AgentError(sessionID, id, session.ErrNotFound)
			}
		}
		return driver.SessionError(sessionID, fmt.Errorf("concurrent update: %w", session.ErrConflict))
	}})
}
