package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/sessionkit/session"
	sessiondriver "github.com/sessionkit/sessionkit/session/driver"
)

// Snapshot store (session.SnapshotStore).
//
// Snapshots live outside the session document, which MongoDB caps at
// 16 MiB while one snapshot may be larger (up to MaxSnapshotBytes, 64 MiB
// by default), and which the Python original must keep reading unchanged.
// Two collections beside the sessions collection, in its database:
//
//	<collection>_snapshots         one manifest per (session, key):
//	    {_id: "<sid>/<key>", session_id, key, version, size_bytes, chunks, updated_at}
//	<collection>_snapshot_chunks   the bytes, in chunks of at most SnapshotChunkBytes:
//	    {_id: "<version>:<n, 8 digits>", data: Binary}
//
// A version id is "<sid>/<random hex>", so every chunk of a session has
// the _id prefix "<sid>/" (session ids never contain "/"), and both
// collections are searched by _id ranges and anchored _id prefixes only:
// the default _id indexes serve every query, and no index is created.
//
// A write (PutSnapshot) inserts the new bytes as chunks of a fresh version,
// then switches the manifest to that version with one findOneAndReplace
// (upsert), then deletes the chunks of the version it replaced. A reader
// reads the manifest, then that version's chunks; when they are missing or
// short — a writer replaced and deleted them in between — it reads the
// manifest again (a few times), so it returns one whole version, never a
// mix. Concurrent writers of one key each delete only the version their own
// switch replaced, so no chunk leaks and the last switch wins. A failed
// write deletes its own chunks and leaves the manifest as it was.
//
// DeleteSession removes the session's manifests and chunks before the
// session document (deleteSessionSnapshots). A write racing a DeleteSession
// checks the session again after its switch and removes what it wrote if
// the session is gone.
//
// Snapshots belong to one holder of a session id, not to the id: the first
// PutSnapshot of a session gives its document a random root field
// snapshot_epoch (one guarded update; the Python original ignores the
// field), every manifest records it (field epoch) and every version id
// carries it ("<sid>/<epoch>.<random hex>"). Reads and listings see only
// the manifests of the session's epoch, so when a session document goes
// without its snapshots — removed by a TTL index, or by hand — whoever
// takes the id next (CreateSession, ForkSession) never sees them, at no
// cost to CreateSession. Removing an expired session deletes the manifests
// and chunks of its epoch only, so a sweep racing a reuse of the id (in
// another process, or on MongoDB, where no write lock serializes them)
// cannot delete the new holder's snapshots. Manifests written before
// epochs existed have no epoch field and are seen by any holder of the id
// (they are the last way left for a stale snapshot to reach a new
// session); removing an expired session deletes them too. Another epoch's
// leftovers are replaced by a PutSnapshot of the same key and removed by
// DeleteSession of the id. Snapshot writes do not move the session's
// updated_at (the session document is not written at all), and they do not
// count towards MaxDocumentBytes.
//
// SnapshotCollectionSuffix and SnapshotChunkCollectionSuffix name the two
// collections, in the sessions collection's database.
const (
	SnapshotCollectionSuffix      = "_snapshots"
	SnapshotChunkCollectionSuffix = "_snapshot_chunks"
	// DefaultSnapshotChunkBytes is the chunk size when
	// Options.SnapshotChunkBytes is 0: far under the 16 MiB document limit
	// and the 48 MB message limit, so one insertMany batch carries several.
	DefaultSnapshotChunkBytes = 4 << 20
	// snapshotReadTries bounds how often a reader re-reads the manifest
	// when a writer replaced the version it was reading.
	snapshotReadTries = 8
)

var _ session.SnapshotStore = (*Repository)(nil)

var errNoSnapshot = fmt.Errorf("%w: no such snapshot", session.ErrNotFound)

func (r *Repository) snapshotManifests() *driver.Collection {
	return r.coll.Database().Collection(r.opts.Collection + SnapshotCollectionSuffix)
}

func (r *Repository) snapshotChunks() *driver.Collection {
	return r.coll.Database().Collection(r.opts.Collection + SnapshotChunkCollectionSuffix)
}

func (r *Repository) snapshotChunkBytes() int {
	if r.opts.SnapshotChunkBytes > 0 {
		return r.opts.SnapshotChunkBytes
	}
	return DefaultSnapshotChunkBytes
}

