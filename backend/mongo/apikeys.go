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

var _ session.APIKeyStore = (*Repository)(nil)

// APIKeyCollectionSuffix names the collection of API keys: the sessions
// collection's name plus this suffix, in the same database. Keys live
// there, never in a session document, so the Python original's documents
// keep exactly their shape.
const APIKeyCollectionSuffix = "_api_keys"

// apiKeyDoc is one stored API key; _id is the key id.
type apiKeyDoc struct {
	ID              string    `bson:"_id"`
	ApplicationName string    `bson:"application_name"`
	Hash            string    `bson:"hash"`
	Description     string    `bson:"description"`
	CreatedAt       time.Time `bson:"created_at"`
}

func (d *apiKeyDoc) key() *session.APIKey {
	return &session.APIKey{ID: d.ID, ApplicationName: d.ApplicationName, Hash: d.Hash,
		Description: d.Description, CreatedAt: d.CreatedAt.UTC()}
}

func (r *Repository) apiKeys() *driver.Collection {
	return r.coll.Database().Collection(r.opts.Collection + APIKeyCollectionSuffix)
}

// CreateAPIKey implements session.APIKeyStore. The unique index on hash is
// made here, on the first key, rather than with the session indexes: most
// deployments never create a key.
func (r *Repository) CreateAPIKey(ctx context.Context, k *session.APIKey) error {
	p, err := sessiondriver.PrepareAPIKey(k, r.opts.Now())
	if err != nil {
		return err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	coll := r.apiKeys()
	_, err = coll.Indexes().CreateOne(ctx, driver.IndexModel{
		Keys: bson.D{{Key: "hash", Value: 1}}, Options: options.Index().SetUnique(true)})
	if err != nil {
		return r.fail(fmt.Errorf("mongo: index api keys: %w", err))
	}
	doc := apiKeyDoc{ID: p.ID, ApplicationName: p.ApplicationName, Hash: p.Hash, Description: p.Description, CreatedAt: p.CreatedAt}
	if _, err := coll.InsertOne(ctx, doc); err != nil {
		if driver.IsDuplicateKeyError(err) {
			return fmt.Errorf("mongo: api key %q: %w", p.ID, session.ErrAlreadyExists)
		}
		return r.fail(fmt.Errorf("mongo: create api key: %w", err))
	}
	return nil
}

// APIKeyByHash implements session.APIKeyStore.
func (r *Repository) APIKeyByHash(ctx context.Context, hash string) (*session.APIKey, error) {
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var d apiKeyDoc
	err = r.apiKeys().FindOne(ctx, bson.D{{Key: "hash", Value: hash}}).Decode(&d)
	if errors.Is(err, driver.ErrNoDocuments) {
		return nil, fmt.Errorf("mongo: api key: %w", session.ErrNotFound)
	}
	if err != nil {
		return nil, r.fail(fmt.Errorf("mongo: get api key: %w", err))
	}
	return d.key(), nil
}

// ListAPIKeys implements session.APIKeyStore.
func (r *Repository) ListAPIKeys(ctx context.Context) ([]*session.APIKey, error) {
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	cur, err := r.apiKeys().Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, r.fail(fmt.Errorf("mongo: list api keys: %w", err))
	}
	var docs []apiKeyDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, r.fail(fmt.Errorf("mongo: list api keys: %w", err))
	}
	out := make([]*session.APIKey, len(docs))
	for i := range docs {
		out[i] = docs[i].key()
	}
	return out, nil
}

// DeleteAPIKey implements session.APIKeyStore.
func (r *Repository) DeleteAPIKey(ctx context.Context, id string) error {
	if err := sessiondriver.ValidateAPIKeyID(id); err != nil {
		return err
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	res, err := r.apiKeys().DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return r.fail(fmt.Errorf("mongo: delete api key: %w", err))
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("mongo: api key %q: %w", id, session.ErrNotFound)
	}
	return nil
}
