package server

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Bounds of GET /api/stats. One request reads at most maxStatsSessions
// sessions (plus their feedback and guardrail events), whatever the store
// holds, so the search page's charts cannot turn into a full scan.
const (
	// maxStatsDays is the widest from..to range, both days included.
	maxStatsDays = 92
	// defaultStatsDays is the range when from is not given.
	defaultStatsDays = 30
	// maxStatsSessions caps the sessions scanned; past it the answer says
	// truncated.
	maxStatsSessions = 5000
	statsDate        = "2006-01-02"
)

// statsTTL is how long a stats answer is reused. The viewer asks again on
// every search; within this window it gets the same counts instead of
// another scan of up to maxStatsSessions sessions, so a session written
// meanwhile shows up at most this late.
const statsTTL = 30 * time.Second

// maxStatsCached bounds the cache: queries are (application, from, to), and
// a client naming many of them only evicts other entries.
const maxStatsCached = 64

// statsCache keeps recent stats answers for statsTTL. Answers are shared,
// never modified after put.
type statsCache struct {
	now     func() time.Time
	mu      sync.Mutex
	entries map[statsQuery]statsEntry
}

type statsEntry struct {
	out     *statsResponse
	expires time.Time
}

func newStatsCache(now func() time.Time) *statsCache {
	return &statsCache{now: now, entries: map[statsQuery]statsEntry{}}
}

// get returns the cached answer to q, or nil.
func (c *statsCache) get(q statsQuery) *statsResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[q]
	if !ok || !c.now().Before(e.expires) {
		return nil
	}
	return e.out
}

// put caches out for q, first dropping expired entries and, when still
// full, the one closest to expiry.
func (c *statsCache) put(q statsQuery, out *statsResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= maxStatsCached {
		var oldest statsQuery
		first := true
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
				continue
			}
			if first || e.expires.Before(c.entries[oldest].expires) {
				oldest, first = k, false
			}
		}
		if len(c.entries) >= maxStatsCached {
			delete(c.entries, oldest)
		}
	}
	c.entries[q] = statsEntry{out: out, expires: now.Add(statsTTL)}
}

// statsSeries is one application's counts, one entry per day of
// statsResponse.Days.
type statsSeries struct {
	Application            string `json:"application"`
	Sessions               []int  `json:"sessions"`
	FeedbackUp             []int  `json:"feedback_up"`
	FeedbackDown           []int  `json:"feedback_down"`
	GuardrailInterventions []int  `json:"guardrail_interventions"`
}

// statsResponse is GET /api/stats.
type statsResponse struct {
	From            string         `json:"from"`
	To              string         `json:"to"`
	Days            []string       `json:"days"`
	Applications    []*statsSeries `json:"applications"`
	SessionsScanned int            `json:"sessions_scanned"`
	Truncated       bool           `json:"truncated"`
}

// statsQuery is the parsed query of GET /api/stats.
type statsQuery struct {
	application string
	from, to    time.Time // UTC midnights, both days included
}

// parseStatsQuery reads application, from and to (YYYY-MM-DD, UTC days).
// to defaults to today, from to defaultStatsDays days before to.
func parseStatsQuery(v map[string][]string, now time.Time) (statsQuery, error) {
	var q statsQuery
	var from, to string
	for key, vals := range v {
		if len(vals) != 1 {
			return q, driver.InvalidArgument(key, "given %d times", len(vals))
		}
		switch key {
		case "application":
			q.application = vals[0]
		case "from":
			from = vals[0]
		case "to":
			to = vals[0]
		default:
			return q, driver.InvalidArgument(key, "unknown stats parameter")
		}
	}
	day := func(name, val string) (time.Time, error) {
		t, err := time.Parse(statsDate, val)
		if err != nil {
			return t, driver.InvalidArgument(name, "%q is not a date (YYYY-MM-DD)", val)
		}
		return t, nil
	}
	var err error
	q.to = now.UTC().Truncate(24 * time.Hour)
	if to != "" {
		if q.to, err = day("to", to); err != nil {
			return q, err
		}
	}
	q.from = q.to.AddDate(0, 0, -(defaultStatsDays - 1))
	if from != "" {
		if q.from, err = day("from", from); err != nil {
			return q, err
		}
	}
	n := int(q.to.Sub(q.from)/(24*time.Hour)) + 1
	switch {
	case n < 1:
		return q, driver.InvalidArgument("from", "%s is after to %s", q.from.Format(statsDate), q.to.Format(statsDate))
	case n > maxStatsDays:
		return q, driver.InvalidArgument("from", "the range is %d days, at most %d", n, maxStatsDays)
	}
	return q, nil
}

