package driver

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// PrepareQuery validates q and returns it with defaults applied: the limit
// defaults to DefaultPageSize, metadata keys and values are checked and
// normalized, and the cursor is decoded into the position it continues from.
func PrepareQuery(q session.SessionQuery) (session.SessionQuery, *Cursor, error) {
	switch {
	case q.Limit < 0:
		return q, nil, InvalidArgument("limit", "%d is negative", q.Limit)
	case q.Limit == 0:
		q.Limit = session.DefaultPageSize
	case q.Limit > session.MaxPageSize:
		return q, nil, InvalidArgument("limit", "%d is over %d", q.Limit, session.MaxPageSize)
	}
	if !q.CreatedFrom.IsZero() && !q.CreatedTo.IsZero() && !q.CreatedFrom.Before(q.CreatedTo) {
		return q, nil, InvalidArgument("created_at range", "start %s is not before end %s",
			q.CreatedFrom.Format(time.RFC3339), q.CreatedTo.Format(time.RFC3339))
	}
	if q.IDPrefix != "" && (len(q.IDPrefix) > session.MaxIDBytes || strings.ContainsAny(q.IDPrefix, "/\x00")) {
		return q, nil, InvalidArgument("id prefix", "%q is not a valid session id prefix", q.IDPrefix)
	}
	for k := range q.Metadata {
		if err := ValidateMetadataKey(k); err != nil {
			return q, nil, err
		}
	}
	if q.ForkedFrom != "" {
		if ValidateSessionID(q.ForkedFrom) != nil {
			return q, nil, InvalidArgument("forked_from", "%q is not a valid session id", q.ForkedFrom)
		}
	}
	md, err := NormalizeMap("metadata filter", q.Metadata)
	if err != nil {
		return q, nil, err
	}
	q.Metadata = md
	if q.Cursor == "" {
		return q, nil, nil
	}
	c, err := DecodeCursor(q.Cursor)
	if err != nil {
		return q, nil, err
	}
	return q, c, nil
}

// Cursor is the position a ListSessions page ends at: the last session's
// creation time and id. Listing continues with sessions strictly after it in
// newest-first order.
type Cursor struct {
	// CreatedAt is the last session's creation time.
	CreatedAt time.Time `json:"t"`
	// ID is the last session's id.
	ID string `json:"i"`
}

// Encode returns the opaque string form of c.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by Cursor.Encode.
func DecodeCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, InvalidArgument("cursor", "malformed")
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, InvalidArgument("cursor", "malformed")
	}
	return &c, nil
}

// After reports whether s comes after the cursor in newest-first order
// (created earlier, or created at the same time with a smaller id).
func (c *Cursor) After(s *session.Session) bool {
	if c == nil {
		return true
	}
	if !s.CreatedAt.Equal(c.CreatedAt) {
		return s.CreatedAt.Before(c.CreatedAt)
	}
	return s.ID < c.ID
}

// NewestFirst reports whether a sorts before b in ListSessions order.
func NewestFirst(a, b *session.Session) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}
