package mongo

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sessionkit/sessionkit/session"
	sessiondriver "github.com/sessionkit/sessionkit/session/driver"
)

var _ session.MessagePagesReader = (*Repository)(nil)

// ListMessagePages implements session.MessagePagesReader in one round
// trip. With Capabilities.Aggregation (MongoDB, mongo-java-server) it is
// one aggregate that projects each page with $slice and the count with
// $size, so the reply holds the requested messages and nothing else.
// Without it (FerretDB v1) — or when the server refuses the aggregate —
// it is one find of the agent's whole message array, cut into pages here:
// still one round trip, but the reply carries every message.
func (r *Repository) ListMessagePages(ctx context.Context, sessionID, agentID string, pages []session.MessagePage) (*session.MessagePages, error) {
	if err := validateIDs(sessionID, agentID); err != nil {
		return nil, err
	}
	if err := sessiondriver.ValidateMessagePages(pages); err != nil {
		return nil, sessiondriver.AgentError(sessionID, agentID, err)
	}
	l, ok := r.layout.(*embeddedLayout)
	if !ok {
		return nil, fmt.Errorf("mongo: layout %T cannot read message pages", r.layout)
	}
	ctx, done, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	out, err := l.listMessagePages(ctx, sessionID, agentID, pages)
	return out, r.fail(err)
}

func (l *embeddedLayout) listMessagePages(ctx context.Context, sessionID, agentID string, pages []session.MessagePage) (*session.MessagePages, error) {
	if l.r.caps.Aggregation {
		out, err := l.aggregatePages(ctx, sessionID, agentID, pages)
		var se driver.ServerError
		if !errors.As(err, &se) {
			return out, err
		}
		// A server that refuses the $slice expression: read the array.
	}
	all, err := l.fetchMessages(ctx, sessionID, agentID, 0, 0, false)
	if err != nil {
		return nil, err
	}
	out := &session.MessagePages{Count: len(all)}
	for _, p := range pages {
		var raw bson.A
		if p.Offset < len(all) {
			raw = all[p.Offset:]
			if p.Limit > 0 && len(raw) > p.Limit {
				raw = raw[:p.Limit]
			}
		}
		msgs, err := l.decodeAll(sessionID, agentID, raw)
		if err != nil {
			return nil, err
		}
		out.Pages = append(out.Pages, msgs)
	}
	l.r.setNextHint(sessionID, agentID, out.Count)
	return out, nil
}

// aggregatePages is one aggregate projecting "p<i>" (page i, by $slice)
// and "n" (the array's $size). Server errors are returned unwrapped, so
// the caller can fall back.
func (l *embeddedLayout) aggregatePages(ctx context.Context, sessionID, agentID string, pages []session.MessagePage) (*session.MessagePages, error) {
	k := "$" + agentKey(agentID)
	arr := bson.D{{Key: "$ifNull", Value: bson.A{k + "." + fMessages, bson.A{}}}}
	proj := bson.D{
		{Key: "agent", Value: k + "." + fAgentData + ".agent_id"},
		{Key: "n", Value: bson.D{{Key: "$size", Value: arr}}},
	}
	size := bson.D{{Key: "$size", Value: arr}}
	// A page is $slice [array, position, n] with the position clamped to
	// the array's size and "to the end" as n = max(1, size): mongo-java-
	// server computes position+n in 32 bits and refuses a position past the
	// end, which MongoDB would answer with an empty page.
	for i, p := range pages {
		var n any = bson.D{{Key: "$max", Value: bson.A{1, size}}}
		if p.Limit > 0 {
			n = p.Limit
		}
		pos := bson.D{{Key: "$min", Value: bson.A{p.Offset, size}}}
		proj = append(proj, bson.E{Key: "p" + strconv.Itoa(i), Value: bson.D{{Key: "$slice", Value: bson.A{arr, pos, n}}}})
	}
	pipeline := bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: fID, Value: sessionID}, l.r.notExpired()}}},
		bson.D{{Key: "$project", Value: proj}},
	}
	cur, err := l.r.coll.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, err
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, sessiondriver.AgentError(sessionID, agentID, fmt.Errorf("mongo: list message pages: %w", err))
	}
	if len(docs) == 0 {
		return nil, sessiondriver.SessionError(sessionID, session.ErrNotFound)
	}
	if _, ok := field(docs[0], "agent"); !ok {
		return nil, sessiondriver.AgentError(sessionID, agentID, session.ErrNotFound)
	}
	n, _ := integer(mustField(docs[0], "n"))
	out := &session.MessagePages{Count: int(n)}
	for i := range pages {
		raw, _ := mustField(docs[0], "p"+strconv.Itoa(i)).(bson.A)
		msgs, err := l.decodeAll(sessionID, agentID, raw)
		if err != nil {
			return nil, err
		}
		out.Pages = append(out.Pages, msgs)
	}
	l.r.setNextHint(sessionID, agentID, out.Count)
	return out, nil
}

// decodeAll decodes message array elements in array order.
func (l *embeddedLayout) decodeAll(sessionID, agentID string, raw bson.A) ([]*session.Message, error) {
	out := make([]*session.Message, 0, len(raw))
	for _, e := range raw {
		m, err := l.decode(sessionID, agentID, e)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
