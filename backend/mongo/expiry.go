package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/session"
	sessiondriver "github.com/sessionkit/sessionkit/session/driver"
)

// Session expiry on MongoDB.
//
// The expiry is the root field expires_at, a BSON date, absent when the
// session never expires. The Python original reads root fields by name and
// ignores this one (as it ignores doc_size and multi_agents), so documents
// stay readable by it; it does not honour the expiry.
//
// Reads hide an expired session: the lookups by _id stay _id alone (FerretDB
// pushes no other filter down) and check expires_at here; writes, deletes,
// listings and aggregations add the condition {expires_at: {$not: {$lte:
// now}}} to their filter, so a write under an expired session matches
// nothing and reports ErrNotFound.
//
// Removal is the sweeper's: it deletes an expired session's snapshots (which
// live in other collections) and then the document, guarded by the expiry,
// so a session that is not expired is never touched and a sweep that fails
// half-way is finished by the next one. Where the server has TTL indexes
// (Capabilities.TTLIndexes: MongoDB and Atlas) expires_at also gets a TTL
// index with TTLGrace, a backstop that removes the documents of expired
// sessions when no sessionkit process runs a sweeper; it cannot remove their
// snapshots, which then stay (taking space) until the id is deleted or a
// snapshot of the same key replaces them. They are never seen by a later
// holder of the id: snapshots carry the epoch of the session document that
// wrote them (snapshots.go), and a new document has a new one.

// TTLGrace is how long after its expiry a MongoDB TTL index removes a session
// document the sweeper has not removed. It leaves the sweeper (every minute
// by default), which also removes snapshots, time to go first.
const TTLGrace = time.Hour

var _ session.ExpiryStore = (*Repository)(nil)

// expiryIndex is the index on expires_at: a TTL index where the server has
// them, a plain one elsewhere. Documents without the field are never
// removed by it.
func (r *Repository) expiryIndex() driver.IndexModel {
	m := driver.IndexModel{Keys: bson.D{{Key: fExpiresAt, Value: 1}}}
	if r.caps.TTLIndexes {
		m.Options = options.Index().SetExpireAfterSeconds(int32(TTLGrace / time.Second))
	}
	return m
}