// getStats is GET /api/stats: per application and per UTC day, the sessions
// created that day and the feedback up and down and guardrail interventions
// those sessions hold. Everything is counted on its session's creation day,
// not its own timestamp: the scan is bounded by creation time, so feedback
// given later on an older session would otherwise go missing from the
// range that holds it. An API key sees its own application only.
func (s *Server) getStats(w http.ResponseWriter, r *http.Request) {
	if !s.search.allow(clientKey(s.clientIP(r))) {
		s.writeError(w, r, errSearchLimited)
		return
	}
	q, err := parseStatsQuery(r.URL.Query(), s.opts.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p := principalOf(r.Context()); p.role == roleApplication {
		if q.application != "" && q.application != p.application {
			s.writeError(w, r, errForbidden)
			return
		}
		q.application = p.application
	}
	out := s.stats.get(q)
	if out == nil {
		if out, err = s.aggregate(r.Context(), q, session.MaxPageSize, maxStatsSessions); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.stats.put(q, out)
	}
	writeJSON(w, http.StatusOK, out)
}

// aggregate pages through the sessions created in q's range, pageSize at a
// time and at most maxSessions of them, and counts them per application and
// day.
func (s *Server) aggregate(ctx context.Context, q statsQuery, pageSize, maxSessions int) (*statsResponse, error) {
	end := q.to.AddDate(0, 0, 1)
	n := int(end.Sub(q.from) / (24 * time.Hour))
	out := &statsResponse{From: q.from.Format(statsDate), To: q.to.Format(statsDate),
		Days: make([]string, n), Applications: []*statsSeries{}}
	for i := range out.Days {
		out.Days[i] = q.from.AddDate(0, 0, i).Format(statsDate)
	}
	index := func(t time.Time) int {
		t = t.UTC()
		if t.Before(q.from) || !t.Before(end) {
			return -1
		}
		return int(t.Sub(q.from) / (24 * time.Hour))
	}
	series := map[string]*statsSeries{}
	get := func(app string) *statsSeries {
		sr := series[app]
		if sr == nil {
			sr = &statsSeries{Application: app, Sessions: make([]int, n), FeedbackUp: make([]int, n),
				FeedbackDown: make([]int, n), GuardrailInterventions: make([]int, n)}
			series[app] = sr
		}
		return sr
	}

	sq := session.SessionQuery{ApplicationName: q.application, CreatedFrom: q.from, CreatedTo: end,
		Limit: pageSize}
	for {
		page, err := s.repo.ListSessions(ctx, sq)
		if err != nil {
			return nil, err
		}
		sessions := page.Sessions
		if room := maxSessions - out.SessionsScanned; len(sessions) > room {
			sessions, out.Truncated = sessions[:room], true
		}
		type counts struct {
			fb []*session.Feedback
			gr []*session.SessionGuardrailEvent
		}
		found := make([]counts, len(sessions))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		for i, sess := range sessions {
			g.Go(func() error {
				// A session deleted meanwhile counts without its events.
				fb, err := s.repo.ListFeedback(gctx, sess.ID)
				if err != nil && !errors.Is(err, session.ErrNotFound) {
					return err
				}
				gr, err := s.repo.ListGuardrailEvents(gctx, sess.ID)
				if err != nil && !errors.Is(err, session.ErrNotFound) {
					return err
				}
				found[i] = counts{fb, gr}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for i, sess := range sessions {
			d := index(sess.CreatedAt)
			if d < 0 {
				continue // a store that filters loosely
			}
			sr := get(sess.ApplicationName)
			sr.Sessions[d]++
			for _, f := range found[i].fb {
				switch f.Rating {
				case session.RatingUp:
					sr.FeedbackUp[d]++
				case session.RatingDown:
					sr.FeedbackDown[d]++
				}
			}
			sr.GuardrailInterventions[d] += len(found[i].gr)
		}
		out.SessionsScanned += len(sessions)
		if out.Truncated || page.NextCursor == "" {
			break
		}
		if out.SessionsScanned == maxSessions {
			out.Truncated = true
			break
		}
		sq.Cursor = page.NextCursor
	}
	for _, sr := range series {
		out.Applications = append(out.Applications, sr)
	}
	sort.Slice(out.Applications, func(i, j int) bool {
		return out.Applications[i].Application < out.Applications[j].Application
	})
	return out, nil
}