// snapshotManifest is a manifest document.
type snapshotManifest struct {
	ID        string        `bson:"_id"`
	SessionID string        `bson:"session_id"`
	Epoch     string        `bson:"epoch,omitempty"`
	Key       string        `bson:"key"`
	Version   string        `bson:"version"`
	SizeBytes int64         `bson:"size_bytes"`
	Chunks    int           `bson:"chunks"`
	UpdatedAt bson.DateTime `bson:"updated_at"`
}

func (m *snapshotManifest) info() session.SnapshotInfo {
	return session.SnapshotInfo{Key: m.Key, SizeBytes: m.SizeBytes, UpdatedAt: m.UpdatedAt.Time().UTC()}
}

func manifestID(sessionID, key string) string { return sessionID + "/" + key }

func chunkID(version string, n int) string { return fmt.Sprintf("%s:%08d", version, n) }

// versionRange selects every chunk of version: ":" sorts right before ";".
func versionRange(version string) bson.D {
	return bson.D{{Key: fID, Value: bson.D{{Key: "$gte", Value: version + ":"}, {Key: "$lt", Value: version + ";"}}}}
}

// idPrefix selects _ids starting with p (an anchored regex, which the _id
// index serves as a range).
func idPrefix(p string) bson.D {
	return bson.D{{Key: fID, Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(p)}}}}
}

func newSnapshotVersion(sessionID, epoch string) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return sessionID + "/" + epoch + "." + hex.EncodeToString(b[:]), nil
}

// newSnapshotEpoch returns a fresh snapshot_epoch value.
func newSnapshotEpoch() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// sessionExists reads the session's _id only.
func (r *Repository) sessionExists(ctx context.Context, sessionID string) error {
	_, err := r.sessionEpoch(ctx, sessionID)
	return err
}

// sessionEpoch reads the session's snapshot_epoch ("" when it has none
// yet): ErrNotFound when the session does not exist or has expired.
func (r *Repository) sessionEpoch(ctx context.Context, sessionID string) (string, error) {
	d, err := r.findOne(ctx, sessionID, bson.D{{Key: fID, Value: 1}, {Key: fSnapshotEpoch, Value: 1}})
	if err != nil {
		return "", err
	}
	if d == nil {
		return "", sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	e, _ := mustField(d, fSnapshotEpoch).(string)
	return e, nil
}

// ensureSessionEpoch returns the session's snapshot_epoch, first giving it
// one if it has none: one read, and on a session's first snapshot one
// guarded update (set only where the field is absent) and, if another
// writer set it first, one more read.
func (r *Repository) ensureSessionEpoch(ctx context.Context, sessionID string) (string, error) {
	e, err := r.sessionEpoch(ctx, sessionID)
	if err != nil || e != "" {
		return e, err
	}
	fresh, err := newSnapshotEpoch()
	if err != nil {
		return "", err
	}
	taken := errors.New("snapshot epoch set by another writer")
	err = r.layout.(*embeddedLayout).apply(ctx, sessionID, "", write{
		cond:     bson.D{{Key: fSnapshotEpoch, Value: bson.D{{Key: "$exists", Value: false}}}},
		set:      bson.D{{Key: fSnapshotEpoch, Value: fresh}},
		grow:     int64(len(fSnapshotEpoch) + len(fresh) + 7),
		mismatch: func(*docState) error { return taken },
	})
	switch {
	case err == nil:
		return fresh, nil
	case errors.Is(err, taken):
		if e, err = r.sessionEpoch(ctx, sessionID); err == nil && e == "" {
			err = sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: snapshot epoch not set: %w", session.ErrConflict))
		}
		return e, err
	default:
		return "", err
	}
}

// epochManifests selects the manifests a holder of the session with epoch
// sees: those of its epoch and those written before epochs existed.
func epochManifests(epoch string) bson.D {
	legacy := bson.D{{Key: "epoch", Value: bson.D{{Key: "$exists", Value: false}}}}
	if epoch == "" {
		return legacy
	}
	return bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "epoch", Value: epoch}}, legacy}}}
}

