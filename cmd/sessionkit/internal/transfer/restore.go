package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// restoreTimes sets the times the import read back on what it wrote: the
// session's UpdatedAt (which every write under it moved to the import
// time), each agent's (which the Mongo layout moves on every append) and
// each snapshot's, and the session's lineage (which CreateSession never
// records). It runs last, after every other write. A repository without
// session.TimeRestorer keeps the import time: the records are all there,
// only those times differ; but a fork's lineage would be lost, so such an
// import fails (and the partly written session is removed).
func (p *plan) restoreTimes(ctx context.Context, repo session.Repository) error {
	tr, err := session.TimeRestorerOf(repo)
	if errors.Is(err, errors.ErrUnsupported) {
		if p.session.ForkedFrom != nil {
			return fmt.Errorf("session %q: forked_from cannot be restored: %w", p.session.ID, err)
		}
		return nil
	}
	t := session.StoredTimes{UpdatedAt: p.session.UpdatedAt, ForkedFrom: p.session.ForkedFrom}
	for _, a := range p.agents {
		if !a.UpdatedAt.IsZero() {
			if t.Agents == nil {
				t.Agents = map[string]time.Time{}
			}
			t.Agents[a.ID] = a.UpdatedAt
		}
	}
	for _, s := range p.snapshots {
		if !s.UpdatedAt.IsZero() {
			if t.Snapshots == nil {
				t.Snapshots = map[string]time.Time{}
			}
			t.Snapshots[s.Key] = s.UpdatedAt
		}
	}
	return tr.RestoreTimes(ctx, p.session.ID, t)
}
