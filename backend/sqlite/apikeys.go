package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.APIKeyStore = (*Repository)(nil)

// apiKeysSchema is schema version 2: the API keys table, apart from the
// session tables (a key is not part of any session and survives their
// deletion). hash is unique, so a lookup by the presented key's hash is one
// index probe.
const apiKeysSchema = `
CREATE TABLE api_keys (
	id               TEXT    NOT NULL PRIMARY KEY,
	application_name TEXT    NOT NULL,
	hash             TEXT    NOT NULL UNIQUE, -- hex SHA-256 of the key
	description      TEXT    NOT NULL,
	created_at       INTEGER NOT NULL -- Unix microseconds, UTC
) WITHOUT ROWID;
`

// CreateAPIKey implements session.APIKeyStore.
func (r *Repository) CreateAPIKey(ctx context.Context, k *session.APIKey) error {
	p, err := driver.PrepareAPIKey(k, r.now())
	if err != nil {
		return err
	}
	err = r.write(ctx, "create api key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, application_name, hash, description, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			p.ID, p.ApplicationName, p.Hash, p.Description, micros(p.CreatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("api key %q: %w", p.ID, session.ErrAlreadyExists)
		}
		return nil
	})
	return err
}

const apiKeyColumns = `SELECT id, application_name, hash, description, created_at FROM api_keys`

func scanAPIKey(s interface{ Scan(...any) error }) (*session.APIKey, error) {
	var k session.APIKey
	var created int64
	if err := s.Scan(&k.ID, &k.ApplicationName, &k.Hash, &k.Description, &created); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMicros(created)
	return &k, nil
}

// APIKeyByHash implements session.APIKeyStore.
func (r *Repository) APIKeyByHash(ctx context.Context, hash string) (*session.APIKey, error) {
	var out *session.APIKey
	err := r.read(ctx, "get api key", func(tx *sql.Tx) error {
		k, err := scanAPIKey(tx.QueryRowContext(ctx, apiKeyColumns+` WHERE hash = ?`, hash))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("api key: %w", session.ErrNotFound)
		}
		out = k
		return err
	})
	return out, err
}

// ListAPIKeys implements session.APIKeyStore.
func (r *Repository) ListAPIKeys(ctx context.Context) ([]*session.APIKey, error) {
	var out []*session.APIKey
	err := r.read(ctx, "list api keys", func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, apiKeyColumns+` ORDER BY created_at, id`)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			k, err := scanAPIKey(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteAPIKey implements session.APIKeyStore.
func (r *Repository) DeleteAPIKey(ctx context.Context, id string) error {
	if err := driver.ValidateAPIKeyID(id); err != nil {
		return err
	}
	return r.write(ctx, "delete api key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("api key %q: %w", id, session.ErrNotFound)
		}
		return nil
	})
}