// visible reports whether a manifest belongs to the holder with epoch.
func (m *snapshotManifest) visible(epoch string) bool { return m.Epoch == "" || m.Epoch == epoch }

// cleanup runs fn on a context detached from ctx's cancellation: removing
// what a failed write left must not be skipped because the caller gave up.
func (r *Repository) cleanup(ctx context.Context, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultOperationTimeout)
	defer cancel()
	return fn(cctx)
}

func (r *Repository) deleteChunks(ctx context.Context, version string) error {
	if _, err := r.snapshotChunks().DeleteMany(ctx, versionRange(version)); err != nil {
		return fmt.Errorf("mongo: delete snapshot chunks: %w", err)
	}
	return nil
}

// PutSnapshot implements session.SnapshotStore: chunks of a new version,
// then one manifest switch, then the old version's chunks are deleted.
func (r *Repository) PutSnapshot(ctx context.Context, sessionID, key string, data []byte) (*session.SnapshotInfo, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	norm, err := sessiondriver.NormalizeSnapshotKey(key)
	if err != nil {
		return nil, sessiondriver.SessionError(sessionID, err)
	}
	if err := sessiondriver.CheckSnapshotSize(int64(len(data)), r.opts.MaxSnapshotBytes); err != nil {
		return nil, sessiondriver.SnapshotError(sessionID, norm, err)
	}
	now := msTime(r.opts.Now())
	var info *session.SnapshotInfo
	err = r.write(ctx, sessionID, func(ctx context.Context) error {
		var err error
		info, err = r.putSnapshot(ctx, sessionID, norm, data, now)
		return err
	})
	if err != nil {
		return nil, sessiondriver.SnapshotError(sessionID, norm, err)
	}
	return info, nil
}

func (r *Repository) putSnapshot(ctx context.Context, sessionID, key string, data []byte, now time.Time) (*session.SnapshotInfo, error) {
	epoch, err := r.ensureSessionEpoch(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	version, err := newSnapshotVersion(sessionID, epoch)
	if err != nil {
		return nil, err
	}
	size := r.snapshotChunkBytes()
	var docs []any
	for n, off := 0, 0; off < len(data); n, off = n+1, off+size {
		end := min(off+size, len(data))
		// The chunk aliases data: the driver encodes it once, into the
		// wire message; nothing else copies the bytes.
		docs = append(docs, bson.D{{Key: fID, Value: chunkID(version, n)},
			{Key: "data", Value: bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: data[off:end]}}})
	}
	if len(docs) > 0 {
		if _, err := r.snapshotChunks().InsertMany(ctx, docs); err != nil {
			_ = r.cleanup(ctx, func(ctx context.Context) error { return r.deleteChunks(ctx, version) })
			return nil, fmt.Errorf("mongo: insert snapshot chunks: %w", err)
		}
	}
	m := snapshotManifest{ID: manifestID(sessionID, key), SessionID: sessionID, Epoch: epoch, Key: key, Version: version,
		SizeBytes: int64(len(data)), Chunks: len(docs), UpdatedAt: bsonTime(now)}
	var old snapshotManifest
	flip := func() error {
		return r.snapshotManifests().FindOneAndReplace(ctx, bson.D{{Key: fID, Value: m.ID}}, m,
			options.FindOneAndReplace().SetUpsert(true).SetReturnDocument(options.Before)).Decode(&old)
	}
	err = flip()
	if driver.IsDuplicateKeyError(err) {
		// Two first writes of one key both tried to insert; the other's
		// insert won, so this one is now a plain replace.
		err = flip()
	}
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		old = snapshotManifest{}
	case err != nil:
		// The switch may or may not have happened: delete the new chunks
		// only if the manifest does not point at them.
		_ = r.cleanup(ctx, func(ctx context.Context) error {
			var cur snapshotManifest
			ferr := r.snapshotManifests().FindOne(ctx, bson.D{{Key: fID, Value: m.ID}}).Decode(&cur)
			if ferr == nil && cur.Version == version {
				return nil
			}
			return r.deleteChunks(ctx, version)
		})
		return nil, fmt.Errorf("mongo: switch snapshot manifest: %w", err)
	}
	if old.Version != "" && old.Version != version {
		if err := r.cleanup(ctx, func(ctx context.Context) error { return r.deleteChunks(ctx, old.Version) }); err != nil {
			return nil, err
		}
	}
	// A DeleteSession (or an expiry's removal) that ran since the epoch
	// was read has already deleted the session's snapshots: remove what
	// this write added, which no later holder of the id can see.
	if cur, err := r.sessionEpoch(ctx, sessionID); err != nil || cur != epoch {
		if err == nil || errors.Is(err, session.ErrNotFound) {
			_ = r.cleanup(ctx, func(ctx context.Context) error { return r.deleteEpochSnapshots(ctx, sessionID, epoch) })
			err = sessiondriver.SessionError(sessionID, session.ErrNotFound)
		}
		return nil, err
	}
	info := m.info()
	return &info, nil
}