// notExpired is the filter condition "has no expiry, or it is later than
// now".
func (r *Repository) notExpired() bson.E {
	return bson.E{Key: fExpiresAt, Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$lte", Value: bsonTime(r.opts.Now())}}}}}
}

// expired is the filter condition "expired by now".
func (r *Repository) expired() bson.E {
	return bson.E{Key: fExpiresAt, Value: bson.D{{Key: "$lte", Value: bsonTime(r.opts.Now())}}}
}

// expiredDoc reports whether a fetched document has expired.
func (r *Repository) expiredDoc(d bson.D) bool {
	v, ok := field(d, fExpiresAt)
	if !ok || v == nil {
		return false
	}
	return !timeOf(v).After(msTime(r.opts.Now()))
}

// withExpiry adds expires_at to an inclusion projection, so that findOne
// can check it; an exclusion projection keeps it already, and one that
// names it is left as it is (mongo-java-server drops the connection on a
// projection naming a field twice).
func withExpiry(projection any) any {
	d, ok := projection.(bson.D)
	if !ok || len(d) == 0 {
		return projection
	}
	for _, e := range d {
		if excludes(e.Value) || e.Key == fExpiresAt {
			return projection
		}
	}
	out := append(bson.D{}, d...)
	return append(out, bson.E{Key: fExpiresAt, Value: 1})
}

// excludes reports whether a projection value leaves its field out.
func excludes(v any) bool {
	switch x := v.(type) {
	case bool:
		return !x
	case int:
		return x == 0
	case int32:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	}
	return false
}

// removeExpired deletes sessionID with its snapshots if it has expired and
// reports whether it did. The snapshots go first: an expired session never
// becomes live again (SetSessionExpiry does not match it), and when their
// delete fails the document stays for the next try. Only the snapshots of
// the expired holder's epoch go (snapshots.go): a CreateSession reusing the
// id between this read and the deletes (another process, or MongoDB without
// write locks) owns a new document and writes under a new epoch, which
// neither delete matches.
func (r *Repository) removeExpired(ctx context.Context, sessionID string) (bool, error) {
	var d bson.D
	err := r.coll.FindOne(ctx, bson.D{{Key: fID, Value: sessionID}, r.expired()},
		options.FindOne().SetProjection(bson.D{{Key: fID, Value: 1}, {Key: fSnapshotEpoch, Value: 1}})).Decode(&d)
	if errors.Is(err, driver.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: find expired: %w", err))
	}
	epoch, _ := mustField(d, fSnapshotEpoch).(string)
	if err := r.deleteEpochSnapshots(ctx, sessionID, epoch); err != nil {
		return false, err
	}
	holder := bson.E{Key: fSnapshotEpoch, Value: epoch}
	if epoch == "" {
		holder.Value = bson.D{{Key: "$exists", Value: false}}
	}
	res, err := r.coll.DeleteOne(ctx, bson.D{{Key: fID, Value: sessionID}, r.expired(), holder})
	if err != nil {
		return false, sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: delete expired: %w", err))
	}
	return res.DeletedCount == 1, nil
}

// SetSessionExpiry implements session.ExpiryStore with one guarded update
// ($set expires_at, or $unset when clearing).
func (r *Repository) SetSessionExpiry(ctx context.Context, sessionID string, expiresAt time.Time) error {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	now := r.opts.Now()
	at, err := sessiondriver.PrepareExpiry(expiresAt, now)
	if err != nil {
		return sessiondriver.SessionError(sessionID, err)
	}
	w := write{set: bson.D{{Key: fUpdatedAt, Value: bsonTime(now)}}, grow: 32}
	if at.IsZero() {
		w.unset = bson.D{{Key: fExpiresAt, Value: ""}}
	} else {
		w.set = append(w.set, bson.E{Key: fExpiresAt, Value: bsonTime(at)})
	}
	return r.write(ctx, sessionID, func(ctx context.Context) error {
		return r.layout.(*embeddedLayout).apply(ctx, sessionID, "", w)
	})
}

// SweepExpired implements session.ExpiryStore: it reads the ids of at most
// limit expired sessions (on the expires_at index) and removes each with
// removeExpired, through the per-session write lock where the server needs
// it.
func (r *Repository) SweepExpired(ctx context.Context, limit int) (int, error) {
	if err := sessiondriver.ValidateSweepLimit(limit); err != nil {
		return 0, err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	cur, err := r.coll.Find(ctx, bson.D{r.expired()}, options.Find().
		SetProjection(bson.D{{Key: fID, Value: 1}}).SetSort(bson.D{{Key: fExpiresAt, Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return 0, r.fail(fmt.Errorf("mongo: find expired sessions: %w", err))
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		return 0, r.fail(fmt.Errorf("mongo: find expired sessions: %w", err))
	}
	var n atomic.Int64 // a write on FerretDB may outlive ctx (see write)
	for _, d := range docs {
		id, ok := mustField(d, fID).(string)
		if !ok {
			continue
		}
		err := r.write(ctx, id, func(ctx context.Context) error {
			removed, err := r.removeExpired(ctx, id)
			if removed {
				n.Add(1)
			}
			return err
		})
		if err != nil {
			return int(n.Load()), err
		}
	}
	return int(n.Load()), nil
}

var _ session.IdleDeleter = (*Repository)(nil)

// DeleteSessionIfIdle implements session.IdleDeleter: one read of the
// document's updated_at, doc_size and snapshot epoch, then one deleteOne
// guarded by exactly those values and the expiry, so a write that lands in
// between makes it match nothing (FerretDB answers NotImplemented to a
// findAndModify with a projection, and without one it would return the
// whole document); then the snapshots of that epoch (snapshots.go), which
// no later holder of the id sees even if their delete fails (they then
// stay until DeleteSession of the id). A first snapshot written in between
// sets the epoch, and the session is then left alone like one written to.
func (r *Repository) DeleteSessionIfIdle(ctx context.Context, sessionID string, before time.Time) (bool, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return false, err
	}
	if before.IsZero() {
		return false, sessiondriver.SessionError(sessionID, sessiondriver.InvalidArgument("before", "is zero"))
	}
	cutoff := bsonTime(before)
	var deleted bool
	err := r.write(ctx, sessionID, func(ctx context.Context) error {
		d, err := r.findOne(ctx, sessionID, bson.D{{Key: fID, Value: 1}, {Key: fUpdatedAt, Value: 1}, {Key: fDocSize, Value: 1},
			{Key: fSnapshotEpoch, Value: 1}})
		if err != nil {
			return err
		}
		if d == nil {
			return sessiondriver.SessionError(sessionID, session.ErrNotFound)
		}
		if !timeOf(mustField(d, fUpdatedAt)).Before(cutoff.Time()) {
			return nil
		}
		// The guard is the document as read: updated_at and doc_size (which
		// every write of this backend grows; the Python original's writes
		// move updated_at) and the snapshot epoch, each equal or absent.
		filter := bson.D{{Key: fID, Value: sessionID}, r.notExpired()}
		for _, k := range []string{fUpdatedAt, fDocSize, fSnapshotEpoch} {
			if v, ok := field(d, k); ok {
				filter = append(filter, bson.E{Key: k, Value: v})
			} else {
				filter = append(filter, bson.E{Key: k, Value: bson.D{{Key: "$exists", Value: false}}})
			}
		}
		epoch, _ := mustField(d, fSnapshotEpoch).(string)
		res, err := r.coll.DeleteOne(ctx, filter)
		if err != nil {
			return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: delete idle session: %w", err))
		}
		if res.DeletedCount == 0 {
			return nil
		}
		deleted = true
		return r.deleteEpochSnapshots(ctx, sessionID, epoch)
	})
	return deleted, err
}