// GetSnapshot implements session.SnapshotStore: the manifest, then its
// version's chunks in order, again from the manifest when a writer
// replaced the version in between.
func (r *Repository) GetSnapshot(ctx context.Context, sessionID, key string) (*session.Snapshot, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	norm, err := sessiondriver.NormalizeSnapshotKey(key)
	if err != nil {
		return nil, sessiondriver.SessionError(sessionID, err)
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	snap, err := r.getSnapshot(ctx, sessionID, norm)
	if err != nil {
		return nil, r.fail(sessiondriver.SnapshotError(sessionID, norm, err))
	}
	return snap, nil
}

func (r *Repository) getSnapshot(ctx context.Context, sessionID, key string) (*session.Snapshot, error) {
	for range snapshotReadTries {
		var m snapshotManifest
		err := r.snapshotManifests().FindOne(ctx, bson.D{{Key: fID, Value: manifestID(sessionID, key)}}).Decode(&m)
		if errors.Is(err, driver.ErrNoDocuments) {
			if err := r.sessionExists(ctx, sessionID); err != nil {
				return nil, err
			}
			return nil, errNoSnapshot
		}
		if err != nil {
			return nil, fmt.Errorf("mongo: find snapshot manifest: %w", err)
		}
		data, complete, err := r.readChunks(ctx, &m)
		if err != nil {
			return nil, err
		}
		if complete {
			// The session itself may have expired (its snapshots stay until
			// the sweeper removes them), or the manifest may be a previous
			// holder's of the id: one more lookup by _id.
			epoch, err := r.sessionEpoch(ctx, sessionID)
			if err != nil {
				return nil, err
			}
			if !m.visible(epoch) {
				return nil, errNoSnapshot
			}
			return &session.Snapshot{SnapshotInfo: m.info(), Data: data}, nil
		}
	}
	return nil, fmt.Errorf("mongo: snapshot replaced %d times while it was read", snapshotReadTries)
}

// readChunks reads m's chunks into one buffer of m.SizeBytes. complete is
// false when chunks are missing or of the wrong size: the version was
// replaced and deleted meanwhile.
func (r *Repository) readChunks(ctx context.Context, m *snapshotManifest) (data []byte, complete bool, err error) {
	data = make([]byte, 0, m.SizeBytes)
	if m.Chunks == 0 {
		return data, m.SizeBytes == 0, nil
	}
	cur, err := r.snapshotChunks().Find(ctx, versionRange(m.Version), options.Find().SetSort(bson.D{{Key: fID, Value: 1}}))
	if err != nil {
		return nil, false, fmt.Errorf("mongo: find snapshot chunks: %w", err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	n := 0
	for cur.Next(ctx) {
		id, _ := cur.Current.Lookup(fID).StringValueOK()
		_, b, ok := cur.Current.Lookup("data").BinaryOK()
		if !ok || id != chunkID(m.Version, n) || int64(len(data)+len(b)) > m.SizeBytes {
			return nil, false, nil
		}
		data = append(data, b...)
		n++
	}
	if err := cur.Err(); err != nil {
		return nil, false, fmt.Errorf("mongo: read snapshot chunks: %w", err)
	}
	return data, n == m.Chunks && int64(len(data)) == m.SizeBytes, nil
}

// DeleteSnapshot implements session.SnapshotStore: the manifest goes in one
// findOneAndDelete, then its chunks.
func (r *Repository) DeleteSnapshot(ctx context.Context, sessionID, key string) error {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return err
	}
	norm, err := sessiondriver.NormalizeSnapshotKey(key)
	if err != nil {
		return sessiondriver.SessionError(sessionID, err)
	}
	err = r.write(ctx, sessionID, func(ctx context.Context) error {
		if err := r.sessionExists(ctx, sessionID); err != nil {
			return err
		}
		var old snapshotManifest
		err := r.snapshotManifests().FindOneAndDelete(ctx, bson.D{{Key: fID, Value: manifestID(sessionID, norm)}}).Decode(&old)
		if errors.Is(err, driver.ErrNoDocuments) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mongo: delete snapshot manifest: %w", err)
		}
		return r.cleanup(ctx, func(ctx context.Context) error { return r.deleteChunks(ctx, old.Version) })
	})
	if err != nil {
		return sessiondriver.SnapshotError(sessionID, norm, err)
	}
	return nil
}

// ListSnapshots implements session.SnapshotStore: one find over the
// manifests' _id range, sorted by _id (which orders keys, as every _id of
// the session starts with "<sid>/").
func (r *Repository) ListSnapshots(ctx context.Context, sessionID string, q session.SnapshotQuery) (*session.SnapshotPage, error) {
	if err := sessiondriver.ValidateSessionID(sessionID); err != nil {
		return nil, err
	}
	q, err := sessiondriver.PrepareSnapshotQuery(q)
	if err != nil {
		return nil, sessiondriver.SessionError(sessionID, err)
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	epoch, err := r.sessionEpoch(ctx, sessionID)
	if err != nil {
		return nil, r.fail(err)
	}
	filter := bson.D{{Key: "$and", Value: bson.A{
		idPrefix(manifestID(sessionID, q.Prefix)),
		bson.D{{Key: fID, Value: bson.D{{Key: "$gt", Value: manifestID(sessionID, q.Cursor)}}}},
		epochManifests(epoch),
	}}}
	cur, err := r.snapshotManifests().Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: fID, Value: 1}}).SetLimit(int64(q.Limit+1)))
	if err != nil {
		return nil, r.fail(sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: list snapshots: %w", err)))
	}
	var ms []snapshotManifest
	if err := cur.All(ctx, &ms); err != nil {
		return nil, r.fail(sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: list snapshots: %w", err)))
	}
	infos := make([]session.SnapshotInfo, 0, len(ms))
	for i := range ms {
		infos = append(infos, ms[i].info())
	}
	return sessiondriver.SnapshotPageOf(infos, q.Limit), nil
}

// deleteSessionSnapshots removes every manifest and chunk of a session.
// Manifests go first, so a reader finds no manifest rather than one
// without chunks.
func (r *Repository) deleteSessionSnapshots(ctx context.Context, sessionID string) error {
	if _, err := r.snapshotManifests().DeleteMany(ctx, idPrefix(sessionID+"/")); err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: delete snapshot manifests: %w", err))
	}
	if _, err := r.snapshotChunks().DeleteMany(ctx, idPrefix(sessionID+"/")); err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: delete snapshot chunks: %w", err))
	}
	return nil
}

// deleteEpochSnapshots removes the manifests and chunks of one holder of
// the id — those of epoch and those written before epochs existed — and
// leaves any other epoch's, which may be a newer holder's. Manifests go
// first, as in deleteSessionSnapshots.
func (r *Repository) deleteEpochSnapshots(ctx context.Context, sessionID, epoch string) error {
	filter := bson.D{{Key: "$and", Value: bson.A{idPrefix(sessionID + "/"), epochManifests(epoch)}}}
	if _, err := r.snapshotManifests().DeleteMany(ctx, filter); err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: delete snapshot manifests: %w", err))
	}
	// Chunk ids: "<sid>/<epoch>.<hex>:<n>", or "<sid>/<24 hex>:<n>" before
	// epochs.
	chunks := "[0-9a-f]{24}:"
	if epoch != "" {
		chunks = "(" + regexp.QuoteMeta(epoch+".") + "|" + chunks + ")"
	}
	filter = bson.D{{Key: fID, Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(sessionID+"/") + chunks}}}}
	if _, err := r.snapshotChunks().DeleteMany(ctx, filter); err != nil {
		return sessiondriver.SessionError(sessionID, fmt.Errorf("mongo: delete snapshot chunks: %w", err))
	}
	return nil
}
